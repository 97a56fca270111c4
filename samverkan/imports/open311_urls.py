"""Open311 GeoReport v2; included at ``open311/v2/``. Every path ends in ``.json`` or ``.xml``."""

from django.urls import re_path

from samverkan.imports import open311

app_name = "open311"

FORMAT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    re_path(r"^discovery" + FORMAT, open311.discovery, name="discovery"),
    re_path(r"^services" + FORMAT, open311.service_list, name="services"),
    re_path(r"^services/(?P<service_code>[\w-]+)" + FORMAT, open311.service_definition, name="service"),
    re_path(r"^requests" + FORMAT, open311.request_list, name="requests"),
    re_path(r"^requests/(?P<service_request_id>[\w-]+)" + FORMAT, open311.request_detail, name="request"),
    # Anything else answers 404 in the GeoReport error format rather than with an HTML page.
    re_path(r"^(?P<path>.*)$", open311.not_found, name="not_found"),
]
