"""Two-factor log-in in a real browser: a police officer sets up the app on a phone, keeps the backup codes, logs
out and in again with a code; the pages pass axe and break no content-security rule."""

from __future__ import annotations

import base64

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from tests.e2e.axe import axe_violations, describe
from tests.e2e.conftest import PHONE
from tests.e2e.test_reporting_flow import PASSWORD, assert_fits_the_width, log_out

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def app_code(secret: str, *, step: int = 0) -> str:
    """What the authenticator app shows for the key typed from the page (``step=1``: its next code)."""
    key = secret.replace(" ", "")
    return f"{totp(base64.b32decode(key + '=' * (-len(key) % 8)), drift=step):06d}"


def enter_password(session, username: str) -> None:
    page = session.page
    page.goto(session.url("/accounts/login/"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main form").get_by_role("button", name="Logga in").click()


def test_a_police_officer_sets_up_the_app_and_logs_in_with_a_code(world, open_browser):
    from django_otp.plugins.otp_static.models import StaticToken

    user = world.users["polis_analytiker"]
    session = open_browser(PHONE)
    page = session.page
    found: dict[str, list[dict]] = {}

    enter_password(session, user.username)
    page.wait_for_url(session.url("/accounts/otp/setup/?next=%2F"))
    expect(page.locator("img.otp-qr")).to_be_visible()
    assert page.evaluate("document.querySelector('img.otp-qr').naturalWidth") > 100
    assert_fits_the_width(page)
    found["set-up"] = axe_violations(page)
    secret = page.locator("#otp-secret").inner_text()

    # The field is labelled (axe checks it); ids keep the test independent of the wording.
    page.fill("#id_otp_token", app_code(secret))
    page.click("main form button[type=submit]")
    page.wait_for_url(session.url("/accounts/otp/backup-codes/?next=%2F"))
    codes = page.locator(".backup-codes code").all_inner_texts()
    assert len(codes) == 10
    assert {c.replace(" ", "") for c in codes} == set(
        StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    )
    found["backup codes"] = axe_violations(page)
    page.locator("main a.button-link").click()
    page.wait_for_url(session.url("/"))
    log_out(session, user.username)

    # Next time: password, then a code from the app.
    enter_password(session, user.username)
    page.wait_for_url(session.url("/accounts/otp/?next=%2F"))
    found["code"] = axe_violations(page)
    page.fill("#id_otp_token", "000000")
    page.click("main form button[type=submit]")
    expect(page.locator("main .error")).to_be_visible()
    page.wait_for_timeout(1100)  # the device waits a second after a wrong code
    page.fill("#id_otp_token", app_code(secret, step=1))
    page.click("main form button[type=submit]")
    page.wait_for_url(session.url("/"))

    problems = {name: describe(v) for name, v in found.items() if v}
    assert not problems, "\n".join(f"{name}:\n{text}" for name, text in problems.items())
    assert session.problems.items == []
