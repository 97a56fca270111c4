import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import ngettext

from samverkan.core import throttle

request_log = logging.getLogger("samverkan.request")


class SwedishByDefaultLocaleMiddleware(LocaleMiddleware):
    """Swedish unless the user chose another language (the language cookie set by the switcher).

    The browser's Accept-Language is ignored on purpose: municipal staff often run English-language browsers, and
    the product's working language is Swedish.
    """

    def process_request(self, request: HttpRequest) -> None:
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


# What is rate-limited, by the URL's name and method: (scope, setting, default). Log-in attempts and reports count
# per client address before log-in and per user after; exports and imports per user.
RATE_LIMITS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("accounts:login", "POST"): ("login", "SAMVERKAN_LOGIN_RATE", "20/300"),
    ("accounts:otp_verify", "POST"): ("login", "SAMVERKAN_LOGIN_RATE", "20/300"),
    ("incidents:create", "POST"): ("report", "SAMVERKAN_REPORT_RATE", "60/600"),
    # django-ninja names a path after its first operation: POST /api/incidents resolves as "api:incidents".
    ("api:incidents", "POST"): ("report", "SAMVERKAN_REPORT_RATE", "60/600"),
    ("imports:new", "POST"): ("import", "SAMVERKAN_IMPORT_RATE", "30/600"),
    ("exports:csv", "GET"): ("export", "SAMVERKAN_EXPORT_RATE", "30/600"),
    ("exports:geojson", "GET"): ("export", "SAMVERKAN_EXPORT_RATE", "30/600"),
    # The map page loads its points from here on every visit and filter change, so it has a limit of its own.
    ("api:incidents_geojson", "GET"): ("map", "SAMVERKAN_MAP_RATE", "300/600"),
    ("situation:snapshot_pdf", "GET"): ("export", "SAMVERKAN_EXPORT_RATE", "30/600"),
    ("plan_agreement:followup_pdf", "GET"): ("export", "SAMVERKAN_EXPORT_RATE", "30/600"),
    ("public:figures_csv", "GET"): ("export", "SAMVERKAN_EXPORT_RATE", "30/600"),
    ("public:figures_geojson", "GET"): ("export", "SAMVERKAN_EXPORT_RATE", "30/600"),
    ("audit:export", "GET"): ("export", "SAMVERKAN_EXPORT_RATE", "30/600"),
}


def too_many_requests(request: HttpRequest, wait: int) -> HttpResponse:
    """429 with Retry-After: JSON for the API, otherwise a page that says when to try again."""
    minutes = max(1, -(-wait // 60))
    message = ngettext(
        "Too many requests. Please wait %(minutes)d minute and try again.",
        "Too many requests. Please wait %(minutes)d minutes and try again.",
        minutes,
    ) % {"minutes": minutes}
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=429)
    else:
        response = render(request, "429.html", {"message": message, "wait": wait}, status=429)
    response["Retry-After"] = str(wait)
    return response


class RateLimitMiddleware:
    """Answers 429 when a client goes over the limit for log-ins, reports, imports or exports (``RATE_LIMITS``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        match = request.resolver_match
        if match is None:
            return None
        rule = RATE_LIMITS.get((match.view_name, request.method or ""))
        if rule is None:
            return None
        scope, setting, default = rule
        user = getattr(request, "user", None)
        identity = f"user:{user.pk}" if user is not None and user.is_authenticated else None
        authorization = request.META.get("HTTP_AUTHORIZATION", "")
        if identity is None and authorization.lower().startswith("bearer "):
            # API clients authenticate in the view, after this runs; their token identifies them (throttle hashes
            # it, so no key is kept in the cache). A made-up token only gets a limit of its own, never more access.
            identity = "token:" + authorization[7:].strip()
        wait = throttle.retry_after(request, scope=scope, setting=setting, default=default, identity=identity)
        if wait is None:
            return None
        request_log.info("rate limited", extra={"event": "rate_limited", "scope": scope})
        return too_many_requests(request, wait)


class RequestLogMiddleware:
    """One structured log line per request, with nothing that identifies a person or a place.

    The path is logged as its route pattern (``reports/<int:incident_id>/``), never with ids or a query string; the
    user as their numeric id.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        if request.path.startswith(("/static/", "/health/")):
            return response
        match = getattr(request, "resolver_match", None)
        user = getattr(request, "user", None)
        route = match.route if match is not None else "(unresolved)"
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        request_log.info(
            "%s /%s %s %.1f ms",
            request.method,
            route,
            response.status_code,
            duration_ms,
            extra={
                "event": "request",
                "method": request.method,
                "route": route,
                "view": match.view_name if match is not None else "",
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": user.pk if user is not None and user.is_authenticated else None,
            },
        )
        return response
