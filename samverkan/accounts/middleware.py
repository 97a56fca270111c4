"""Log-in policy on every request: an absolute session lifetime and the second factor.

Sessions already end after ``SESSION_COOKIE_AGE`` without a request; ``SAMVERKAN_SESSION_MAX_AGE_SECONDS`` also ends
them that long after the log-in, however busy, so a stolen session cookie stops working within a working day.

A user who needs a second factor (``otp.needs_second_factor``) and has not given one in this session reaches no page
but the log-in, log-out and two-factor pages: every other page sends them to set up an authenticator app or to enter
a code, and the JSON API answers 403. Requests that carry a bearer token are left to the API's token check; tokens
are issued by administrators and never come from a half-logged-in browser session.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_htmx.http import HttpResponseClientRedirect

from samverkan.accounts.otp import has_authenticator, needs_second_factor

LOGIN_AT_SESSION_KEY = "samverkan_login_at"
RENEWED_AT_SESSION_KEY = "samverkan_renewed_at"
SESSION_RENEW_SECONDS = 60

# Views an unverified user may reach: the ways in and out, and the pages that carry nothing of the product's data.
OPEN_TO_UNVERIFIED = frozenset(
    {
        "accounts:login",
        "accounts:logout",
        "accounts:otp_verify",
        "accounts:otp_enrol",
        "set_language",
        "health",
    }
)
# Views that need no log-in at all, where an ended session simply continues as anonymous.
OPEN_TO_ANONYMOUS = frozenset({"accounts:login", "accounts:logout", "set_language", "health"})


def remember_login_time(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """On every log-in (``user_logged_in``): the session's lifetime counts from now."""
    if request is not None and hasattr(request, "session"):
        request.session[LOGIN_AT_SESSION_KEY] = int(time.time())


def second_factor_url(request: HttpRequest) -> str:
    """Where an unverified user goes: setting up the app first, then entering codes; back here afterwards."""
    name = "accounts:otp_verify" if has_authenticator(request.user) else "accounts:otp_enrol"
    url = reverse(name)
    if request.method in ("GET", "HEAD"):
        url += "?" + urlencode({"next": request.get_full_path()})
    return url


def _navigate(request: HttpRequest, url: str) -> HttpResponse:
    # An htmx request would swap the log-in page into a fragment of the page; it must load as a whole page instead.
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


def _is_api(request: HttpRequest) -> bool:
    match = request.resolver_match
    return match is not None and "api" in match.namespaces


class LoginPolicyMiddleware:
    """Ends sessions older than the absolute limit and holds unverified users at the second factor.

    Goes right after ``django_otp.middleware.OTPMiddleware``, which tells whether the session is verified.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Sessions from before this policy have no log-in time; their lifetime counts from their first request.
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated:
            now = int(time.time())
            if LOGIN_AT_SESSION_KEY not in session:
                session[LOGIN_AT_SESSION_KEY] = now
            # The idle limit (SESSION_COOKIE_AGE) runs from the session's last save. Saving on every request would
            # write the session row for each map tile and htmx fragment, and a request still running when the user
            # logs out elsewhere would then fail; renewing once a minute keeps the limit to the minute.
            elif now - session.get(RENEWED_AT_SESSION_KEY, 0) >= SESSION_RENEW_SECONDS:
                session[RENEWED_AT_SESSION_KEY] = now
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or request.path.startswith(settings.STATIC_URL):
            return None
        view_name = request.resolver_match.view_name if request.resolver_match else ""
        if self._session_too_old(request):
            logout(request)
            if view_name in OPEN_TO_ANONYMOUS or _is_api(request):
                # The API answers the now anonymous request itself (401).
                return None
            hours = max(1, settings.SAMVERKAN_SESSION_MAX_AGE_SECONDS // 3600)
            messages.info(
                request,
                ngettext(
                    "You were logged out %(hours)d hour after logging in. Please log in again.",
                    "You were logged out %(hours)d hours after logging in. Please log in again.",
                    hours,
                )
                % {"hours": hours},
            )
            if request.method in ("GET", "HEAD"):
                return _navigate(request, redirect_to_login(request.get_full_path())["Location"])
            return _navigate(request, resolve_url(settings.LOGIN_URL))
        if view_name in OPEN_TO_UNVERIFIED or not needs_second_factor(user) or user.is_verified():
            return None
        if _is_api(request):
            if request.headers.get("Authorization", "").lower().startswith("bearer "):
                # Only the token may authenticate this request, not the unverified session beside it.
                request.user = AnonymousUser()
                return None
            return JsonResponse(
                {"detail": _("Two-factor log-in is required. Log in again in the browser and enter your code.")},
                status=403,
            )
        return _navigate(request, second_factor_url(request))

    @staticmethod
    def _session_too_old(request: HttpRequest) -> bool:
        started = request.session.get(LOGIN_AT_SESSION_KEY)
        return started is not None and time.time() - started > settings.SAMVERKAN_SESSION_MAX_AGE_SECONDS
