"""The executed PDF as a legal team receives it: its text, its seal, what tampering does to the
verdict, that sealing is idempotent and fails visibly, downloads, exports and verification."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from agreements import exports, sealing
from agreements.models import AgreementExport, AgreementVersion, SignedDocument
from agreements.odrl import export as odrl_export
from agreements.pdfsign.verify import embedded_files, verify
from audit.models import AuditEvent
from tests.agreements.conftest import Deal
from tests.agreements.signing_helpers import send_for_signature, sign_all
from tests.agreements.test_terms_and_odrl import data_deal
from tests.conftest import World


def executed_pdf(document: SignedDocument) -> bytes:
    return sealing.open_sealed(document)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def stored_files() -> list[str]:
    try:
        return storages["default"].listdir(sealing.DIRECTORY)[1]
    except FileNotFoundError:
        return []


@pytest.fixture(autouse=True)
def own_media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def sealed(deal: Deal, django_capture_on_commit_callbacks: Any) -> SignedDocument:
    send_for_signature(deal)
    return sign_all(deal, django_capture_on_commit_callbacks)


def test_the_executed_pdf_reads_as_the_agreement_with_its_certificate(
    deal: Deal, sealed: SignedDocument
) -> None:
    pdf = executed_pdf(sealed)
    text = text_of(pdf)
    for heading in ("Definitions", "Ownership", "Term"):
        assert heading in text
    assert "Jointly owned." in text
    assert "Certificate of completion" in text
    assert deal.world.chair.get_full_name() in text
    assert sealed.completion["audit_head"] in text.replace("\n", "")
    assert "DRAFT" not in text
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    assert 2 <= pages <= 10
    assert f"of {pages}" in text

    verdict = verify(pdf)
    assert verdict.valid, verdict.summary
    (signature,) = verdict.signatures
    assert signature.trusted
    assert signature.signing_time is not None
    assert not signature.modified_after_signing


def test_one_changed_byte_breaks_the_seal(sealed: SignedDocument) -> None:
    pdf = bytearray(executed_pdf(sealed))
    position = pdf.index(b"Jointly owned") if b"Jointly owned" in pdf else len(pdf) // 3
    pdf[position] ^= 0x01
    verdict = verify(bytes(pdf))
    assert not verdict.valid
    assert "not valid" in verdict.summary.lower()


def test_painting_over_a_clause_after_sealing_is_detected(sealed: SignedDocument) -> None:
    from tests.agreements.test_pdfsign import painted_over

    verdict = verify(painted_over(executed_pdf(sealed)))
    assert not verdict.valid
    assert verdict.signatures[0].modified_after_signing


def test_the_terms_travel_inside_the_signed_file(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    deal, _, _ = data_deal(world)
    send_for_signature(deal)
    document = sign_all(deal, django_capture_on_commit_callbacks)
    files = embedded_files(executed_pdf(document))
    version = AgreementVersion.objects.get(pk=document.version_id)
    assert json.loads(files["terms.odrl.jsonld"]) == odrl_export.export(version)
    manifest = json.loads(files["manifest.json"])
    assert manifest["version"]["content_hash"] == version.content_hash
    assert manifest["completion"]["audit_head"] == document.completion["audit_head"]


@pytest.fixture
def unsealed(
    deal: Deal, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> SignedDocument:
    """Signed by every party, its sealing task never sent (as when the broker was down)."""
    send_for_signature(deal)
    monkeypatch.setattr(sealing, "schedule", lambda document: None)
    return sign_all(deal, django_capture_on_commit_callbacks)


def test_sealing_twice_leaves_one_file(sealed: SignedDocument) -> None:
    assert sealing.seal_executed(document_id=sealed.pk) is False
    assert stored_files() == [sealed.file_name.rsplit("/", 1)[-1]]


def test_a_run_that_died_mid_render_is_taken_over(unsealed: SignedDocument) -> None:
    document = unsealed
    # The dead run had claimed the document and written a file it never recorded.
    SignedDocument.objects.filter(pk=document.pk).update(
        state=SignedDocument.State.RENDERING, started_at=timezone.now() - timedelta(hours=1)
    )
    storages["default"].save(
        f"{sealing.DIRECTORY}/{document.content_hash}-deadbeef0000.pdf",
        io.BytesIO(b"%PDF-1.7 half a file"),
    )
    assert sealing.seal_executed(document_id=document.pk) is True
    document.refresh_from_db()
    assert document.state == SignedDocument.State.SEALED
    assert stored_files() == [document.file_name.rsplit("/", 1)[-1]]
    assert sealing.seal_executed(document_id=document.pk) is False


def test_a_fresh_run_is_not_taken_over(unsealed: SignedDocument) -> None:
    document = unsealed
    SignedDocument.objects.filter(pk=document.pk).update(
        state=SignedDocument.State.RENDERING, started_at=timezone.now()
    )
    assert sealing.seal_executed(document_id=document.pk) is False


def test_a_redelivered_task_takes_over_a_fresh_run_at_once(unsealed: SignedDocument) -> None:
    # The broker redelivers only when the worker holding the message died, so the fresh
    # run is a dead one; waiting STALE_AFTER would leave the agreement unexecuted meanwhile.
    document = unsealed
    SignedDocument.objects.filter(pk=document.pk).update(
        state=SignedDocument.State.RENDERING, started_at=timezone.now(), attempts=1
    )
    assert sealing.seal_executed(document_id=document.pk, redelivered=True) is True
    document.refresh_from_db()
    assert (document.state, document.attempts) == (SignedDocument.State.SEALED, 2)


def test_a_document_that_kills_every_worker_fails_instead_of_coming_back_for_ever(
    unsealed: SignedDocument,
) -> None:
    document = unsealed
    SignedDocument.objects.filter(pk=document.pk).update(
        state=SignedDocument.State.RENDERING,
        started_at=timezone.now(),
        attempts=sealing.MAX_TAKEOVERS + 1,
    )
    assert sealing.seal_executed(document_id=document.pk, redelivered=True) is False
    document.refresh_from_db()
    assert document.state == SignedDocument.State.FAILED
    assert "worker died" in document.error


def test_the_sweep_seals_a_document_whose_task_was_lost(unsealed: SignedDocument) -> None:
    document = unsealed
    assert sealing.sweep() == 0  # just signed: its task may still be on its way
    with time_machine.travel(
        timezone.now() + sealing.LOST_AFTER + timedelta(seconds=1), tick=False
    ):
        assert sealing.sweep() == 1
    document.refresh_from_db()
    assert document.state == SignedDocument.State.SEALED
    assert sealing.sweep() == 0


def test_a_failed_render_leaves_the_agreement_out_for_signature_until_retried(
    deal: Deal, django_capture_on_commit_callbacks: Any, monkeypatch: Any, browser_as: Any
) -> None:
    send_for_signature(deal)

    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("Pango could not load a font")

    monkeypatch.setattr("agreements.pdf.render.render_version", broken)
    # The task fails after the signatures committed; they stand.
    sign_all(deal, django_capture_on_commit_callbacks)
    document = SignedDocument.objects.get(version=deal.version)
    deal.version.refresh_from_db()
    assert document.state == SignedDocument.State.FAILED
    assert deal.version.status == AgreementVersion.Status.OUT_FOR_SIGNATURE
    assert stored_files() == []
    page = browser_as(deal.world.chair).get(reverse("agreements:detail", args=[deal.agreement.pk]))
    assert "Pango could not load a font" in page.content.decode()
    assert "Retry sealing" in page.content.decode()
    assert (
        browser_as(deal.world.member)
        .post(reverse("agreements:version-step", args=[deal.version.pk, "retry-seal"]))
        .status_code
        == 403
    )

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        response = browser_as(deal.world.chair).post(
            reverse("agreements:version-step", args=[deal.version.pk, "retry-seal"])
        )
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.state == SignedDocument.State.SEALED
    assert document.attempts == 2


def test_downloads_are_watermarked_until_executed_and_audited(
    deal: Deal, browser_as: Any, api_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    url = reverse("agreements:pdf", args=[deal.version.pk])
    draft = browser_as(deal.world.observer).get(url)
    assert draft.status_code == 200
    assert draft["Content-Type"] == "application/pdf"
    assert "DRAFT" in text_of(draft.content)
    assert browser_as(deal.world.outsider).get(url).status_code == 404
    assert (
        api_as(deal.world.outsider)
        .get(f"/api/v1/agreement-versions/{deal.version.pk}/pdf/")
        .status_code
        == 404
    )
    assert api_as(None).get(f"/api/v1/agreement-versions/{deal.version.pk}/pdf/").status_code in (
        401,
        403,
    )

    send_for_signature(deal)
    document = sign_all(deal, django_capture_on_commit_callbacks)
    executed = api_as(deal.world.observer).get(f"/api/v1/agreement-versions/{deal.version.pk}/pdf/")
    assert executed.status_code == 200
    assert executed.content == executed_pdf(document)
    page = browser_as(deal.world.observer).get(
        reverse("agreements:detail", args=[deal.agreement.pk])
    )
    assert f'href="{url}">signed PDF' in page.content.decode()
    downloads = AuditEvent.objects.filter(action="download", object_id=str(deal.version.pk))
    assert downloads.count() == 2
    assert document.sha256 in downloads.latest("sequence").changes


def test_verification_names_the_agreement_only_to_those_who_see_it(
    deal: Deal, sealed: SignedDocument, browser_as: Any, api_as: Any
) -> None:
    pdf = executed_pdf(sealed)
    response = api_as(deal.world.observer).post(
        "/api/v1/signed-documents/verify/",
        {"document": SimpleUploadedFile("a.pdf", pdf, "application/pdf")},
        format="multipart",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True
    assert body["document"]["agreement_id"] == deal.agreement.pk
    assert body["document"]["matches_sealed_file"] is True
    assert body["signatures"][0]["trusted"] is True

    outsider = api_as(deal.world.outsider).post(
        "/api/v1/signed-documents/verify/",
        {"document": SimpleUploadedFile("a.pdf", pdf, "application/pdf")},
        format="multipart",
    )
    assert outsider.status_code == 200
    assert outsider.json()["valid"] is True
    assert outsider.json()["document"] is None

    page = browser_as(deal.world.member).post(
        reverse("agreements:verify"),
        {"document": SimpleUploadedFile("a.pdf", pdf[:-400] + b"garbage", "application/pdf")},
    )
    assert page.status_code == 200
    assert "Not valid" in page.content.decode()
    assert api_as(None).post("/api/v1/signed-documents/verify/", {}).status_code in (401, 403)
    assert browser_as(deal.world.candidate).get(reverse("agreements:verify")).status_code == 404


def test_verification_refuses_large_uploads_and_stores_nothing(
    deal: Deal, api_as: Any, settings: Any, tmp_path: Any
) -> None:
    settings.VERIFY_UPLOAD_MAX_BYTES = 2048
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    response = api_as(deal.world.member).post(
        "/api/v1/signed-documents/verify/",
        {"document": SimpleUploadedFile("big.pdf", b"%PDF" + b"0" * 200_000, "application/pdf")},
        format="multipart",
    )
    assert response.status_code == 413
    assert list(tmp_path.iterdir()) == []
    not_pdf = api_as(deal.world.member).post(
        "/api/v1/signed-documents/verify/",
        {"document": SimpleUploadedFile("x.pdf", b"hello", "application/pdf")},
        format="multipart",
    )
    assert not_pdf.status_code == 200
    assert not_pdf.json()["valid"] is False


def test_bulk_export_zips_every_executed_agreement_with_a_manifest(
    deal: Deal,
    sealed: SignedDocument,
    api_as: Any,
    browser_as: Any,
    unchanged: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with unchanged():
        assert (
            api_as(deal.world.observer)
            .post("/api/v1/agreement-exports/", {"consortium": deal.world.consortium_a.pk})
            .status_code
            == 403
        )
        assert (
            api_as(deal.world.outsider)
            .post("/api/v1/agreement-exports/", {"consortium": deal.world.consortium_a.pk})
            .status_code
            == 404
        )
    with django_capture_on_commit_callbacks(execute=True):
        created = api_as(deal.legal_chair_org).post(
            "/api/v1/agreement-exports/", {"consortium": deal.world.consortium_a.pk}
        )
    assert created.status_code == 202
    export = AgreementExport.objects.get(pk=created.json()["id"])
    assert export.status == AgreementExport.Status.DONE, export.error
    assert (export.documents_total, export.documents_written) == (1, 1)
    page = browser_as(deal.legal_chair_org).get(reverse("agreements:export", args=[export.pk]))
    assert "1 of 1 signed PDFs" in page.content.decode()
    assert (
        browser_as(deal.world.observer)
        .get(reverse("agreements:export", args=[export.pk]))
        .status_code
        == 403
    )
    assert (
        browser_as(deal.world.outsider)
        .get(reverse("agreements:export", args=[export.pk]))
        .status_code
        == 404
    )

    download = api_as(deal.legal_chair_org).get(f"/api/v1/agreement-exports/{export.pk}/download/")
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    manifest = json.loads(archive.read("manifest.json"))
    (entry,) = manifest["agreements"]
    assert entry["sha256"] == sealed.sha256
    assert archive.read(entry["file"]) == executed_pdf(sealed)
    assert [signer["organisation"] for signer in entry["signers"]] == [
        deal.world.org_chair.name,
        deal.world.org_member.name,
    ]
    assert AuditEvent.objects.filter(
        action="download", object_type="agreements.agreementexport", object_id=str(export.pk)
    ).exists()
    assert exports.may_export(deal.world.auditor, deal.world.consortium_a.pk)
