"""The agreement pages from the outside, and the drafting flow in the browser."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from agreements import services
from agreements.models import Clause
from tests.agreements.conftest import Deal


def _clause(deal: Deal) -> Clause:
    clause = deal.version.clauses.order_by("position").first()
    assert clause is not None
    return clause


@pytest.mark.parametrize(
    ("name", "method", "url", "data", "expected"),
    [
        (
            "list",
            "get",
            lambda d: reverse("agreements:list"),
            {},
            {"observer": 200, "outsider": 200, "anonymous": 302},
        ),
        (
            "detail",
            "get",
            lambda d: reverse("agreements:detail", args=[d.agreement.pk]),
            {},
            {"legal_a": 200, "observer": 200, "outsider": 404, "anonymous": 302},
        ),
        (
            "version",
            "get",
            lambda d: reverse("agreements:version", args=[d.version.pk]),
            {},
            {"legal_a": 200, "observer": 200, "outsider": 404, "anonymous": 302},
        ),
        (
            "new agreement form",
            "get",
            lambda d: reverse("agreements:create", args=[d.world.consortium_a.pk]),
            {},
            {"legal_a": 200, "outsider": 404, "anonymous": 302},
        ),
        (
            "add clause",
            "post",
            lambda d: reverse("agreements:clause-add", args=[d.version.pk]),
            {
                "new-heading": "Audit rights",
                "new-body": "Each party may audit.",
                "new-kind": "general",
                "new-level": "0",
            },
            {"legal_a": 302, "observer": 403, "member": 403, "outsider": 404, "anonymous": 302},
        ),
        (
            "edit clause",
            "post",
            lambda d: reverse("agreements:clause", args=[_clause(d).pk, "edit"]),
            {
                "clause-0-heading": "Definitions",
                "clause-0-body": "Changed",
                "clause-0-kind": "general",
                "clause-0-level": "0",
            },
            # The fields name no clause (no primary key is 0), so legal_a passes the gate and
            # gets the editor back with the refused form (400), as anyone whose input is
            # refused does. (clause-1 was the real clause wherever the ids started at 1.)
            {"legal_a": 400, "observer": 403, "outsider": 404, "anonymous": 302},
        ),
        (
            "move clause",
            "post",
            lambda d: reverse("agreements:clause", args=[_clause(d).pk, "down"]),
            {},
            {"legal_a": 302, "observer": 403, "outsider": 404, "anonymous": 302},
        ),
        (
            "submit",
            "post",
            lambda d: reverse("agreements:version-step", args=[d.version.pk, "submit"]),
            {},
            {"legal_a": 302, "observer": 403, "outsider": 404, "anonymous": 302},
        ),
        (
            "send",
            "post",
            lambda d: reverse("agreements:step", args=[d.agreement.pk, "send"]),
            {},
            {"legal_a": 403, "observer": 403, "outsider": 404, "anonymous": 302},
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_pages_from_outside(
    name: str,
    method: str,
    url: Any,
    data: dict[str, str],
    expected: dict[str, int],
    deal: Deal,
    browser_as: Any,
    unchanged: Any,
) -> None:
    for persona, status in expected.items():
        user = deal.legal_chair_org if persona == "legal_a" else deal.world.persona(persona)
        client = browser_as(user)
        if (status >= 300 and persona != "legal_a") or method == "get":
            with unchanged():
                response = getattr(client, method)(url(deal), data)
        else:
            response = getattr(client, method)(url(deal), data)
        assert response.status_code == status, (name, persona, response.status_code)


def test_drafting_in_the_browser(deal: Deal, browser_as: Any) -> None:
    client = browser_as(deal.legal_chair_org)
    clause = _clause(deal)
    prefix = f"clause-{clause.pk}-"
    client.post(
        reverse("agreements:clause", args=[clause.pk, "edit"]),
        {
            prefix + "heading": "Definitions",
            prefix + "body": "Words mean what they say.",
            prefix + "kind": "general",
            prefix + "level": "0",
        },
    )
    clause.refresh_from_db()
    assert clause.body == "Words mean what they say."
    response = client.post(
        reverse("agreements:clause-add", args=[deal.version.pk]),
        {"template": "confidentiality", "position": "1"},
    )
    assert response.status_code == 302
    page = client.get(reverse("agreements:version", args=[deal.version.pk])).content.decode()
    assert "1. Confidentiality" in page
    assert "Clause inserted from the library." in page
    client.post(reverse("agreements:version-step", args=[deal.version.pk, "submit"]))
    detail = client.get(reverse("agreements:detail", args=[deal.agreement.pk])).content.decode()
    assert "Waiting for: Chair Org, Member Org." in detail
    assert "Approve for Chair Org" in detail
    client.post(
        reverse("agreements:version-step", args=[deal.version.pk, "approve"]), {"comment": "Fine"}
    )
    detail = client.get(reverse("agreements:detail", args=[deal.agreement.pk])).content.decode()
    assert "Waiting for: Member Org." in detail


def test_editing_a_frozen_version_is_refused_with_a_message(deal: Deal, browser_as: Any) -> None:
    services.version_submit(actor=deal.legal_chair_org, version=deal.version)
    client = browser_as(deal.legal_chair_org)
    clause = _clause(deal)
    prefix = f"clause-{clause.pk}-"
    data = {
        prefix + "heading": "X",
        prefix + "body": "Y",
        prefix + "kind": "general",
        prefix + "level": "0",
    }
    response = client.post(
        reverse("agreements:clause", args=[clause.pk, "edit"]), data, follow=True
    )
    assert "only a draft can be edited" in response.content.decode()
    assert _clause(deal).heading == "Definitions"


def test_redline_page(deal: Deal, browser_as: Any) -> None:
    services.version_submit(actor=deal.legal_chair_org, version=deal.version)
    second = services.version_new(actor=deal.legal_chair_org, agreement=deal.agreement)
    services.clause_update(
        actor=deal.legal_chair_org, clause=second.clauses.get(heading="Term"), body="Ten years."
    )
    page = (
        browser_as(deal.world.observer)
        .get(reverse("agreements:redline", args=[second.pk]) + f"?against={deal.version.pk}")
        .content.decode()
    )
    assert "<del>Five</del>" in page
    assert "<ins>Ten</ins>" in page
    assert "1 changed" in page


def test_consortium_page_shows_agreements_and_what_expires(deal: Deal, browser_as: Any) -> None:
    import datetime

    from django.utils import timezone

    from tests.agreements.conftest import execute

    services.agreement_update(
        actor=deal.legal_chair_org,
        agreement=deal.agreement,
        expires_on=timezone.localdate() + datetime.timedelta(days=10),
    )
    execute(deal)
    page = (
        browser_as(deal.world.observer)
        .get(reverse("consortia:detail", args=[deal.world.consortium_a.pk]))
        .content.decode()
    )
    assert "1 executed" in page
    assert "Expiring within 60 days" in page
    assert "Model co-development agreement" in page


def test_a_refused_clause_comes_back_with_what_was_typed(deal: Deal, browser_as: Any) -> None:
    client = browser_as(deal.legal_chair_org)
    before = deal.version.clauses.count()
    response = client.post(
        reverse("agreements:clause-add", args=[deal.version.pk]),
        {"new-heading": "", "new-body": "A long body the lawyer typed.", "new-kind": "general"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "A long body the lawyer typed." in page
    assert 'aria-invalid="true"' in page
    assert deal.version.clauses.count() == before


def test_a_refused_clause_edit_keeps_the_text_in_its_open_editor(
    deal: Deal, browser_as: Any
) -> None:
    clause = _clause(deal)
    prefix = f"clause-{clause.pk}-"
    response = browser_as(deal.legal_chair_org).post(
        reverse("agreements:clause", args=[clause.pk, "edit"]),
        {
            prefix + "heading": "",
            prefix + "body": "A rewrite that is not saved yet.",
            prefix + "kind": "general",
            prefix + "level": "0",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "The clause needs a heading and a body." in page
    assert "A rewrite that is not saved yet." in page
    assert (
        f'<details open><summary>Edit</summary>\n    <form method="post" action="{reverse("agreements:clause", args=[clause.pk, "edit"])}"'
        in page
    )
    assert _clause(deal).body == "Terms used here."


def test_a_clause_edit_the_service_refuses_answers_with_the_reason(
    deal: Deal, browser_as: Any
) -> None:
    services.version_submit(actor=deal.legal_chair_org, version=deal.version)
    clause = _clause(deal)
    prefix = f"clause-{clause.pk}-"
    response = browser_as(deal.legal_chair_org).post(
        reverse("agreements:clause", args=[clause.pk, "edit"]),
        {
            prefix + "heading": "Definitions",
            prefix + "body": "Rewritten after the freeze.",
            prefix + "kind": "general",
            prefix + "level": "0",
        },
    )
    assert response.status_code == 400
    assert "only a draft can be edited" in response.content.decode()
    assert _clause(deal).body == "Terms used here."
