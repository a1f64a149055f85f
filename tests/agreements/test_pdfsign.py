"""Sealing executed agreements as signed PDFs, and checking uploaded ones."""

# pyHanko's writer and page lookups are not annotated.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import datetime
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import weasyprint
from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko.sign.validation import read_certification_data

from agreements.pdfsign import keys, seal
from agreements.pdfsign.keys import DEMO_SIGNER_NAME, DemoKeys, create_demo_ca
from agreements.pdfsign.verify import embedded_files, verify

CLAUSES = "".join(
    f"<h2>Clause {number}</h2><p>The parties agree to term {number}.</p>" for number in range(1, 4)
)
TERMS = '{"@context": "http://www.w3.org/ns/odrl.jsonld", "uid": "urn:alliance:terms:1"}'


@pytest.fixture(scope="module")
def contract() -> bytes:
    pdf: bytes = weasyprint.HTML(string=f"<h1>Agreement</h1>{CLAUSES}").write_pdf()
    return pdf


@pytest.fixture(scope="module")
def two_page_contract() -> bytes:
    html = f"<h1>Agreement</h1>{CLAUSES}<p style='break-before: page'>Signatures</p>"
    pdf: bytes = weasyprint.HTML(string=html).write_pdf()
    return pdf


@pytest.fixture(scope="module")
def pdfa_contract() -> bytes:
    pdf: bytes = weasyprint.HTML(string=f"<h1>Agreement</h1>{CLAUSES}").write_pdf(
        pdf_variant="pdf/a-3b",
        attachments=[weasyprint.Attachment(string=TERMS, name="terms.jsonld")],
    )
    return pdf


@pytest.fixture
def demo(settings: Any, tmp_path: Path) -> Iterator[DemoKeys]:
    """A demo CA of this test's own, and settings that seal and verify with it alone."""
    settings.DEBUG = False
    settings.SIGNING_DEMO_DIR = tmp_path / "signing-demo"
    settings.SIGNING_PKCS12_PATH = None
    settings.SIGNING_PKCS12_PASSPHRASE = None
    settings.SIGNING_TRUST_ROOTS = None
    settings.SIGNING_TSA_URL = None
    demo_keys = create_demo_ca(settings.SIGNING_DEMO_DIR)
    keys.clear_cache()
    yield demo_keys
    keys.clear_cache()


def sealed(pdf: bytes, **options: Any) -> bytes:
    return seal.seal(pdf, reason="Agreement executed", location="Brussels", **options)


def test_a_sealed_pdf_verifies_with_the_signer_and_the_signing_time(
    demo: DemoKeys, contract: bytes
) -> None:
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    signed = sealed(contract)
    after = datetime.datetime.now(datetime.UTC)

    verdict = verify(signed)

    assert verdict.valid
    assert verdict.sha256 == hashlib.sha256(signed).hexdigest()
    [signature] = verdict.signatures
    assert signature.field_name == "AllianceSeal"
    assert signature.kind == "certification"
    assert signature.signer_common_name == DEMO_SIGNER_NAME
    assert signature.signer_organisation == "Alliance (demo)"
    assert signature.signing_time is not None
    assert before <= signature.signing_time <= after
    assert not signature.signing_time_attested  # no timestamp authority configured
    assert (signature.intact, signature.valid, signature.trusted) == (True, True, True)
    assert signature.covers_entire_file
    assert not signature.modified_after_signing
    assert signature.bottom_line
    assert verdict.summary.startswith(f"Valid: signed by {DEMO_SIGNER_NAME} (Alliance (demo)) on ")
    assert verdict.summary.endswith("; unchanged since.")


def test_the_seal_is_an_incremental_certification_that_allows_only_form_filling(
    demo: DemoKeys, contract: bytes
) -> None:
    signed = sealed(contract)

    assert signed.startswith(contract)
    certification = read_certification_data(PdfFileReader(io.BytesIO(signed)))
    assert certification is not None
    assert certification.permission == MDPPerm.FILL_FORMS
    assert certification.author_sig["/SubFilter"] == "/ETSI.CAdES.detached"
    assert certification.author_sig["/Reason"] == "Agreement executed"
    assert certification.author_sig["/Location"] == "Brussels"


def test_the_stamp_is_visible_at_the_bottom_of_the_last_page_in_an_embedded_font(
    demo: DemoKeys, two_page_contract: bytes
) -> None:
    reader = PdfFileReader(io.BytesIO(sealed(two_page_contract)))
    first, last = (reader.find_page_for_modification(index)[0].get_object() for index in (0, 1))

    assert "/Annots" not in first
    [widget] = list(last["/Annots"])
    widget = widget.get_object()
    assert widget["/T"] == "AllianceSeal"
    left, bottom, right, top = (float(value) for value in widget["/Rect"])
    _, _, page_width, page_height = (float(value) for value in last["/MediaBox"])
    assert 0 < left < right <= page_width
    assert 0 < bottom < top < page_height / 8
    assert widget["/F"] & 4  # printed, as PDF/A requires
    font = widget["/AP"]["/N"]["/Resources"]["/Font"]["/F1"]
    descendant = font["/DescendantFonts"][0]
    assert "/FontFile2" in descendant["/FontDescriptor"]
    assert str(font["/BaseFont"]).endswith("+DejaVuSans")


def test_the_stamp_names_whom_the_caller_asks_for(demo: DemoKeys, contract: bytes) -> None:
    reader = PdfFileReader(io.BytesIO(sealed(contract, signer_name_in_stamp="Consortium A")))
    widget = reader.find_page_for_modification(0)[0].get_object()["/Annots"][0]
    to_unicode = widget["/AP"]["/N"]["/Resources"]["/Font"]["/F1"]["/ToUnicode"].data

    characters = {chr(int(code, 16)) for code in _mapped_code_points(to_unicode)}

    assert set("Consortium A") <= characters
    assert "—" not in characters  # the certificate's name, with its dash, is not shown


@pytest.mark.parametrize("where", ["header comment", "page content stream"])
def test_changing_one_byte_inside_the_signed_range_makes_it_not_valid(
    demo: DemoKeys, contract: bytes, where: str
) -> None:
    signed = bytearray(sealed(contract))
    if where == "header comment":
        position = signed.index(b"\n%", 1) + 2
    else:
        position = signed.index(b"stream\n") + len(b"stream\n") + 20
    assert position < len(contract)
    signed[position] ^= 0x01

    verdict = verify(bytes(signed))

    assert not verdict.valid
    [signature] = verdict.signatures
    assert not signature.intact
    assert not signature.bottom_line
    assert verdict.summary == "Not valid: the file changed after it was signed."


def painted_over(pdf: bytes) -> bytes:
    """``pdf`` with a white box drawn over its first clauses in an incremental update."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    white_box = generic.StreamObject(stream_data=b"q 1 1 1 rg 40 600 520 200 re f Q")
    writer.add_stream_to_page(0, writer.add_object(white_box))
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def test_painting_over_a_clause_after_sealing_makes_it_not_valid(
    demo: DemoKeys, contract: bytes
) -> None:
    verdict = verify(painted_over(sealed(contract)))

    assert not verdict.valid
    [signature] = verdict.signatures
    # The signed revision itself is untouched; what came after it is not allowed.
    assert signature.intact
    assert signature.valid
    assert signature.trusted
    assert not signature.covers_entire_file
    assert signature.modified_after_signing
    assert signature.modification_level == "other"
    assert verdict.summary == "Not valid: the file changed after it was signed."


def test_a_signature_from_an_untrusted_ca_is_not_valid(
    demo: DemoKeys, contract: bytes, tmp_path: Path
) -> None:
    stranger = create_demo_ca(tmp_path / "another-ca")
    signed = seal.sign_with_certificate(
        contract,
        pkcs12=stranger.pkcs12.read_bytes(),
        passphrase=stranger.passphrase(),
        field_name="Stranger",
    )

    verdict = verify(signed)

    assert not verdict.valid
    [signature] = verdict.signatures
    assert signature.intact
    assert signature.valid
    assert not signature.trusted
    assert verdict.summary == (
        "Not valid: the signer's certificate is not from an authority this platform trusts."
    )


@pytest.mark.parametrize(
    ("upload", "summary"),
    [
        (b"", "Not valid: this file is not a readable PDF."),
        (b"PK\x03\x04 a zip file, not a PDF", "Not valid: this file is not a readable PDF."),
        (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog", "Not valid: this file is not a readable PDF."),
    ],
)
def test_bytes_that_are_not_a_pdf_give_a_verdict_not_an_exception(
    demo: DemoKeys, upload: bytes, summary: str
) -> None:
    verdict = verify(upload)

    assert not verdict.valid
    assert verdict.signatures == []
    assert verdict.summary == summary
    assert verdict.sha256 == hashlib.sha256(upload).hexdigest()


def test_a_pdf_without_signatures_is_not_valid(demo: DemoKeys, contract: bytes) -> None:
    verdict = verify(contract)

    assert not verdict.valid
    assert verdict.summary == "Not valid: this PDF carries no signature."


def test_a_truncated_sealed_pdf_is_not_valid(demo: DemoKeys, contract: bytes) -> None:
    signed = sealed(contract)

    verdict = verify(signed[: len(signed) - 200])

    assert not verdict.valid
    assert verdict.summary.startswith("Not valid: ")


def test_sealing_a_pdf_a_keeps_its_attachments_and_its_conformance_claim(
    demo: DemoKeys, pdfa_contract: bytes
) -> None:
    signed = sealed(pdfa_contract)

    assert embedded_files(pdfa_contract) == {"terms.jsonld": TERMS.encode()}
    assert embedded_files(signed) == {"terms.jsonld": TERMS.encode()}
    assert verify(signed).valid
    reader = PdfFileReader(io.BytesIO(signed))
    xmp = reader.root["/Metadata"].data.decode()
    assert 'pdfaid:part="3"' in xmp
    assert 'pdfaid:conformance="B"' in xmp
    # PDF/A requires the Info dictionary to agree with the XMP metadata.
    producer = str(reader.trailer["/Info"]["/Producer"])
    assert f'pdf:Producer="{producer}"' in xmp


def test_an_organisation_signs_a_field_laid_out_by_the_seal(
    demo: DemoKeys, contract: bytes
) -> None:
    signed = sealed(contract, approval_fields=["ChairOrg"])
    passphrase = b"chair's own"
    own = keys.issue_demo_certificate(
        demo, common_name="Ada Lovelace", organisation="Chair Org", passphrase=passphrase
    )

    countersigned = seal.sign_with_certificate(
        signed, pkcs12=own, passphrase=passphrase, field_name="ChairOrg", reason="Approved"
    )
    verdict = verify(countersigned)

    assert verdict.valid
    seal_verdict, approval = verdict.signatures
    assert (seal_verdict.field_name, seal_verdict.kind) == ("AllianceSeal", "certification")
    assert seal_verdict.bottom_line
    assert not seal_verdict.modified_after_signing
    assert seal_verdict.modification_level == "form_filling"
    assert not seal_verdict.covers_entire_file
    assert (approval.field_name, approval.kind) == ("ChairOrg", "approval")
    assert (approval.signer_common_name, approval.signer_organisation) == (
        "Ada Lovelace",
        "Chair Org",
    )
    assert approval.bottom_line
    assert approval.covers_entire_file
    assert "and Ada Lovelace (Chair Org) on " in verdict.summary
    assert verdict.summary.endswith("; unchanged since the last signature.")
    widgets = PdfFileReader(io.BytesIO(countersigned)).find_page_for_modification(0)[0]
    rectangles = [
        [float(value) for value in widget.get_object()["/Rect"]]
        for widget in widgets.get_object()["/Annots"]
    ]
    assert len(rectangles) == 2
    assert not _overlap(*rectangles)


def test_an_unplanned_signature_goes_in_an_invisible_field_and_keeps_the_seal_valid(
    demo: DemoKeys, contract: bytes
) -> None:
    own = keys.issue_demo_certificate(
        demo, common_name="Grace Hopper", organisation="Member Org", passphrase=b"member"
    )

    countersigned = seal.sign_with_certificate(
        sealed(contract), pkcs12=own, passphrase=b"member", field_name="MemberOrg"
    )
    verdict = verify(countersigned)

    assert verdict.valid
    assert [signature.signer_common_name for signature in verdict.signatures] == [
        DEMO_SIGNER_NAME,
        "Grace Hopper",
    ]


@pytest.mark.parametrize(
    ("usage", "problem"),
    [
        ("digital_signature", ""),
        ("content_commitment", ""),  # a.k.a. non-repudiation
        ("key_encipherment", "the signer's certificate is not meant for signing documents"),
    ],
)
def test_a_signing_certificate_needs_a_signing_key_usage(
    demo: DemoKeys, contract: bytes, usage: str, problem: str
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _issued_by_demo_ca(
        demo, "Some Signer", key.public_key(), [(_key_usage(**{usage: True}), True)]
    )
    own = pkcs12.serialize_key_and_certificates(
        None, key, certificate, None, serialization.BestAvailableEncryption(b"own")
    )

    verdict = verify(
        seal.sign_with_certificate(contract, pkcs12=own, passphrase=b"own", field_name="Own")
    )

    assert verdict.valid is (problem == "")
    assert verdict.signatures[0].problem == problem


def test_with_a_timestamp_authority_the_seal_is_b_lta(
    demo: DemoKeys, contract: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(seal, "_timestamper", lambda: _local_timestamp_authority(demo))

    verdict = verify(sealed(contract))

    assert verdict.valid
    certification, document_timestamp = verdict.signatures
    assert certification.kind == "certification"
    assert certification.signing_time_attested
    assert document_timestamp.kind == "document timestamp"
    assert document_timestamp.signer_common_name == "Alliance DEMO TSA"
    assert document_timestamp.bottom_line
    assert not document_timestamp.modified_after_signing

    painted = verify(painted_over(sealed(contract)))

    assert not painted.valid
    assert [signature.modified_after_signing for signature in painted.signatures] == [True, True]


def test_without_a_key_or_debug_the_signer_names_the_setting_to_set(
    settings: Any, tmp_path: Path
) -> None:
    settings.DEBUG = False
    settings.SIGNING_PKCS12_PATH = None
    settings.SIGNING_DEMO_DIR = tmp_path / "absent"
    keys.clear_cache()

    with pytest.raises(ImproperlyConfigured, match="SIGNING_PKCS12_PATH"):
        keys.load_signer()

    assert not (tmp_path / "absent").exists()
    keys.clear_cache()


def test_with_debug_on_the_demo_ca_is_created_on_first_use(settings: Any, tmp_path: Path) -> None:
    settings.DEBUG = True
    settings.SIGNING_PKCS12_PATH = None
    settings.SIGNING_DEMO_DIR = tmp_path / "first-use"
    keys.clear_cache()

    signer = keys.load_signer()

    assert signer.signing_cert is not None
    assert signer.signing_cert.subject.native["common_name"] == DEMO_SIGNER_NAME
    assert (tmp_path / "first-use" / "signing.p12").exists()
    keys.clear_cache()


def test_a_production_pkcs12_file_seals_and_its_root_is_trusted(
    settings: Any, tmp_path: Path, contract: bytes
) -> None:
    # Stands in for an organisation's CA: nothing of it is in SIGNING_DEMO_DIR.
    production_ca = create_demo_ca(tmp_path / "production-ca")
    passphrase = "from a secrets file"
    (tmp_path / "seal.p12").write_bytes(
        keys.issue_demo_certificate(
            production_ca,
            common_name="Alliance Seal",
            organisation="Alliance",
            passphrase=passphrase.encode(),
        )
    )
    settings.SIGNING_DEMO_DIR = tmp_path / "no-demo"
    settings.SIGNING_PKCS12_PATH = tmp_path / "seal.p12"
    settings.SIGNING_PKCS12_PASSPHRASE = passphrase
    settings.SIGNING_TRUST_ROOTS = None
    settings.SIGNING_TSA_URL = None
    keys.clear_cache()

    verdict = verify(sealed(contract))

    assert verdict.valid
    assert verdict.summary.startswith("Valid: signed by Alliance Seal (Alliance) on ")
    assert not (tmp_path / "no-demo").exists()
    settings.SIGNING_PKCS12_PASSPHRASE = "wrong"
    keys.clear_cache()
    with pytest.raises(ImproperlyConfigured, match="SIGNING_PKCS12_PATH"):
        keys.load_signer()
    keys.clear_cache()


def test_extra_trust_roots_come_from_the_bundle_in_settings(
    demo: DemoKeys, settings: Any, tmp_path: Path, contract: bytes
) -> None:
    partner = create_demo_ca(tmp_path / "partner-ca")
    signed = seal.sign_with_certificate(
        contract,
        pkcs12=partner.pkcs12.read_bytes(),
        passphrase=partner.passphrase(),
        field_name="Partner",
    )
    assert not verify(signed).valid

    settings.SIGNING_TRUST_ROOTS = partner.ca_certificate
    keys.clear_cache()

    assert verify(signed).valid


def test_the_demo_ca_is_created_once_owner_only_and_fit_for_document_signing(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "demo"
    first = create_demo_ca(directory)
    contents = {path.name: path.read_bytes() for path in directory.iterdir()}

    again = create_demo_ca(directory)

    assert first.created
    assert not again.created
    assert {path.name: path.read_bytes() for path in directory.iterdir()} == contents
    for name in ("ca.pem", "ca-key.pem", "signing.p12", "passphrase.txt"):
        assert (directory / name).stat().st_mode & 0o777 == 0o600
    loaded = pkcs12.load_pkcs12(first.pkcs12.read_bytes(), first.passphrase())
    assert loaded.cert is not None
    certificate = loaded.cert.certificate
    ca = x509.load_pem_x509_certificate(first.ca_certificate.read_bytes())
    assert certificate.issuer == ca.subject
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        "Alliance DEMO CA — NOT FOR PRODUCTION"
    )
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        DEMO_SIGNER_NAME
    )
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert usage.content_commitment
    assert not usage.key_cert_sign
    purposes = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36") in purposes  # RFC 9336 documentSigning
    assert [item.certificate for item in loaded.additional_certs] == [ca]


def test_a_half_written_demo_directory_is_not_overwritten(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    directory.mkdir()
    (directory / "ca.pem").write_text("left over")

    with pytest.raises(ImproperlyConfigured, match="incomplete"):
        create_demo_ca(directory)

    assert (directory / "ca.pem").read_text() == "left over"


def test_signing_init_creates_the_demo_ca_and_says_it_is_for_demos_only(
    settings: Any, tmp_path: Path
) -> None:
    output = io.StringIO()

    call_command("signing_init", "--directory", str(tmp_path / "ca"), stdout=output)
    call_command("signing_init", "--directory", str(tmp_path / "ca"), stdout=output)

    text = output.getvalue()
    assert f"Created the demo CA in {tmp_path / 'ca'}" in text
    assert "already exists" in text
    assert text.count("for demos and tests only") == 2
    assert (tmp_path / "ca" / "signing.p12").exists()


def _issued_by_demo_ca(
    demo: DemoKeys,
    common_name: str,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    extensions: list[tuple[x509.ExtensionType, bool]],
) -> x509.Certificate:
    ca_certificate = x509.load_pem_x509_certificate(demo.ca_certificate.read_bytes())
    ca_key = serialization.load_pem_private_key(
        demo.ca_key.read_bytes(), password=demo.passphrase()
    )
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(ca_key, hashes.SHA256())


def _key_usage(**allowed: bool) -> x509.KeyUsage:
    names = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    )
    return x509.KeyUsage(**{name: allowed.get(name, False) for name in names})


def _local_timestamp_authority(demo: DemoKeys) -> DummyTimeStamper:
    """A timestamp authority in-process, certified by the demo CA: tests reach no network."""
    # RSA, since pyHanko's in-process timestamp authority supports nothing else.
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa_certificate = _issued_by_demo_ca(
        demo,
        "Alliance DEMO TSA",
        tsa_key.public_key(),
        [(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True)],
    )
    return DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(
            tsa_certificate.public_bytes(serialization.Encoding.DER)
        ),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            tsa_key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
    )


def _mapped_code_points(to_unicode: bytes) -> list[str]:
    """The Unicode side of each ``<glyph> <code point>`` pair in a ToUnicode map."""
    text = to_unicode.decode("ascii")
    pairs = text.split("beginbfchar", 1)[1].split("endbfchar", 1)[0]
    return [line.split()[1].strip("<>") for line in pairs.strip().splitlines()]


def _overlap(first: list[float], second: list[float]) -> bool:
    return not (
        first[2] <= second[0]
        or second[2] <= first[0]
        or first[3] <= second[1]
        or second[3] <= first[1]
    )
