from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client


def test_create_api_token_prints_a_working_token(world):
    out = StringIO()
    call_command("create_api_token", "kommun_samordnare", "gis-klient", stdout=out)
    key = out.getvalue().strip()
    assert Client().get("/api/categories", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200


def test_create_api_token_unknown_user(world):
    with pytest.raises(CommandError, match="No user named"):
        call_command("create_api_token", "ghost", "x")
