"""Production settings, security headers, rate limits, upload checks, the health endpoint and structured logs."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.test import Client
from django.urls import reverse

from samverkan.core.csp import style_hashes
from samverkan.core.logging import JsonFormatter

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


def production_env(**more: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL", "SECURE_SSL_REDIRECT"}
    }
    env.update(
        SAMVERKAN_ENV="production",
        SECRET_KEY="k" * 20 + "-production-secret-key-of-enough-length-and-variety-1234567890",
        ALLOWED_HOSTS="samverkan.example.se",
    )
    env.update(more)
    return env


def test_deploy_checks_pass_with_zero_warnings_in_production(tmp_path):
    env = production_env(SAMVERKAN_VAR_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "samverkan.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_deploy_checks_fail_on_a_weak_secret(tmp_path):
    env = production_env(SAMVERKAN_VAR_DIR=str(tmp_path), SECRET_KEY="short")
    result = subprocess.run(
        [sys.executable, "-m", "samverkan.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_secret_key_can_come_from_a_file(tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text("from-a-file-" + "z" * 50 + "\n")
    env = production_env(SAMVERKAN_VAR_DIR=str(tmp_path), SECRET_KEY_FILE=str(key_file))
    env.pop("SECRET_KEY")
    code = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "from-a-file-" + "z" * 50


def test_production_cookies_and_transport(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS >= 31536000,"
        " s.SESSION_COOKIE_HTTPONLY, s.DEBUG)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**production_env(SAMVERKAN_VAR_DIR=str(tmp_path)), "DJANGO_SETTINGS_MODULE": "config.settings"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["True", "True", "True", "True", "True", "False"], result.stderr


def csp_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (part.strip() for part in header.split(";")) if d}


@pytest.mark.parametrize("path", ["/accounts/login/", "/oppet/", "/health/"])
def test_every_page_has_a_strict_policy_and_the_headers(db, path):
    response = Client().get(path, follow=True)
    policy = csp_of(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_pages_carry_no_inline_script_or_style(world):
    client = Client()
    client.force_login(world.users["kommun_samordnare"])
    for name in [
        "situation:dashboard",
        "incidents:list",
        "incidents:create",
        "incidents:map",
        "plan_suggest:suggestions",
    ]:
        html = client.get(reverse(name)).content.decode()
        # Only external scripts, and JSON data blocks (json_script), which browsers never execute.
        assert not re.search(r"<script(?![^>]*\b(src=|type=\"application/json\"))[^>]*>", html), name
        assert "<style" not in html, name
        assert not re.search(r"\son[a-z]+=", html), name
        assert ' style="' not in html, name


def test_the_standalone_document_allows_exactly_its_own_styles(world):
    from samverkan.situation.services import snapshot_save
    from tests.situation.test_snapshots import picture

    user = world.users["kommun_samordnare"]
    snapshot = snapshot_save(user=user, picture=picture(world), assessment="Lugnt.", decisions="Inga.")
    client = Client()
    client.force_login(user)
    response = client.get(reverse("situation:snapshot_document", args=[snapshot.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    hashes = style_hashes(html)
    assert hashes
    policy = csp_of(response)
    assert set(hashes) <= set(policy["style-src"])
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert ' style="' not in html


def test_log_in_attempts_are_rate_limited_with_a_friendly_page(db, settings):
    settings.SAMVERKAN_LOGIN_RATE = "3/300"
    client = Client()
    url = reverse("accounts:login")
    statuses = [client.post(url, {"username": f"u{i}", "password": "wrong-password"}).status_code for i in range(4)]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3] == 429
    response = client.post(url, {"username": "u9", "password": "wrong-password"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    text = response.content.decode()
    assert "För många förfrågningar" in text
    assert "minut" in text


def test_exports_are_rate_limited_per_user(world, settings):
    settings.SAMVERKAN_EXPORT_RATE = "2/600"
    first, second = Client(), Client()
    first.force_login(world.users["kommun_samordnare"])
    second.force_login(world.users["kommun_analytiker"])
    url = reverse("exports:csv")
    assert [first.get(url).status_code for _ in range(3)] == [200, 200, 429]
    # Another user at the same address has a limit of their own.
    assert second.get(url).status_code == 200


def test_api_report_submission_is_rate_limited_with_json(world, settings):
    settings.SAMVERKAN_REPORT_RATE = "1/600"
    client = Client()
    client.force_login(world.users["kommun_rapportor"])
    url = "/api/incidents"
    client.post(url, data={}, content_type="application/json")
    response = client.post(url, data={}, content_type="application/json")
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("data.exe", b"MZ\x90\x00", "kan inte importeras"),
        ("data.xlsx", b"a;b\n1;2\n", "inte vad namnet"),
        ("data.csv", b"a;b\x00\x00\n", "inte vad namnet"),
    ],
)
def test_uploads_are_checked_for_type(world, name, content, message):
    client = Client()
    client.force_login(world.users["kommun_samordnare"])
    response = client.post(
        reverse("imports:new", args=["incidents"]), {"file": SimpleUploadedFile(name, content), "label": "x"}
    )
    assert response.status_code == 200
    assert message in response.content.decode()


def test_uploads_are_limited_in_size(world, settings):
    settings.SAMVERKAN_UPLOAD_MAX_BYTES = 10
    client = Client()
    client.force_login(world.users["kommun_samordnare"])
    response = client.post(
        reverse("imports:new", args=["incidents"]),
        {"file": SimpleUploadedFile("data.csv", b"a;b\n1;2\n3;4\n"), "label": "x"},
    )
    assert "för stor" in response.content.decode()


def test_health_says_ok(db):
    response = Client().get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "migrations": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_health_says_when_the_database_is_down(db, monkeypatch):
    connection = connections["default"]

    def broken(*args, **kwargs):
        raise connection.Database.OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken)
    response = Client().get("/health/")
    monkeypatch.undo()
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


def test_request_log_names_the_route_not_the_ids_or_query(world, caplog):
    client = Client()
    client.force_login(world.users["kommun_samordnare"])
    with caplog.at_level(logging.INFO, logger="samverkan.request"):
        client.get("/reports/987654/?q=Storgatan+12")
    record = next(r for r in caplog.records if r.name == "samverkan.request")
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["route"] == "reports/<int:incident_id>/"
    assert entry["status"] == 404
    assert entry["user_id"] == world.users["kommun_samordnare"].pk
    assert "987654" not in line and "Storgatan" not in line and "kommun_samordnare" not in line


def test_json_formatter_keeps_exceptions():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "failed" and "ValueError: boom" in entry["exception"]
