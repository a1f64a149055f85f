"""The PDF of an agreement version, read back with pypdf: what a draft and an executed version
show, the PDF/A-3 files they carry, and the renderer's refusal to fetch anything but its fonts."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pypdf
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements import asset_services, services
from agreements.asset_services import Share
from agreements.models import AgreementVersion, Clause
from agreements.odrl import export as odrl_export
from agreements.pdf import (
    Completion,
    ResourceRefusedError,
    SignatureRecord,
    attachments,
    build_html,
    render_version,
    write_pdf,
)
from agreements.pdf.context import ContentMismatchError
from alliance.pdf_fetcher import FONTS_DIR, AppFontsFetcher, fonts_url
from tests.agreements.conftest import Deal, execute, make_deal
from tests.agreements.test_terms_and_odrl import data_deal, execute_data_deal
from tests.conftest import World

UTC = datetime.UTC
EXECUTED_AT = datetime.datetime(2026, 3, 1, tzinfo=UTC)  # as execute_data_deal records it
AUDIT_HEAD = hashlib.sha256(b"the head of consortium:7 at 42").hexdigest()


def pages_of(pdf: bytes) -> list[str]:
    """Each page's text, its lines joined with single spaces: prose wraps where it will."""
    return [
        " ".join(page.extract_text().split()) for page in pypdf.PdfReader(io.BytesIO(pdf)).pages
    ]


def compact(text: str) -> str:
    """Text without whitespace: a long hash may wrap anywhere in a table cell."""
    return "".join(text.split())


def embedded(pdf: bytes) -> dict[str, bytes]:
    files = pypdf.PdfReader(io.BytesIO(pdf)).attachments
    assert all(len(files[name]) == 1 for name in files), "one file per name"
    return {name: files[name][0] for name in files}


def completion_for(world: World, *, roles: tuple[str, str]) -> Completion:
    return Completion(
        signatures=(
            SignatureRecord(
                signatory=world.chair.display_name,
                organisation="Chair Org",
                role=roles[0],
                signed_at=datetime.datetime(2026, 2, 27, 9, 30, 5, tzinfo=UTC),
                client_address="203.0.113.7",
                user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                authentication="Password re-entered at signing",
            ),
            SignatureRecord(
                signatory=world.member.display_name,
                organisation="Member Org",
                role=roles[1],
                # An aware time in another zone: the document prints it in UTC.
                signed_at=datetime.datetime(
                    2026, 3, 1, 1, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
                ),
                client_address="198.51.100.23",
                user_agent="AllianceTestAgent/1.0",
                authentication="Password and TOTP re-entered at signing",
            ),
        ),
        executed_at=EXECUTED_AT,
        audit_chain="consortium:7",
        audit_sequence=42,
        audit_head=AUDIT_HEAD,
    )


@pytest.fixture
def fetched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every URL the renderer asks its fetcher for, allowed or not."""
    urls: list[str] = []
    original = AppFontsFetcher.fetch

    def spy(self: AppFontsFetcher, url: str, headers: Any = None) -> Any:
        urls.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(AppFontsFetcher, "fetch", spy)
    return urls


def _add_asset(deal: Deal, world: World) -> None:
    asset_services.ip_asset_create(
        actor=deal.legal_chair_org,
        consortium=world.consortium_a,
        name="Radiology model weights",
        kind="model_weights",
        description="Trained on the radiology images under clause 1.",
        governing_agreement=deal.agreement,
        shares=[
            Share(world.org_chair, Decimal("60"), Decimal("55")),
            Share(world.org_member, Decimal("40"), Decimal("45")),
        ],
    )


@pytest.fixture
def executed_data_deal(world: World) -> tuple[Deal, AgreementVersion]:
    """The data sharing deal executed on EXECUTED_AT, with a jointly owned asset it governs."""
    deal, _dataset, _clause = data_deal(world)
    _add_asset(deal, world)
    execute_data_deal(deal)
    return deal, AgreementVersion.objects.get(pk=deal.version.pk)


# Drafts ------------------------------------------------------------------------------------


def test_a_draft_is_watermarked_on_every_page_with_its_text_and_running_footer(
    deal: Deal,
) -> None:
    services.clause_add(
        actor=deal.legal_chair_org,
        version=deal.version,
        heading="Background IP",
        body="Each party keeps its **background** IP.",
        kind="ip_ownership",
        level=1,
    )
    pdf = render_version(deal.version)
    pages = pages_of(pdf)
    manifest = json.loads(embedded(pdf)["manifest.json"])
    content_hash = manifest["version"]["content_hash"]

    assert 3 <= len(pages) <= 6
    for number, text in enumerate(pages, start=1):
        assert "DRAFT" in text, f"no watermark on page {number}"
        assert f"Version 1 · {content_hash[:16]}… · Page {number} of {len(pages)}" in text
        if number > 1:
            assert "Model co-development agreement" in text, "running header"
    cover = pages[0]
    assert "JOINT DEVELOPMENT AND IP AGREEMENT" in cover
    for fact in ("Consortium A", "Germany (DE)", "Chair Org, as licensor", "1, draft"):
        assert fact in cover
    assert content_hash in compact(cover)
    assert "Parties and signatories" not in cover, "the cover stands alone"
    everything = " ".join(pages)
    for words in ("1 Definitions", "Terms used here.", "2 Ownership", "Jointly owned."):
        assert words in everything
    assert "3.1 Background IP" in everything
    assert "Each party keeps its background IP." in everything
    assert "IP OWNERSHIP" in everything, "the clause kind, set small"
    assert "Signatures" in pages[-1]
    assert "Signed electronically" not in everything
    assert "Certificate of completion" not in everything
    assert set(embedded(pdf)) == {"manifest.json"}


def test_a_draft_prints_the_hash_it_will_be_frozen_with(deal: Deal) -> None:
    (name, data, _description), *others = attachments(deal.version, completion=None)
    manifest = json.loads(data)
    assert name == "manifest.json"
    assert others == []
    assert manifest["version"]["content_hash_fixed"] is False

    services.version_submit(actor=deal.legal_chair_org, version=deal.version)
    deal.version.refresh_from_db()

    assert manifest["version"]["content_hash"] == deal.version.content_hash
    frozen = json.loads(attachments(deal.version, completion=None)[0][1])
    assert frozen["version"] == {
        "id": deal.version.pk,
        "number": 1,
        "status": "in_review",
        "content_hash": deal.version.content_hash,
        "content_hash_fixed": True,
    }
    assert "watermark" in build_html(deal.version), "in review is not executed"


def test_text_that_no_longer_matches_its_hash_is_not_rendered(deal: Deal) -> None:
    services.version_submit(actor=deal.legal_chair_org, version=deal.version)
    deal.version.refresh_from_db()
    deal.version.content_hash = "0" * 64

    with pytest.raises(ContentMismatchError):
        build_html(deal.version)


# Executed versions -------------------------------------------------------------------------


def test_an_executed_version_has_signatures_schedules_and_certificate_and_no_watermark(
    world: World, executed_data_deal: tuple[Deal, AgreementVersion]
) -> None:
    _deal, version = executed_data_deal
    completion = completion_for(world, roles=("Data provider", "Data recipient"))

    pages = pages_of(render_version(version, completion=completion))
    everything = " ".join(pages)

    assert "DRAFT" not in everything
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1]
    assert "1, executed" in pages[0]
    assert "1 March 2026, 00:00:00 UTC" in pages[0], "executed on, on the cover"
    assert "1 Use of the images" in everything
    assert "1.1 Sub-terms" in everything
    # Schedule A, in words; Schedule B, with both shares.
    assert "Terms of clause 1, Use of the images" in everything
    for words in ("Radiology images 2020-2025", "research and development", "copy raw"):
        assert words in everything
    assert "180 days" in everything
    assert "Radiology model weights (model weights)" in everything
    assert "Chair Org 60.00 % 55.00 %" in everything
    assert "Member Org 40.00 % 45.00 %" in everything
    # One signature block per party, each signed.
    signatures_page = pages[-2]
    assert "Signed electronically on 27 February 2026 at 09:30 UTC" in signatures_page
    assert "Signed electronically on 1 March 2026 at 00:00 UTC" in signatures_page
    # The certificate of completion, last.
    certificate = pages[-1]
    assert "Certificate of completion" in certificate
    assert "Certificate of completion" not in " ".join(pages[:-1])
    for evidence in (
        world.chair.display_name,
        world.member.display_name,
        "203.0.113.7",
        "198.51.100.23",
        "Password re-entered at signing",
        "2026-02-27 09:30:05",
        "2026-03-01 00:00:00",
        "consortium:7",
        "AllianceTestAgent/1.0",
        "Password and TOTP re-entered at signing",
    ):
        assert compact(evidence) in compact(certificate), "table cells wrap"
    assert AUDIT_HEAD in compact(certificate)
    assert version.content_hash in compact(certificate)
    assert "signature panel" in certificate


def test_an_executed_pdf_is_pdfa3b_and_carries_manifest_and_odrl_terms(
    world: World, executed_data_deal: tuple[Deal, AgreementVersion]
) -> None:
    deal, version = executed_data_deal
    completion = completion_for(world, roles=("Data provider", "Data recipient"))

    pdf = render_version(version, completion=completion)
    files = embedded(pdf)

    assert set(files) == {"manifest.json", "terms.odrl.jsonld"}
    assert files["terms.odrl.jsonld"] == json.dumps(
        odrl_export.export(version), sort_keys=True, ensure_ascii=False, indent=2
    ).encode("utf-8")
    manifest = json.loads(files["manifest.json"].decode("utf-8"))
    assert list(manifest) == sorted(manifest), "sorted keys"
    assert manifest["agreement"]["id"] == deal.agreement.pk
    assert manifest["agreement"]["title"] == "Hospital data for training"
    assert manifest["agreement"]["kind"] == "data_sharing"
    assert manifest["consortium"] == {"id": world.consortium_a.pk, "name": "Consortium A"}
    assert manifest["version"]["status"] == "executed"
    assert manifest["version"]["content_hash"] == version.content_hash
    assert [
        (p["organisation"]["name"], p["role"], p["signatory"]) for p in manifest["parties"]
    ] == [
        ("Chair Org", "data_provider", world.chair.display_name),
        ("Member Org", "data_recipient", world.member.display_name),
    ]
    assert manifest["completion"]["executed_at"] == "2026-03-01T00:00:00+00:00"
    assert manifest["completion"]["audit_chain"] == "consortium:7"
    assert manifest["completion"]["audit_sequence"] == 42
    assert manifest["completion"]["audit_head"] == AUDIT_HEAD
    assert [s["signed_at"] for s in manifest["completion"]["signatures"]] == [
        "2026-02-27T09:30:05+00:00",
        "2026-03-01T00:00:00+00:00",
    ]
    assert Completion.from_json(manifest["completion"]) == completion

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    catalog: Any = reader.trailer["/Root"]
    xmp = catalog["/Metadata"].get_object().get_data().decode("utf-8")
    assert 'pdfaid:part="3"' in xmp
    assert 'pdfaid:conformance="B"' in xmp
    associated = [reference.get_object() for reference in catalog["/AF"]]
    assert sorted(
        (spec["/UF"], spec["/AFRelationship"], spec["/EF"]["/F"].get_object()["/Subtype"])
        for spec in associated
    ) == [
        ("manifest.json", "/Data", "/application/json"),
        ("terms.odrl.jsonld", "/Alternative", "/application/ld+json"),
    ]


def test_odrl_terms_embedded_before_execution_equal_the_export_after_it(world: World) -> None:
    """The executed PDF is rendered while the version is still out for signature."""
    deal, _dataset, _clause = data_deal(world)
    services.version_submit(actor=deal.legal_chair_org, version=deal.version)
    services.approval_give(actor=deal.legal_chair_org, version=deal.version)
    services.approval_give(actor=deal.legal_member_org, version=deal.version)
    services.agreement_send_for_signature(actor=world.chair, agreement=deal.agreement)
    version = AgreementVersion.objects.get(pk=deal.version.pk)
    completion = completion_for(world, roles=("data_provider", "data_recipient"))

    files = {name: data for name, data, _ in attachments(version, completion=completion)}
    services.agreement_record_execution(
        actor=world.chair, agreement=deal.agreement, executed_at=completion.executed_at
    )
    version.refresh_from_db()

    assert (
        files["terms.odrl.jsonld"]
        == json.dumps(
            odrl_export.export(version), sort_keys=True, ensure_ascii=False, indent=2
        ).encode()
    )
    assert json.loads(files["manifest.json"])["version"]["status"] == "executed"


@pytest.mark.parametrize(
    ("kind", "with_completion"),
    [("data_sharing", False), ("joint_development", True)],
)
def test_odrl_terms_only_for_a_data_sharing_agreement_with_its_completion(
    world: World, kind: str, with_completion: bool
) -> None:
    version = data_deal(world)[0].version if kind == "data_sharing" else execute(make_deal(world))
    completion = completion_for(world, roles=("Licensor", "Licensee")) if with_completion else None

    names = [name for name, _, _ in attachments(version, completion=completion)]

    assert names == ["manifest.json"]


def test_an_executed_version_without_completion_is_final_but_uncertified(deal: Deal) -> None:
    version = execute(deal)

    pdf = render_version(version)
    everything = " ".join(pages_of(pdf))

    assert "DRAFT" not in everything
    assert "Certificate of completion" not in everything
    assert "Signed electronically" not in everything
    manifest = json.loads(embedded(pdf)["manifest.json"])
    assert manifest["completion"] is None
    assert manifest["version"]["status"] == "executed"


def test_a_signature_of_no_party_is_refused(world: World, deal: Deal) -> None:
    version = execute(deal)
    completion = completion_for(world, roles=("Licensor", "Data recipient"))

    with pytest.raises(ValueError, match=r"match no party.*Member Org, Data recipient"):
        build_html(version, completion=completion)


def test_a_draft_has_no_certificate_of_completion(world: World, deal: Deal) -> None:
    completion = completion_for(world, roles=("Licensor", "Licensee"))

    with pytest.raises(ValueError, match="only a version out for signature or executed"):
        build_html(deal.version, completion=completion)


def _add_clauses(deal: Deal, count: int) -> None:
    start = deal.version.clauses.count()
    Clause.objects.bulk_create(
        Clause(
            version=deal.version,
            position=start + index,
            level=index % 2,
            heading=f"Obligation {index}",
            body="The party shall perform it in good faith and on time.",
        )
        for index in range(1, count + 1)
    )


def test_two_hundred_clauses_render(deal: Deal) -> None:
    _add_clauses(deal, 200)

    pages = pages_of(render_version(deal.version))

    assert 8 <= len(pages) <= 60
    assert "Obligation 200" in " ".join(pages)
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1]


# The renderer reads its fonts and nothing else -----------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/x.png",
        "https://example.com/DejaVuSans.ttf",
        "file:///etc/passwd",
        "file://example.com" + str(FONTS_DIR / "DejaVuSans.ttf"),
        fonts_url() + "../../../../../../etc/passwd",
        fonts_url() + "%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
        fonts_url() + "LICENSE",
        "data:font/ttf;base64,AAEAAA==",
        "ftp://example.com/font.ttf",
    ],
)
def test_the_fetcher_refuses_everything_but_the_app_fonts(url: str) -> None:
    with pytest.raises(ResourceRefusedError):
        AppFontsFetcher().fetch(url)


def test_the_fetcher_serves_the_app_fonts() -> None:
    response = AppFontsFetcher().fetch(fonts_url() + "DejaVuSerif.ttf")

    assert response.read() == (FONTS_DIR / "DejaVuSerif.ttf").read_bytes()


@pytest.mark.parametrize(
    "html",
    [
        '<p>Logo</p><img src="http://example.com/x.png">',
        '<link rel="stylesheet" href="https://example.com/style.css"><p>Styled</p>',
        '<style>@import url("http://example.com/style.css");</style><p>Imported</p>',
        '<a rel="attachment" href="file:///etc/passwd">Terms</a>',
        '<link rel="attachment" href="file:///etc/passwd">',
        '<p style="background: url(file:///etc/passwd)">Background</p>',
    ],
)
def test_html_that_refers_outside_the_fonts_fails_the_render(fetched: list[str], html: str) -> None:
    with pytest.raises(ResourceRefusedError):
        write_pdf(html)

    assert [url for url in fetched if url.startswith(("http", "file:///etc"))], (
        "the fetcher was asked, and refused"
    )


def test_a_clause_cannot_make_the_renderer_reach_out(deal: Deal, fetched: list[str]) -> None:
    for body in (
        '<img src="http://example.com/x.png"> Raw HTML.',
        "![tracking pixel](http://example.com/x.png) Markdown image.",
        '<link rel="stylesheet" href="http://example.com/s.css"> A stylesheet.',
        '<a rel="attachment" href="file:///etc/passwd">passwd</a> An attachment link.',
    ):
        services.clause_add(
            actor=deal.legal_chair_org, version=deal.version, heading="Sneaky", body=body
        )

    pages = pages_of(render_version(deal.version))

    assert "Raw HTML." in " ".join(pages)
    assert fetched, "the fonts were read through the fetcher"
    assert all(url.startswith(fonts_url()) for url in fetched), fetched
    assert {Path(url).name for url in fetched} == {
        "DejaVuSerif.ttf",
        "DejaVuSerif-Bold.ttf",
        "DejaVuSerif-Italic.ttf",
        "DejaVuSans.ttf",
        "DejaVuSans-Bold.ttf",
    }


def test_the_number_of_queries_does_not_grow_with_the_agreement(world: World) -> None:
    deal, _dataset, _clause = data_deal(world)
    _add_asset(deal, world)
    with CaptureQueriesContext(connection) as short:
        build_html(deal.version)
    _add_clauses(deal, 60)
    with CaptureQueriesContext(connection) as long:
        build_html(deal.version)

    assert len(short) <= 7
    assert len(long) == len(short)


def test_build_html_is_what_render_version_writes(deal: Deal) -> None:
    """render_version reads the database once but produces the same document."""
    html = build_html(deal.version)
    via_parts = pages_of(write_pdf(html, attachments=attachments(deal.version, completion=None)))

    assert via_parts == pages_of(render_version(deal.version))
