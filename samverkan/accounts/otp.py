"""Two-factor log-in: who needs it, and the devices that give it (django-otp).

A second factor is required (``SAMVERKAN_OTP_REQUIRED``, on by default and always in production) for everyone who can
see ``police_restricted`` reports and for administrators. The first factor is the password or, when configured, the
municipal identity provider (OIDC); the second is always one of our own devices, so the rule holds whichever way the
user logged in.

Each user has at most one confirmed TOTP device (an authenticator app) and one static device holding single-use
backup codes. Tokens are checked against one device chosen by the shape of the token (six digits: the app; anything
else: a backup code), never by trying every device, so a wrong app code does not throttle the backup codes. The
devices' own throttling (exponential back-off, ``OTP_TOTP_THROTTLE_FACTOR`` / ``OTP_STATIC_THROTTLE_FACTOR``) stays
on; the views also count every wrong code as a failed log-in for django-axes.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from dataclasses import dataclass

import qrcode
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from samverkan.accounts.access import grants_for, sees_police_restricted
from samverkan.accounts.models import Role, User

BACKUP_CODE_COUNT = 10
TOTP_DEVICE_NAME = "app"
BACKUP_DEVICE_NAME = "backup"


def is_administrator(user: User | AnonymousUser | None) -> bool:
    """Staff, superusers and everyone with an administrator membership."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_staff or user.is_superuser or any(g.role == Role.ADMIN for g in grants_for(user))


def second_factor_applies(user: User | AnonymousUser | None) -> bool:
    """Whether the rule covers ``user``: everyone who can see police-only reports, and administrators."""
    return is_administrator(user) or sees_police_restricted(user)


def needs_second_factor(user: User | AnonymousUser | None) -> bool:
    """Whether ``user`` must confirm the log-in with a second factor before seeing any page."""
    return settings.SAMVERKAN_OTP_REQUIRED and second_factor_applies(user)


def has_authenticator(user: User) -> bool:
    """Whether the user has finished setting up an authenticator app (else they enrol before anything else)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def totp_device_for_enrolment(*, user: User) -> TOTPDevice:
    """The unconfirmed device the user is setting up; the same one on every visit, so a scanned code stays valid."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def totp_secret_text(device: TOTPDevice) -> str:
    """The key as authenticator apps take it when typed in: base32, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_qr_data_uri(device: TOTPDevice) -> str:
    """The device's ``otpauth://`` address as a PNG QR code in a ``data:`` URI (allowed by the CSP's img-src)."""
    code = qrcode.QRCode(box_size=6, border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(device.config_url)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@dataclass(frozen=True)
class Verification:
    """The outcome of checking a code: the device that accepted it, or why none did."""

    device: Device | None = None
    # Set when the device refuses to check codes for now because of earlier wrong ones.
    locked_until: dt.datetime | None = None

    @property
    def wrong_code(self) -> bool:
        return self.device is None and self.locked_until is None


def normalise_token(token: str) -> str:
    # Codes are shown in groups and typed on phones: spaces and hyphens carry no meaning.
    return "".join(token.split()).replace("-", "").lower()


def totp_device_confirm(*, user: User, device_id: int, token: str) -> Verification:
    """Confirm the device being set up with a code from the app; other app devices of the user are removed."""
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update().filter(pk=device_id, user=user, confirmed=False).first()
            if device_id
            else None
        )
        if device is None:
            return Verification()
        result = _verify(device, normalise_token(token))
        if result.device is not None:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    return result


def second_factor_verify(*, user: User, token: str) -> Verification:
    """Check a code from the app or a backup code against the one device it can belong to."""
    token = normalise_token(token)
    if not token:
        return Verification()
    model = TOTPDevice if len(token) == 6 and token.isdigit() else StaticDevice
    with transaction.atomic():
        devices = list(model.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk"))
        result = Verification()
        for device in devices:
            result = _verify(device, token)
            if not result.wrong_code:
                break
    return result


def _verify(device: TOTPDevice | StaticDevice, token: str) -> Verification:
    allowed, extra = device.verify_is_allowed()
    if not allowed:
        return Verification(locked_until=(extra or {}).get("locked_until") or dt.datetime.now(dt.UTC))
    if device.verify_token(token):
        return Verification(device=device)
    return Verification()


def backup_codes_replace(*, user: User) -> list[str]:
    """New single-use backup codes for the user; the old ones stop working. The codes are not kept in clear text
    anywhere else, so the caller shows them once."""
    with transaction.atomic():
        device = StaticDevice.objects.filter(user=user, name=BACKUP_DEVICE_NAME).order_by("pk").first()
        if device is None:
            device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
        StaticDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
        device.throttle_reset()
    return codes


def backup_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def second_factor_remove(*, user: User) -> int:
    """Remove all of the user's devices, who then sets up an app again at the next log-in. Returns how many."""
    with transaction.atomic():
        apps = TOTPDevice.objects.filter(user=user)
        backups = StaticDevice.objects.filter(user=user)
        count = apps.count() + backups.count()
        apps.delete()
        backups.delete()
    return count
