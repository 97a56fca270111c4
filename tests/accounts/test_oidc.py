"""Single sign-on through a municipal identity provider (OpenID Connect), with the provider played by the test: it
signs real ID tokens with its own RSA key and answers the token, user-info and JWKS requests."""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.test import Client
from django.urls import NoReverseMatch, clear_url_caches, include, path, reverse

from samverkan.accounts.models import User

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "samverkan-ystad"
IDP = "https://login.ystad.example"
OIDC_SETTINGS = {
    "OIDC_RP_CLIENT_ID": CLIENT_ID,
    "OIDC_RP_CLIENT_SECRET": "client-secret",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{IDP}/authorize",
    "OIDC_OP_TOKEN_ENDPOINT": f"{IDP}/token",
    "OIDC_OP_USER_ENDPOINT": f"{IDP}/userinfo",
    "OIDC_OP_JWKS_ENDPOINT": f"{IDP}/jwks",
}


class OIDCUrls:
    """The URLs config/urls.py has when single sign-on is on (it decides once, when it is imported)."""

    from config.urls import urlpatterns as _product

    urlpatterns = [path("oidc/", include("mozilla_django_oidc.urls")), *_product]


@dataclass
class Response:
    payload: object
    status_code: int = 200
    headers: dict = field(default_factory=lambda: {"content-type": "application/json"})
    url: str = ""

    def json(self):
        return self.payload

    @property
    def text(self) -> str:
        return json.dumps(self.payload)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}")


class IdentityProvider:
    """Answers the requests mozilla-django-oidc sends: the token exchange (checking the PKCE verifier), the user-info
    and the signing keys."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.claims: dict = {}
        self.id_token_claims: dict = {}
        self.authorization: dict[str, str] = {}
        self.signing_key = self.key

    def authorize(self, location: str) -> None:
        parts = urlsplit(location)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{IDP}/authorize"
        self.authorization = {k: v[0] for k, v in parse_qs(parts.query).items()}

    def id_token(self) -> str:
        now = int(time.time())
        claims = {
            "iss": IDP,
            "aud": CLIENT_ID,
            "sub": "user-1",
            "iat": now,
            "exp": now + 300,
            "nonce": self.authorization["nonce"],
            **self.id_token_claims,
        }
        return jwt.encode(claims, self.signing_key, algorithm="RS256", headers={"kid": "k1"})

    def post(self, url, data=None, **kwargs):
        assert url == f"{IDP}/token"
        assert data["client_id"] == CLIENT_ID and data["code"] == "the-code"
        challenge = base64.urlsafe_b64encode(hashlib.sha256(data["code_verifier"].encode()).digest()).rstrip(b"=")
        assert challenge.decode() == self.authorization["code_challenge"]
        return Response({"access_token": "access", "id_token": self.id_token(), "token_type": "Bearer"})

    def get(self, url, headers=None, **kwargs):
        if url == f"{IDP}/jwks":
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
            return Response({"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]})
        assert url == f"{IDP}/userinfo"
        assert headers == {"Authorization": "Bearer access"}
        return Response(self.claims)


@pytest.fixture
def idp(settings):
    cache.clear()
    settings.SAMVERKAN_OIDC_ENABLED = True
    settings.SAMVERKAN_OIDC_NAME = "Ystads kommun"
    for name, value in OIDC_SETTINGS.items():
        setattr(settings, name, value)
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    settings.OIDC_RP_SCOPES = "openid email"
    settings.OIDC_CREATE_USER = False
    settings.OIDC_USE_PKCE = True
    settings.LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/"
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS,
        "samverkan.accounts.oidc.MunicipalOIDCBackend",
    ]
    settings.ROOT_URLCONF = OIDCUrls
    provider = IdentityProvider()
    with (
        mock.patch("mozilla_django_oidc.auth.requests.post", side_effect=provider.post),
        mock.patch("mozilla_django_oidc.auth.requests.get", side_effect=provider.get),
    ):
        yield provider
    cache.clear()


def single_sign_on(client: Client, provider: IdentityProvider, claims: dict, *, next_url: str = "/reports/"):
    provider.claims = claims
    response = client.get("/oidc/authenticate/", {"next": next_url})
    assert response.status_code == 302
    provider.authorize(response["Location"])
    return client.get("/oidc/callback/", {"code": "the-code", "state": provider.authorization["state"]})


def logged_in_as(client: Client) -> str | None:
    user_id = client.session.get(SESSION_KEY)
    return User.objects.get(pk=user_id).username if user_id else None


def refusal(client: Client, response) -> str:
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    page = client.get(response["Location"])
    return " ".join(str(m) for m in page.context["messages"])


def test_the_log_in_page_offers_single_sign_on_only_when_on(world, idp, settings):
    html = Client().get("/accounts/login/?next=/reports/").content.decode()
    assert (
        'href="/oidc/authenticate/?next=/reports/"' in html or 'href="/oidc/authenticate/?next=%2Freports%2F"' in html
    )
    assert "Ystads kommun" in html
    settings.SAMVERKAN_OIDC_ENABLED = False
    assert "/oidc/" not in Client().get("/accounts/login/").content.decode()


def test_an_existing_user_is_matched_by_e_mail_whatever_the_case(world, idp):
    user = world.users["kommun_samordnare"]
    user.email = "Anna.Svensson@Ystad.se"
    user.save()
    client = Client()
    response = single_sign_on(client, idp, {"email": "anna.svensson@ystad.se", "email_verified": True})
    assert response.status_code == 302 and response["Location"] == "/reports/"
    assert logged_in_as(client) == "kommun_samordnare"
    assert client.get("/reports/").status_code == 200


def test_police_still_give_our_second_factor_even_when_the_provider_did_mfa(world, idp):
    user = world.users["polis_analytiker"]
    user.email = "polis.analytiker@polisen.example"
    user.save()
    idp.id_token_claims = {"amr": ["pwd", "mfa"]}
    client = Client()
    response = single_sign_on(client, idp, {"email": user.email})
    assert logged_in_as(client) == "polis_analytiker"
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp_enrol"))


def test_no_user_is_created_for_an_unknown_address(world, idp):
    users = User.objects.count()
    client = Client()
    response = single_sign_on(client, idp, {"email": "ny.person@ystad.se"})
    assert "ny.person@ystad.se" in refusal(client, response)
    assert logged_in_as(client) is None
    assert User.objects.count() == users


def test_two_users_with_the_address_are_refused(world, idp):
    for name in ("kommun_samordnare", "kommun_analytiker"):
        world.users[name].email = "delad@ystad.se"
        world.users[name].save()
    client = Client()
    response = single_sign_on(client, idp, {"email": "delad@ystad.se"})
    assert "delad@ystad.se" in refusal(client, response)
    assert logged_in_as(client) is None


def test_an_inactive_user_is_refused(world, idp):
    user = world.users["kommun_lasare"]
    user.email = "slutat@ystad.se"
    user.is_active = False
    user.save()
    client = Client()
    response = single_sign_on(client, idp, {"email": "slutat@ystad.se"})
    assert refusal(client, response)
    assert logged_in_as(client) is None


@pytest.mark.parametrize("claims", [{"email": "anna@ystad.se", "email_verified": False}, {"sub": "no-address"}])
def test_an_unverified_or_missing_address_is_refused(world, idp, claims):
    user = world.users["kommun_samordnare"]
    user.email = "anna@ystad.se"
    user.save()
    client = Client()
    response = single_sign_on(client, idp, claims)
    assert refusal(client, response)
    assert logged_in_as(client) is None


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda p: p.id_token_claims.update(nonce="replayed"), id="wrong nonce"),
        pytest.param(lambda p: p.id_token_claims.update(aud="another-client"), id="another audience"),
        pytest.param(lambda p: p.id_token_claims.update(exp=int(time.time()) - 60), id="expired"),
        pytest.param(
            lambda p: setattr(p, "signing_key", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
            id="foreign key",
        ),
    ],
)
def test_a_bad_id_token_logs_nobody_in(world, idp, tamper):
    user = world.users["kommun_samordnare"]
    user.email = "anna@ystad.se"
    user.save()
    tamper(idp)
    client = Client()
    response = single_sign_on(client, idp, {"email": "anna@ystad.se"})
    assert refusal(client, response)
    assert logged_in_as(client) is None


def test_off_by_default_without_routes_or_backend(settings):
    assert settings.SAMVERKAN_OIDC_ENABLED is False
    assert not any("oidc" in backend.lower() for backend in settings.AUTHENTICATION_BACKENDS)
    with pytest.raises(NoReverseMatch):
        reverse("oidc_authentication_init")


def _settings_in_a_fresh_process(env: dict[str, str]) -> subprocess.CompletedProcess:
    # Settings are read once, from the environment, so only a fresh process shows what the variables do.
    code = (
        "import config.settings as s;"
        "print(s.AUTHENTICATION_BACKENDS[-1], 'mozilla_django_oidc' in s.INSTALLED_APPS, s.OIDC_RP_SIGN_ALGO,"
        " s.OIDC_CREATE_USER, s.SAMVERKAN_OIDC_NAME)"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OIDC_", "SAMVERKAN_OIDC"))}
    return subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_the_environment_turns_it_on():
    result = _settings_in_a_fresh_process(
        {"SAMVERKAN_OIDC_ENABLED": "true", "SAMVERKAN_OIDC_NAME": "Ystad-inloggning", **OIDC_SETTINGS}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "samverkan.accounts.oidc.MunicipalOIDCBackend",
        "True",
        "RS256",
        "False",
        "Ystad-inloggning",
    ]


def test_a_missing_setting_is_named():
    env = {"SAMVERKAN_OIDC_ENABLED": "true", **OIDC_SETTINGS}
    del env["OIDC_OP_JWKS_ENDPOINT"]
    result = _settings_in_a_fresh_process(env)
    assert result.returncode != 0
    assert "SAMVERKAN_OIDC_ENABLED needs OIDC_OP_JWKS_ENDPOINT" in result.stderr


def test_the_routes_are_added_only_when_on(settings):
    import config.urls

    def has_routes(module) -> bool:
        return any(str(p.pattern) == "oidc/" for p in module.urlpatterns)

    assert not has_routes(config.urls)
    settings.SAMVERKAN_OIDC_ENABLED = True
    try:
        assert has_routes(importlib.reload(config.urls))
    finally:
        settings.SAMVERKAN_OIDC_ENABLED = False
        importlib.reload(config.urls)
        clear_url_caches()
    assert not has_routes(config.urls)
