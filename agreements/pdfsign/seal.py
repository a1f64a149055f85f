"""Seal an executed agreement: a visible PAdES certification signature on its PDF.

The seal is appended as an incremental update, so the original bytes (a PDF/A-3b file with
its attachments) stay as they were, and it certifies the document: later changes other than
filling in forms and adding signatures break it. Organisations may then add their own
approval signatures, each another incremental update.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path

from django.conf import settings
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import VENDOR
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext

from agreements.pdfsign.font import EmbeddedFontFactory
from agreements.pdfsign.keys import load_signer, trust_roots

logger = logging.getLogger(__name__)

STAMP_TEXT = "Sealed by Alliance\n%(signer)s\n%(ts)s"
APPROVAL_STAMP_TEXT = "Signed\n%(signer)s\n%(ts)s"
# Stamps sit in the bottom-right corner of the last page, in points: the first row stays
# inside the bottom margin WeasyPrint gives a page by default (75 px, 56 pt), off the clauses.
STAMP_WIDTH = 210
STAMP_HEIGHT = 42
STAMP_MARGIN = 10
# Relative to BASE_DIR: the font the app serves, which covers Latin, Greek and Cyrillic.
STAMP_FONT = Path("static/fonts/dejavu/DejaVuSans.ttf")


def seal(
    pdf: bytes,
    *,
    reason: str,
    location: str,
    signer_name_in_stamp: str | None = None,
    field_name: str = "AllianceSeal",
    approval_fields: Sequence[str] = (),
) -> bytes:
    """``pdf`` with Alliance's certification signature added (PAdES B-B; with a timestamp
    authority configured, B-T plus a document timestamp, B-LTA).

    DocMDP allows form filling and signing only, so a later incremental update that paints
    over a page makes the seal report illegal modifications. ``approval_fields`` are empty
    signature fields laid out next to the seal for the parties to sign later
    (``sign_with_certificate``): under a certification, signing an existing field is
    allowed, while adding a new visible one is not.
    """
    signer = load_signer()
    timestamper = _timestamper()
    long_term = timestamper is not None
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        certify=True,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS,
        embed_validation_info=long_term,
        use_pades_lta=long_term,
        validation_context=_offline_validation_context() if long_term else None,
    )
    writer = _writer(pdf)
    seal_box, *field_boxes = _stamp_boxes(writer, 1 + len(approval_fields))
    for name, box in zip(approval_fields, field_boxes, strict=True):
        fields.append_signature_field(
            writer,
            fields.SigFieldSpec(
                sig_field_name=name, on_page=-1, box=box, empty_field_appearance=True
            ),
        )
    return _sign(
        writer,
        signers.PdfSigner(
            metadata,
            signer=signer,
            timestamper=timestamper,
            stamp_style=_stamp_style(STAMP_TEXT),
            new_field_spec=fields.SigFieldSpec(sig_field_name=field_name, on_page=-1, box=seal_box),
        ),
        name_in_stamp=signer_name_in_stamp or _common_name(signer),
    )


def sign_with_certificate(
    pdf: bytes,
    *,
    pkcs12: bytes,
    passphrase: bytes,
    field_name: str,
    reason: str | None = None,
    location: str | None = None,
) -> bytes:
    """``pdf`` with an approval signature by an organisation's own certificate, appended as
    an incremental update.

    An empty field named ``field_name`` (laid out by ``seal(approval_fields=...)``) gets a
    visible stamp; otherwise the signature goes in a new invisible field, since a new
    visible one would break Alliance's certification. Raises ``ValueError`` when the
    PKCS#12 file or its passphrase is wrong.
    """
    signer = signers.SimpleSigner.load_pkcs12_data(pkcs12, (), passphrase=passphrase)
    assert isinstance(signer, signers.SimpleSigner)
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    pdf_signer = signers.PdfSigner(
        metadata,
        signer=signer,
        timestamper=_timestamper(),
        stamp_style=_stamp_style(APPROVAL_STAMP_TEXT),
    )
    return _sign(_writer(pdf), pdf_signer, name_in_stamp=_common_name(signer))


def _writer(pdf: bytes) -> IncrementalPdfFileWriter:
    # Incremental: the original bytes, with a PDF/A file's attachments, stay untouched.
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    _align_producer(writer)
    return writer


def _sign(
    writer: IncrementalPdfFileWriter, pdf_signer: signers.PdfSigner, *, name_in_stamp: str
) -> bytes:
    output = pdf_signer.sign_pdf(writer, appearance_text_params={"signer": name_in_stamp})
    assert isinstance(output, BytesIO)
    return output.getvalue()


def _align_producer(writer: IncrementalPdfFileWriter) -> None:
    """On writing, pyHanko sets the XMP producer to itself but appends itself to the Info
    dictionary's producer. PDF/A requires the two to agree, so the Info entry is set now to
    what the XMP entry will say, and pyHanko then leaves it alone."""
    if "/Metadata" not in writer.root or "/Info" not in writer.trailer:
        return
    info_ref = writer.trailer.raw_get("/Info")
    info = info_ref.get_object()
    if isinstance(info_ref, generic.IndirectObject) and "/Producer" in info:
        info["/Producer"] = generic.TextStringObject(VENDOR)
        writer.mark_update(info_ref)


def _stamp_style(stamp_text: str) -> TextStampStyle:
    font = Path(settings.BASE_DIR) / STAMP_FONT
    if font.exists():
        text_style = TextBoxStyle(font=EmbeddedFontFactory(font), font_size=8)
    else:
        # Still a valid seal, but its stamp font is not embedded, which PDF/A forbids.
        logger.warning("Stamp font %s is missing; the stamp uses Courier, not embedded", font)
        text_style = TextBoxStyle(font_size=8)
    return TextStampStyle(
        stamp_text=stamp_text,
        text_box_style=text_style,
        border_width=1,
        # pyHanko fills %(ts)s with the signing time, in the server's time zone.
        timestamp_format="%Y-%m-%d %H:%M %Z",
    )


def _stamp_boxes(writer: IncrementalPdfFileWriter, count: int) -> list[tuple[int, int, int, int]]:
    """``count`` stamp boxes on the last page, filling the bottom row from the right, then
    the row above."""
    page_ref, _ = writer.find_page_for_modification(-1)  # type: ignore[no-untyped-call]
    left, bottom, right, _top = (float(value) for value in _page_box(page_ref.get_object()))
    per_row = max(1, int((right - left - STAMP_MARGIN) // (STAMP_WIDTH + STAMP_MARGIN)))
    boxes = []
    for slot in range(count):
        row, column = divmod(slot, per_row)
        x_right = right - STAMP_MARGIN - column * (STAMP_WIDTH + STAMP_MARGIN)
        y_bottom = bottom + STAMP_MARGIN + row * (STAMP_HEIGHT + STAMP_MARGIN)
        boxes.append(
            (
                round(x_right - STAMP_WIDTH),
                round(y_bottom),
                round(x_right),
                round(y_bottom + STAMP_HEIGHT),
            )
        )
    return boxes


def _page_box(page: generic.DictionaryObject) -> generic.ArrayObject:
    """The page's visible area: its crop box, else its media box; both may be inherited."""
    for key in ("/CropBox", "/MediaBox"):
        node: generic.DictionaryObject | None = page
        while node is not None:
            if key in node:
                box = node[key]
                assert isinstance(box, generic.ArrayObject)
                return box
            node = node["/Parent"] if "/Parent" in node else None  # noqa: SIM401 (resolves)
    raise ValueError("The last page has no media box.")


def _timestamper() -> timestamps.TimeStamper | None:
    url: str | None = settings.SIGNING_TSA_URL
    return timestamps.HTTPTimeStamper(url, timeout=10) if url else None


def _offline_validation_context() -> ValidationContext:
    """Certificates for the validation info embedded in a B-LTA seal, without fetching:
    deployments may be air-gapped, and then the timestamp authority is a local one."""
    return ValidationContext(
        trust_roots=trust_roots(), allow_fetching=False, revocation_mode="soft-fail"
    )


def _common_name(signer: Signer) -> str:
    certificate = signer.signing_cert
    assert certificate is not None
    name: str = certificate.subject.native.get("common_name", "")
    return name or certificate.subject.human_friendly
