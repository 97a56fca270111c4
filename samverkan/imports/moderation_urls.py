"""Moderation of public (Open311) requests; included at ``moderation/``."""

from django.urls import path

from samverkan.imports import moderation_views as views

app_name = "moderation"

urlpatterns = [
    path("", views.moderation_list, name="list"),
    path("<int:request_id>/", views.moderation_detail, name="detail"),
    path("<int:request_id>/accept/", views.moderation_accept, name="accept"),
    path("<int:request_id>/reject/", views.moderation_reject, name="reject"),
]
