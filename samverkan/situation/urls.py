from django.urls import path

from samverkan.situation import views

app_name = "situation"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("lagesbild/", views.picture, name="picture"),
    path("lagesbild/arlig/", views.yearly, name="yearly"),
    path("lagesbild/spara/", views.picture_save, name="picture_save"),
    path("lagesbild/sparade/", views.snapshot_list, name="snapshots"),
    path("lagesbild/sparade/<int:snapshot_id>/", views.snapshot_detail, name="snapshot"),
    path("lagesbild/sparade/<int:snapshot_id>/dokument/", views.snapshot_document, name="snapshot_document"),
    path("lagesbild/sparade/<int:snapshot_id>/pdf/", views.snapshot_pdf_view, name="snapshot_pdf"),
    path("lagesbild/sparade/<int:snapshot_id>/andra/", views.snapshot_edit, name="snapshot_edit"),
    path("lagesbild/sparade/<int:snapshot_id>/jamfor/<int:other_id>/", views.snapshot_compare, name="snapshot_compare"),
]
