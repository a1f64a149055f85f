"""Optimistic concurrency on a draft through the API: clauses are edited as part of their
version, so If-Match carries the version's ETag (alliance.conditional)."""

from __future__ import annotations

from typing import Any

from tests.agreements.conftest import Deal

API = "/api/v1"


def test_two_editors_of_one_draft_the_second_is_told_before_overwriting(
    deal: Deal, api_as: Any, unchanged: Any
) -> None:
    """Clauses are edited as part of their version: If-Match carries the version's ETag, so
    an editor who missed a colleague's change to any clause of the draft gets 412."""
    first, second = api_as(deal.legal_chair_org), api_as(deal.legal_chair_org)
    version_url = f"{API}/agreement-versions/{deal.version.pk}/"
    [one, two, *_] = deal.version.clauses.order_by("position")
    read = first.get(version_url)
    tag = read.headers["ETag"]
    assert second.get(version_url).headers["ETag"] == tag
    edited = first.patch(
        f"{API}/clauses/{one.pk}/", {"body": "Edited by the first"}, headers={"If-Match": tag}
    )
    assert edited.status_code == 200, edited.content
    assert edited.headers["ETag"] == first.get(version_url).headers["ETag"] != tag
    with unchanged():
        stale = second.patch(
            f"{API}/clauses/{two.pk}/", {"body": "Edited by the second"}, headers={"If-Match": tag}
        )
    assert stale.status_code == 412
    retried = second.patch(
        f"{API}/clauses/{two.pk}/",
        {"body": "Edited by the second"},
        headers={"If-Match": edited.headers["ETag"]},
    )
    assert retried.status_code == 200


def test_the_schema_offers_if_match_on_clause_edits(deal: Deal, api_as: Any) -> None:
    paths = (
        api_as(deal.legal_chair_org)
        .get(f"{API}/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        .json()["paths"]
    )
    for path, method in (("/api/v1/clauses/{id}/", "patch"), ("/api/v1/clauses/{id}/", "delete")):
        names = [parameter["name"] for parameter in paths[path][method]["parameters"]]
        assert "If-Match" in names, (path, method)
