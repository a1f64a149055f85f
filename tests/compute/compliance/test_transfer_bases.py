"""The seeded transfer bases: the EU's adequacy decisions and intra-bloc free movement."""

from __future__ import annotations

import datetime

import pytest

from compute.compliance.models import TransferBasis
from compute.compliance.transfer_data import ADEQUACY_DECISIONS, rows

ADEQUATE = {
    "AD",
    "AR",
    "CA",
    "FO",
    "GG",
    "IL",
    "IM",
    "JP",
    "JE",
    "NZ",
    "KR",
    "CH",
    "GB",
    "US",
    "UY",
}


def test_every_adequacy_decision_is_seeded_from_the_eu(transfer_bases: None) -> None:
    seeded = set(
        TransferBasis.objects.filter(
            kind="adequacy_decision", from_jurisdiction_id="EU"
        ).values_list("to_jurisdiction_id", flat=True)
    )
    assert seeded == ADEQUATE


def test_scopes_are_noted_where_the_decision_is_partial(transfer_bases: None) -> None:
    us = TransferBasis.objects.get(kind="adequacy_decision", to_jurisdiction_id="US")
    assert "Data Privacy Framework" in us.scope_notes
    assert us.valid_from == datetime.date(2023, 7, 10)
    canada = TransferBasis.objects.get(kind="adequacy_decision", to_jurisdiction_id="CA")
    assert "Commercial organisations" in canada.scope_notes


def test_intra_bloc_free_movement(transfer_bases: None) -> None:
    assert set(
        TransferBasis.objects.filter(kind="intra_bloc").values_list(
            "from_jurisdiction_id", "to_jurisdiction_id"
        )
    ) == {("EU", "EU"), ("EEA", "EEA")}


def test_only_known_jurisdictions_are_seeded() -> None:
    assert {row["to_jurisdiction_id"] for row in rows({"EU", "JP"})} == {"JP", "EU"}
    assert rows(set()) == []
    assert len(ADEQUACY_DECISIONS) == len(ADEQUATE)


@pytest.mark.parametrize(
    ("on", "in_force"),
    [(datetime.date(2023, 7, 9), False), (datetime.date(2023, 7, 10), True)],
)
def test_in_force_is_dated(transfer_bases: None, on: datetime.date, in_force: bool) -> None:
    us = TransferBasis.objects.get(kind="adequacy_decision", to_jurisdiction_id="US")
    assert us.in_force(on) is in_force


@pytest.mark.parametrize(
    ("on", "reference"),
    [
        (datetime.date(2025, 12, 26), "Commission Implementing Decision (EU) 2021/1772"),
        (datetime.date(2025, 12, 27), "renewing Decision (EU) 2021/1772"),
        (datetime.date(2031, 12, 26), "renewing Decision (EU) 2021/1772"),
        (datetime.date(2031, 12, 27), None),
    ],
)
def test_the_uk_decision_hands_over_to_its_renewal_and_the_renewal_lapses(
    transfer_bases: None, on: datetime.date, reference: str | None
) -> None:
    """Renewed on 19 December 2025 until 27 December 2031 (migration 0007): one basis holds
    on each day, none after the renewal ends."""
    in_force = [
        basis.reference
        for basis in TransferBasis.objects.filter(kind="adequacy_decision", to_jurisdiction_id="GB")
        if basis.in_force(on)
    ]
    if reference is None:
        assert in_force == []
    else:
        assert len(in_force) == 1
        assert reference in in_force[0]
