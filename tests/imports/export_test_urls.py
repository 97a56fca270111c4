"""The project's URLs plus the exports, for tests that run before config/urls.py includes them."""

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

urlpatterns = list(project_urlpatterns)
if not any(getattr(pattern, "namespace", None) == "exports" for pattern in urlpatterns):
    urlpatterns.insert(0, path("reports/export/", include("samverkan.imports.export_urls")))
