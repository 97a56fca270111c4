from django.urls import path

from samverkan.imports import exports

app_name = "exports"

urlpatterns = [
    path("csv/", exports.incidents_csv, name="csv"),
    path("geojson/", exports.incidents_geojson, name="geojson"),
]
