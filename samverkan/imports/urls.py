from django.urls import path

from samverkan.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.import_list, name="list"),
    path("new/<slug:kind>/", views.import_new, name="new"),
    path("<int:record_id>/", views.import_detail, name="detail"),
    path("<int:record_id>/confirm/", views.import_confirm, name="confirm"),
]
