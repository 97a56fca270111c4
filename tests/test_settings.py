"""Production refuses to start without a secret key or with DEBUG on."""

import os
import subprocess
import sys

import pytest

CHECK = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup(); print('ok')"


def run(env_changes):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "SAMVERKAN_ENV", "DATABASE_URL"}}
    env.update(env_changes)
    return subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SAMVERKAN_ENV": "production"}, "SECRET_KEY must be set"),
        ({"SAMVERKAN_ENV": "production", "SECRET_KEY": "x" * 50, "DEBUG": "true"}, "DEBUG must be off"),
        ({"SAMVERKAN_ENV": "staging"}, "SAMVERKAN_ENV must be"),
        ({"DEBUG": "maybe"}, "DEBUG must be true or false"),
    ],
)
def test_refusals(env, message):
    result = run(env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_with_secret_starts():
    result = run({"SAMVERKAN_ENV": "production", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "samverkan.example"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_database_url_selects_postgresql():
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup();"
        "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/test"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "django.db.backends.postgresql"
