"""Redlines between versions: added, removed, moved and edited clauses, word by word."""

from __future__ import annotations

from typing import Any

import pytest

from agreements import services
from agreements.redline import redline, summary, word_diff
from tests.agreements.conftest import Deal


def test_word_diff_keeps_everything_and_marks_changes() -> None:
    parts = word_diff("Each party owns half.", "Each party owns a third, jointly.")
    assert "".join(text for op, text in parts if op != "insert") == "Each party owns half."
    assert (
        "".join(text for op, text in parts if op != "delete") == "Each party owns a third, jointly."
    )
    assert ("delete", "half") in parts
    assert ("insert", "a third") in [(op, text) for op, text in parts] or any(
        op == "insert" and "third" in text for op, text in parts
    )


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("same words", "same words"),
        ("", "all new"),
        ("all gone", ""),
        ("a a a", "a a"),
        ("The Licensee shall pay within 30 days.", "The Licensee shall pay within 60 days."),
        ("one two three", "zero one two three four"),
    ],
)
def test_word_diff_round_trips_around_the_shared_head_and_tail(before: str, after: str) -> None:
    parts = word_diff(before, after)
    assert "".join(text for op, text in parts if op != "insert") == before
    assert "".join(text for op, text in parts if op != "delete") == after
    assert all(text for _, text in parts), "no empty parts"
    assert (before == after) == all(op == "equal" for op, _ in parts)


def test_a_one_word_edit_is_one_delete_and_one_insert() -> None:
    parts = word_diff(
        "The Licensee shall pay within 30 days.", "The Licensee shall pay within 60 days."
    )
    assert parts == [
        ("equal", "The Licensee shall pay within "),
        ("delete", "30"),
        ("insert", "60"),
        ("equal", " days."),
    ]


def test_redline_of_a_new_round(deal: Deal, api_as: Any) -> None:
    services.version_submit(actor=deal.legal_chair_org, version=deal.version)
    second = services.version_new(
        actor=deal.legal_member_org, agreement=deal.agreement, note="Counter"
    )
    clauses = {clause.heading: clause for clause in second.clauses.all()}
    services.clause_move(actor=deal.legal_member_org, clause=clauses["Term"], position=1)
    services.clause_update(
        actor=deal.legal_member_org,
        clause=clauses["Ownership"],
        body="Jointly owned, in equal shares.",
    )
    services.clause_delete(actor=deal.legal_member_org, clause=clauses["Definitions"])
    services.clause_add(
        actor=deal.legal_member_org,
        version=second,
        heading="Liability",
        body="Capped at contributions.",
    )

    changes = redline(
        list(deal.version.clauses.order_by("position")), list(second.clauses.order_by("position"))
    )
    by_heading = {change.heading: change for change in changes}
    assert summary(changes) == {"added": 1, "removed": 1, "changed": 1, "moved": 1, "unchanged": 0}
    assert by_heading["Term"].moved
    assert (
        by_heading["Term"].number_before,
        by_heading["Term"].number_after,
    ) == ("3", "1")
    assert by_heading["Ownership"].status == "changed"
    assert ("insert", ", in equal shares") in [
        tuple(part) for part in by_heading["Ownership"].body_diff
    ]
    assert by_heading["Definitions"].status == "removed"
    assert by_heading["Liability"].status == "added"
    # A removed clause sits after the clause that preceded it in the old version (here: none).
    assert [change.heading for change in changes] == [
        "Definitions",
        "Term",
        "Ownership",
        "Liability",
    ]

    body = (
        api_as(deal.world.observer)
        .get(f"/api/v1/agreement-versions/{second.pk}/redline/?against={deal.version.pk}")
        .json()
    )
    assert body["summary"]["moved"] == 1
    assert {clause["status"] for clause in body["clauses"]} == {
        "unchanged",
        "changed",
        "removed",
        "added",
    }


def test_redline_across_agreements_is_refused(deal: Deal, api_as: Any) -> None:
    from agreements.models import Agreement

    other = services.agreement_create(
        actor=deal.legal_chair_org,
        consortium=deal.world.consortium_a,
        kind="nda",
        title="NDA",
        governing_law=Agreement.objects.get(pk=deal.agreement.pk).governing_law,
    )
    response = api_as(deal.world.observer).get(
        f"/api/v1/agreement-versions/{other.versions.get().pk}/redline/?against={deal.version.pk}"
    )
    assert response.status_code == 400
