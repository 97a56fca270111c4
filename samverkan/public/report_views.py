"""Digital trygghetsvandring: a citizen, without logging in, marks a place in the municipality as unsafe.

The report enters the moderated queue that Open311 uses (``public_request_create``): it is screened for personal
data, waits for a moderator, and is never published as a point.

Abuse. A POST is refused before anything else is done: a body larger than ``MAX_BODY_BYTES`` with 413, and a client
address over ``SAMVERKAN_PUBLIC_REPORT_RATE`` (default 5 posts per 600 s) with 429. Both answers read no session and
touch no database, so a flood costs next to nothing. CSRF is checked after them, since the check reads the body.
A form filled in by a robot is recognised by the honeypot field: it gets the thanks page, and nothing is stored.
"""

from __future__ import annotations

import math
import re

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_safe

from samverkan.core import throttle
from samverkan.imports.models_open311 import TOKEN_ALPHABET, TOKEN_LENGTH, new_token
from samverkan.imports.open311_services import jurisdictions, public_categories, public_request_create
from samverkan.public.forms import COMMENT_MAX_CHARS, HONEYPOT, UnsafePlaceForm
from samverkan.public.selectors import municipality_public

# A real report is well below this: 1,000 characters of comment percent-encoded at most 12 bytes each, plus the
# other fields and the CSRF token.
MAX_BODY_BYTES = 20 * 1024
RATE_SETTING = "SAMVERKAN_PUBLIC_REPORT_RATE"
RATE_DEFAULT = "5/600"
THROTTLE_SCOPE = "public-report"
TOKEN_PARAMETER = "arende"
_TOKEN = re.compile(f"[{TOKEN_ALPHABET}]{{{TOKEN_LENGTH}}}")


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _refused(request: HttpRequest, code: str, *, status: int, heading: str, message: str) -> HttpResponse:
    # Rendered without the request's context processors, which query the database.
    context = {
        "request": request,
        "csrf_token": get_token(request),
        "code": code,
        "heading": heading,
        "message": message,
    }
    return HttpResponse(render_to_string("public/report_refused.html", context), status=status)


def _thanks_url(code: str, token: str) -> str:
    return reverse("public:report_thanks", args=[code]) + "?" + urlencode({TOKEN_PARAMETER: token})


@csrf_exempt  # only here: _report checks CSRF once the cheap refusals are done
@require_http_methods(["GET", "HEAD", "POST"])
def report(request: HttpRequest, code: str) -> HttpResponse:
    if request.method == "POST":
        if _content_length(request) > MAX_BODY_BYTES:
            return _refused(
                request,
                code,
                status=413,
                heading=_("The report is too large"),
                message=_("A comment may be at most %(max)d characters. Shorten it and send again.")
                % {"max": COMMENT_MAX_CHARS},
            )
        wait = throttle.retry_after(request, scope=THROTTLE_SCOPE, setting=RATE_SETTING, default=RATE_DEFAULT)
        if wait is not None:
            minutes = max(1, math.ceil(wait / 60))
            response = _refused(
                request,
                code,
                status=429,
                heading=_("Please wait a little"),
                message=ngettext(
                    "Many reports have been sent from your address in a short time. To keep the service open for "
                    "everyone, please wait %(minutes)d minute and send again.",
                    "Many reports have been sent from your address in a short time. To keep the service open for "
                    "everyone, please wait %(minutes)d minutes and send again.",
                    minutes,
                )
                % {"minutes": minutes},
            )
            response["Retry-After"] = str(wait)
            return response
    return _report(request, code)


@csrf_protect
def _report(request: HttpRequest, code: str) -> HttpResponse:
    if request.method == "POST" and request.POST.get(HONEYPOT):
        # A robot: it sees what a person sees after sending, so it learns nothing; nothing is stored.
        return redirect(_thanks_url(code, new_token()))
    municipality = municipality_public(code)
    accepting = any(m.pk == municipality.pk for m in jurisdictions())
    categories = public_categories(municipality) if accepting else []
    form = UnsafePlaceForm(
        request.POST if request.method == "POST" and accepting else None,
        municipality=municipality,
        categories=categories,
    )
    if form.is_bound and form.is_valid():
        try:
            public_request = public_request_create(
                municipality=municipality,
                category=form.category,
                lat=form.cleaned_data["lat"],
                lon=form.cleaned_data["lon"],
                description=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            # The form checks the same rules first; this answers a change between the check and the write.
            for field, messages in exc.message_dict.items():
                form.add_error({"lat": "lat", "description": "comment"}.get(field), messages)
        else:
            return redirect(_thanks_url(municipality.code, public_request.token))
    context = {
        "municipality": municipality,
        "code": municipality.code,
        "accepting": accepting,
        "form": form,
        "honeypot": HONEYPOT,
        "outline": municipality.geometry,
        "comment_max": COMMENT_MAX_CHARS,
    }
    return render(request, "public/report.html", context)


@never_cache  # the page carries the request's id, which shared caches should not keep
@require_safe
def report_thanks(request: HttpRequest, code: str) -> HttpResponse:
    municipality = municipality_public(code)
    token = request.GET.get(TOKEN_PARAMETER, "")
    if not _TOKEN.fullmatch(token):
        token = ""
    follow_url = ""
    if token:
        path = reverse("open311:request", kwargs={"service_request_id": token, "fmt": "json"})
        follow_url = request.build_absolute_uri(path)
    context = {"municipality": municipality, "code": municipality.code, "token": token, "follow_url": follow_url}
    return render(request, "public/report_thanks.html", context)
