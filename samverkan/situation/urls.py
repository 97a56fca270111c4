from django.urls import path

from samverkan.situation import views

app_name = "situation"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
