from django.urls import path

from samverkan.plan import views

app_name = "plan"

urlpatterns = [
    path("atgarder/", views.measure_list, name="measure_list"),
    path("atgarder/ny/", views.measure_create, name="measure_create"),
    path("atgarder/kalender/", views.measure_calendar, name="measure_calendar"),
    path("atgarder/karta/", views.measure_map, name="measure_map"),
    path("atgarder/karta/geojson/", views.measure_geojson, name="measure_geojson"),
    path("atgarder/<int:measure_id>/", views.measure_detail, name="measure_detail"),
    path("atgarder/<int:measure_id>/andra/", views.measure_edit, name="measure_edit"),
    path("atgarder/<int:measure_id>/status/", views.measure_status, name="measure_status"),
    path("atgarder/<int:measure_id>/aktivitet/", views.activity_add, name="measure_activity_add"),
]
