from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from samverkan.api.api import api
from samverkan.core.views import health

urlpatterns = [
    path("health/", health, name="health"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("accounts/", include("samverkan.accounts.urls")),
    path("imports/", include("samverkan.imports.urls")),
    path("open311/v2/", include("samverkan.imports.open311_urls")),
    path("moderation/", include("samverkan.imports.moderation_urls")),
    path("reports/export/", include("samverkan.imports.export_urls")),
    path("reports/", include("samverkan.incidents.urls")),
    path("plan/forslag/", include("samverkan.plan.suggestion_urls")),
    path("plan/", include("samverkan.plan.evaluation_urls")),
    path("plan/", include("samverkan.plan.urls")),
    path("overenskommelse/", include("samverkan.plan.agreement_urls")),
    path("oppet/", include("samverkan.public.urls")),
    path("granskning/", include("samverkan.audit.urls")),
    path("", include("samverkan.situation.urls")),
]

if settings.SAMVERKAN_OIDC_ENABLED:
    urlpatterns.insert(0, path("oidc/", include("mozilla_django_oidc.urls")))

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
