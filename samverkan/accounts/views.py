"""Log-in, the second factor (setting up an app, entering a code, backup codes, moving to a new phone) and the
password change."""

from __future__ import annotations

from urllib.parse import urlencode

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from samverkan.accounts.forms import AppCodeForm, CodeForm
from samverkan.accounts.otp import (
    Verification,
    backup_codes_left,
    backup_codes_replace,
    has_authenticator,
    needs_second_factor,
    second_factor_remove,
    second_factor_verify,
    totp_device_confirm,
    totp_device_for_enrolment,
    totp_qr_data_uri,
    totp_secret_text,
)

# New backup codes wait here between the page that makes them and the page that shows them, once.
BACKUP_CODES_SESSION_KEY = "samverkan_new_backup_codes"


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if settings.SAMVERKAN_OIDC_ENABLED:
            context["oidc_name"] = settings.SAMVERKAN_OIDC_NAME or _("your organisation's log-in")
        return context


class PasswordChangeView(auth_views.PasswordChangeView):
    # Django keeps this session logged in and ends the user's other sessions (their password hash changed).
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["two_factor"] = needs_second_factor(self.request.user)
        return context


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


def _next_url(request: HttpRequest) -> str:
    """Where to go after the second factor: the page asked for, if it is on this site; else the start page."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _with_next(view_name: str, next_url: str) -> str:
    return reverse(view_name) + "?" + urlencode({"next": next_url})


def _credentials(request: HttpRequest) -> dict[str, str]:
    return {"username": request.user.get_username()}


def _code_refused(request: HttpRequest, form: CodeForm, result: Verification, *, count_failure: bool) -> bool:
    """Explain on the form why the code was not accepted; with ``count_failure``, count it as a failed log-in for
    django-axes. True when that locked the user out."""
    if result.locked_until is not None:
        until = formats.time_format(timezone.localtime(result.locked_until), "H:i:s")
        form.add_error(None, _("Too many wrong codes. Wait until %(time)s and try again.") % {"time": until})
        return False
    form.add_error("otp_token", _("The code is not right. Check it and try again."))
    if not count_failure:
        return False
    user_login_failed.send(sender=__name__, credentials=_credentials(request), request=request)
    return bool(getattr(request, "axes_locked_out", False))


@never_cache
@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    """The second step of the log-in: a code from the app, or a backup code."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    next_url = _next_url(request)
    if not needs_second_factor(user) or user.is_verified():
        return redirect(next_url)
    if not has_authenticator(user):
        return redirect(_with_next("accounts:otp_enrol", next_url))
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        if AxesProxyHandler.is_locked(request, _credentials(request)):
            credentials = _credentials(request)
            logout(request)
            return get_lockout_response(request, None, credentials)
        if form.is_valid():
            result = second_factor_verify(user=user, token=form.cleaned_data["otp_token"])
            if result.device is not None:
                otp_login(request, result.device)
                if isinstance(result.device, StaticDevice):
                    left = backup_codes_left(user)
                    messages.warning(
                        request,
                        ngettext(
                            "You logged in with a backup code. %(count)d backup code is left.",
                            "You logged in with a backup code. %(count)d backup codes are left.",
                            left,
                        )
                        % {"count": left},
                    )
                return redirect(next_url)
            if _code_refused(request, form, result, count_failure=True):
                # Locked out: the half-finished log-in ends, and AxesMiddleware answers with the lock-out page.
                logout(request)
                return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))
    return render(request, "accounts/otp_verify.html", {"form": form, "next": next_url})


@never_cache
@require_http_methods(["GET", "POST"])
def otp_enrol(request: HttpRequest) -> HttpResponse:
    """Setting up the authenticator app: scan the QR code (or type the key), confirm with a code."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    next_url = _next_url(request)
    if not needs_second_factor(user) or has_authenticator(user):
        # Nothing to set up; the code page lets them through or asks for a code from the app they have.
        return redirect(_with_next("accounts:otp_verify", next_url))
    device = totp_device_for_enrolment(user=user)
    form = AppCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = totp_device_confirm(user=user, device_id=device.pk, token=form.cleaned_data["otp_token"])
        if result.device is not None:
            otp_login(request, result.device)
            request.session[BACKUP_CODES_SESSION_KEY] = backup_codes_replace(user=user)
            return redirect(_with_next("accounts:otp_backup_codes", next_url))
        _code_refused(request, form, result, count_failure=False)
    context = {
        "form": form,
        "next": next_url,
        "qr_code": totp_qr_data_uri(device),
        "secret": totp_secret_text(device),
    }
    return render(request, "accounts/otp_enrol.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def otp_backup_codes(request: HttpRequest) -> HttpResponse:
    """New backup codes, shown once; or how many are left, with a button that makes new ones."""
    user = request.user
    next_url = _next_url(request)
    if not needs_second_factor(user):
        return redirect(next_url)
    if request.method == "POST":
        request.session[BACKUP_CODES_SESSION_KEY] = backup_codes_replace(user=user)
        return redirect(_with_next("accounts:otp_backup_codes", next_url))
    codes = request.session.pop(BACKUP_CODES_SESSION_KEY, None)
    context = {"codes": codes, "left": backup_codes_left(user), "next": next_url}
    return render(request, "accounts/otp_backup_codes.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def otp_reset(request: HttpRequest) -> HttpResponse:
    """Moving to a new phone: confirm with a current code, remove the devices, set up the new app at once."""
    user = request.user
    if not needs_second_factor(user):
        return redirect(resolve_url(settings.LOGIN_REDIRECT_URL))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = second_factor_verify(user=user, token=form.cleaned_data["otp_token"])
        if result.device is not None:
            second_factor_remove(user=user)
            request.session.pop(DEVICE_ID_SESSION_KEY, None)
            messages.info(request, _("The old app and backup codes no longer work. Set up the new app now."))
            return redirect("accounts:otp_enrol")
        _code_refused(request, form, result, count_failure=False)
    return render(request, "accounts/otp_reset.html", {"form": form})
