"""An organisation's admin creates a partner client in Chromium, copies the secret shown once,
and revokes the client; no JavaScript error, no failed request."""

from __future__ import annotations

import os

import pytest

from alliance.partners.models import PartnerClient
from tests.browser.conftest import CHROMIUM, Watched
from tests.conftest import World

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]


def test_admin_creates_and_revokes_a_client(watched: Watched, world: World) -> None:
    page = watched.page
    watched.sign_in("chair")
    page.goto(f"/organisations/{world.org_chair.pk}/")
    page.click("text=API clients")
    page.click("text=New client")
    page.fill("#id_name", "Partner portal")
    page.check(f"input[name=consortia][value='{world.consortium_a.pk}']")
    page.check("input[name=scopes][value='agreements:read']")
    page.check("input[name=scopes][value='usage:write']")
    page.click("button:has-text('Create the client')")
    page.wait_for_selector("#client-secret")
    secret = page.inner_text("#client-secret")
    partner = PartnerClient.objects.get(name="Partner portal")
    assert partner.scopes == ["agreements:read", "usage:write"]
    assert partner.application.client_secret != secret
    page.click("text=API clients")
    assert page.is_visible("table a:has-text('Partner portal')")
    assert secret not in page.content()
    page.click("table a:has-text('Partner portal')")
    page.click("button:has-text('Revoke')")
    page.wait_for_selector(".messages li.success")
    assert "can no longer obtain or use tokens" in page.inner_text(".messages")
    partner.refresh_from_db()
    assert partner.revoked_at is not None
    assert watched.failed == []
