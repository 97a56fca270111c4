"""The public site under /oppet/: no log-in, aggregates only. Each part has its own URL module."""

from django.urls import include, path

app_name = "public"

urlpatterns = [
    path("", include("samverkan.public.pages_urls")),
    path("", include("samverkan.public.aggregate_urls")),
    path("", include("samverkan.public.report_urls")),
]
