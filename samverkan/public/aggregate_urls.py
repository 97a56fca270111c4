from django.urls import path

from samverkan.public import aggregate_views as views

urlpatterns = [
    path("metod/", views.method, name="method"),
    path("<str:code>/siffror/", views.figures, name="figures"),
    path("<str:code>/siffror.csv", views.figures_csv, name="figures_csv"),
    path("<str:code>/siffror.geojson", views.figures_geojson, name="figures_geojson"),
]
