"""The project's URLs plus the Open311 API and the moderation pages, as config/urls.py will include them."""

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("open311/v2/", include("samverkan.imports.open311_urls")),
    path("moderation/", include("samverkan.imports.moderation_urls")),
    *project_urlpatterns,
]
