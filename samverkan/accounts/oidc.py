"""Single sign-on through a municipal identity provider (OpenID Connect, mozilla-django-oidc); off unless
``SAMVERKAN_OIDC_ENABLED``.

The identity provider only says who someone is. What they may see follows from memberships, which an administrator
grants, so a log-in never creates a user: it finds the one active user whose e-mail address matches the provider's
(verified) address, or it is refused with a message that says why. The second factor is still required by our own
rule (``otp.needs_second_factor``), whatever the provider did: a verified django-otp session comes only from one of
our own devices, so the provider's MFA (its ``amr`` claim) is not taken in its place.
"""

from __future__ import annotations

import logging

import jwt
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from samverkan.accounts.models import User

log = logging.getLogger(__name__)


class MunicipalOIDCBackend(OIDCAuthenticationBackend):
    """Matches the provider's user to an existing, active user by e-mail address; never creates one."""

    def filter_users_by_claims(self, claims):
        email = (claims.get("email") or "").strip()
        if not email:
            return User.objects.none()
        return User.objects.filter(email__iexact=email, is_active=True)

    def verify_claims(self, claims) -> bool:
        # An address the provider has not verified could be anyone's; only an explicit "false" is refused, since
        # many municipal providers issue addresses themselves and leave the claim out.
        return bool((claims.get("email") or "").strip()) and claims.get("email_verified") is not False

    def verify_token(self, token, **kwargs):
        """The token's claims, or None (with a message for the user) when it cannot be trusted.

        mozilla-django-oidc checks the signature, expiry and nonce but not the audience: a token the provider issued
        to another of its clients must not log anyone in here. An expired or otherwise invalid token is a refusal
        like the others, not a server error.
        """
        try:
            payload = super().verify_token(token, **kwargs)
        except (jwt.InvalidTokenError, SuspiciousOperation) as exc:
            return self._refuse(_("The answer from the identity provider could not be verified. Try again."), str(exc))
        audience = payload.get("aud")
        if self.OIDC_RP_CLIENT_ID not in (audience if isinstance(audience, list) else [audience]):
            return self._refuse(
                _("The answer from the identity provider could not be verified. Try again."),
                "the token was issued to another client",
            )
        return payload

    def create_user(self, claims):
        raise SuspiciousOperation("Samverkan does not create users from single sign-on")

    def get_or_create_user(self, access_token, id_token, payload):
        user_info = self.get_userinfo(access_token, id_token, payload)
        if user_info is None:  # a signed answer that did not verify; already refused
            return None
        if not self.verify_claims(user_info):
            return self._refuse(
                _("The identity provider did not give a verified e-mail address, so you could not be logged in."),
                "no verified e-mail address",
            )
        users = list(self.filter_users_by_claims(user_info)[:2])
        if len(users) == 1:
            return users[0]
        if not users:
            return self._refuse(
                _(
                    "There is no Samverkan account with the e-mail address %(email)s. Ask your administrator to "
                    "create one; access is granted in Samverkan, not by the identity provider."
                )
                % {"email": user_info["email"]},
                "no account with that e-mail address",
            )
        return self._refuse(
            _(
                "More than one Samverkan account has the e-mail address %(email)s, so you could not be logged in. "
                "Ask your administrator to correct the accounts."
            )
            % {"email": user_info["email"]},
            "several accounts with that e-mail address",
        )

    def _refuse(self, message: str, reason: str) -> None:
        # The callback view then sends the browser to the log-in page, which shows this message.
        log.warning("single sign-on refused: %s", reason, extra={"event": "oidc_refused"})
        messages.error(self.request, message)
        return None
