"""Check the signatures of an uploaded PDF, and say in one sentence whether it can be relied on.

Verification never reaches the network: certificates chain only to the roots this deployment
trusts (``keys.trust_roots``), and no CRL, OCSP responder or issuer URL is fetched, because
sovereign deployments are air-gapped. Revocation checking is therefore soft-fail: with no
CRL or OCSP response at hand, a revoked certificate passes (the demo CA publishes none).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from dataclasses import dataclass
from io import BytesIO
from typing import Literal

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESIndeterminate
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import (
    DocumentTimestampStatus,
    EmbeddedPdfSignature,
    PdfSignatureStatus,
    SignatureCoverageLevel,
    validate_pdf_signature,
    validate_pdf_timestamp,
)
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext

from agreements.pdfsign.keys import trust_roots

logger = logging.getLogger(__name__)

# pyHanko accepts only non-repudiation certificates by default; Acrobat also accepts digital
# signature, which is what many organisations' signing certificates carry.
_SIGNING_USAGE = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"})

Kind = Literal["certification", "approval", "document timestamp"]


@dataclass(frozen=True)
class SignatureVerdict:
    """What one signature (or document timestamp) in the file says, checked."""

    field_name: str
    kind: Kind
    signer_common_name: str
    signer_organisation: str
    # The time from a timestamp authority's token when there is one (then
    # ``signing_time_attested``), else the time the signer's own system claimed.
    signing_time: datetime.datetime | None
    signing_time_attested: bool
    intact: bool  # the signed bytes hash to the value that was signed
    valid: bool  # the signature over that hash checks out against the certificate
    trusted: bool  # the certificate chains to a trusted root and is fit for signing
    coverage: str  # pyHanko's coverage level: "entire_file", "entire_revision", ...
    # Changed after this signature beyond what its permissions allow (pyHanko's difference
    # analysis: modification level above the DocMDP level, or of the kind "other").
    modified_after_signing: bool
    modification_level: str | None
    bottom_line: bool
    problem: str = ""

    @property
    def covers_entire_file(self) -> bool:
        return self.coverage == SignatureCoverageLevel.ENTIRE_FILE.name.lower()


@dataclass(frozen=True)
class Verdict:
    """The signatures of one uploaded file and the judgement on all of them."""

    signatures: list[SignatureVerdict]
    valid: bool
    sha256: str
    summary: str


def verify(pdf: bytes) -> Verdict:
    """Validate every signature and document timestamp in ``pdf``.

    ``valid`` only when the file has at least one signature and each one holds. Bytes that
    are not a readable PDF give a verdict that says so rather than an exception: this runs on
    uploads.
    """
    sha256 = hashlib.sha256(pdf).hexdigest()
    try:
        embedded = PdfFileReader(BytesIO(pdf)).embedded_signatures
    except Exception:  # pyHanko raises many kinds on malformed input; all mean "unreadable"
        logger.info("Uploaded file %s is not a readable PDF", sha256, exc_info=True)
        return Verdict([], False, sha256, "Not valid: this file is not a readable PDF.")
    if not embedded:
        return Verdict([], False, sha256, "Not valid: this PDF carries no signature.")

    context = _validation_context()
    signatures = [_check(signature, context) for signature in embedded]
    valid = all(signature.bottom_line for signature in signatures)
    return Verdict(signatures, valid, sha256, _summary(signatures))


def embedded_files(pdf: bytes) -> dict[str, bytes]:
    """The files attached to ``pdf`` (its /EmbeddedFiles name tree), by name, decoded.

    Raises ``PdfReadError`` (or another pyHanko error) when ``pdf`` cannot be read."""
    names = _entry(PdfFileReader(BytesIO(pdf)).root, "/Names")
    tree = _entry(names, "/EmbeddedFiles") if names is not None else None
    files: dict[str, bytes] = {}
    if not isinstance(tree, generic.DictionaryObject):
        return files
    for name, specification in _name_tree_leaves(tree, depth=0):
        streams = _entry(specification, "/EF")
        # /UF is the Unicode file name's entry; writers that predate it use /F only.
        stream = _entry(streams, "/UF") if streams is not None else None
        if stream is None and streams is not None:
            stream = _entry(streams, "/F")
        if isinstance(stream, generic.StreamObject):
            files[name] = stream.data
    return files


def _validation_context() -> ValidationContext:
    return ValidationContext(
        trust_roots=trust_roots(), allow_fetching=False, revocation_mode="soft-fail"
    )


def _check(signature: EmbeddedPdfSignature, context: ValidationContext) -> SignatureVerdict:
    field_name = str(signature.field_name)
    try:
        if signature.sig_object_type == "/DocTimeStamp":
            return _timestamp_verdict(field_name, validate_pdf_timestamp(signature, context))
        status = validate_pdf_signature(signature, context, key_usage_settings=_SIGNING_USAGE)
        kind: Kind = "certification" if signature.docmdp_level is not None else "approval"
        return _signature_verdict(field_name, kind, status)
    except Exception:  # a malformed signature is an invalid one, not a crash
        logger.info("Signature %s could not be validated", field_name, exc_info=True)
        return SignatureVerdict(
            field_name=field_name,
            kind="approval",
            signer_common_name="",
            signer_organisation="",
            signing_time=None,
            signing_time_attested=False,
            intact=False,
            valid=False,
            trusted=False,
            coverage=SignatureCoverageLevel.UNCLEAR.name.lower(),
            modified_after_signing=False,
            modification_level=None,
            bottom_line=False,
            problem="a signature in it cannot be read",
        )


def _signature_verdict(field_name: str, kind: Kind, status: PdfSignatureStatus) -> SignatureVerdict:
    common_name, organisation = _subject(status)
    timestamp = status.timestamp_validity
    attested = timestamp is not None and timestamp.intact and timestamp.valid and timestamp.trusted
    modified = _modified_after_signing(status)
    problem = _problem(status, modified=modified)
    if timestamp is not None and not attested and not problem:
        problem = "its timestamp cannot be verified"
    return SignatureVerdict(
        field_name=field_name,
        kind=kind,
        signer_common_name=common_name,
        signer_organisation=organisation,
        signing_time=timestamp.timestamp if timestamp is not None else status.signer_reported_dt,
        signing_time_attested=attested,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        coverage=_coverage(status),
        modified_after_signing=modified,
        modification_level=_level(status.modification_level),
        bottom_line=status.bottom_line and not modified,
        problem=problem,
    )


def _timestamp_verdict(field_name: str, status: DocumentTimestampStatus) -> SignatureVerdict:
    common_name, organisation = _subject(status)
    modified = _modified_after_signing(status)
    return SignatureVerdict(
        field_name=field_name,
        kind="document timestamp",
        signer_common_name=common_name,
        signer_organisation=organisation,
        signing_time=status.timestamp,
        signing_time_attested=status.trusted,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        coverage=_coverage(status),
        modified_after_signing=modified,
        modification_level=_level(status.modification_level),
        bottom_line=status.intact and status.valid and status.trusted and not modified,
        problem=_problem(status, modified=modified),
    )


def _modified_after_signing(status: PdfSignatureStatus | DocumentTimestampStatus) -> bool:
    """pyHanko's difference analysis compares each later revision with the signed one and
    grades the changes; ``docmdp_ok`` is false when the grade exceeds what the certification
    allows (here: filling forms, signing) or is "other", such as new page content.

    pyHanko leaves ``docmdp_ok`` unset for document timestamps, which carry no DocMDP
    policy of their own, so for them only changes of the kind "other" count; further
    signatures are judged by the certification signature's own verdict."""
    if status.docmdp_ok is not None:
        return not status.docmdp_ok
    level = status.modification_level
    # None means the analysis could not tell, which is no assurance either.
    return level is None or level == ModificationLevel.OTHER


def _problem(status: PdfSignatureStatus | DocumentTimestampStatus, *, modified: bool) -> str:
    if not status.intact or modified:
        return "the file changed after it was signed"
    if not status.valid:
        return "the signature does not match the signer's certificate"
    if status.revoked:
        return "the signer's certificate has been revoked"
    if status.trusted:
        return ""
    indication = status.trust_problem_indic
    if indication in {AdESIndeterminate.OUT_OF_BOUNDS_NO_POE, AdESIndeterminate.EXPIRED}:
        return "the signer's certificate had expired, and no timestamp proves an earlier date"
    if indication == AdESIndeterminate.NOT_YET_VALID:
        return "the signer's certificate was not yet valid"
    if indication == AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE:
        return "the signer's certificate is not meant for signing documents"
    return "the signer's certificate is not from an authority this platform trusts"


def _summary(signatures: list[SignatureVerdict]) -> str:
    failing = [signature for signature in signatures if not signature.bottom_line]
    if failing:
        problems = dict.fromkeys(
            signature.problem or "a signature does not hold" for signature in failing
        )
        return f"Not valid: {'; '.join(problems)}."
    if signatures[-1].covers_entire_file:
        since = "unchanged since" if len(signatures) == 1 else "unchanged since the last signature"
    else:
        since = "changed since only by additions the signatures permit"
    signed = [
        f"{_who(signature)} on {_when(signature.signing_time)}"
        for signature in signatures
        if signature.kind != "document timestamp"
    ]
    if not signed:
        return f"Valid: timestamped on {_when(signatures[0].signing_time)}; {since}."
    listed = signed[0] if len(signed) == 1 else f"{', '.join(signed[:-1])} and {signed[-1]}"
    return f"Valid: signed by {listed}; {since}."


def _who(signature: SignatureVerdict) -> str:
    if signature.signer_organisation:
        return f"{signature.signer_common_name} ({signature.signer_organisation})"
    return signature.signer_common_name or "an unnamed signer"


def _when(moment: datetime.datetime | None) -> str:
    if moment is None:
        return "an unknown date"
    utc = moment.astimezone(datetime.UTC)
    return f"{utc.day} {utc:%B %Y} at {utc:%H:%M} UTC"


def _subject(status: PdfSignatureStatus | DocumentTimestampStatus) -> tuple[str, str]:
    subject = status.signing_cert.subject.native
    return str(subject.get("common_name", "")), str(subject.get("organization_name", ""))


def _coverage(status: PdfSignatureStatus | DocumentTimestampStatus) -> str:
    level = status.coverage
    return (level or SignatureCoverageLevel.UNCLEAR).name.lower()


def _level(level: ModificationLevel | None) -> str | None:
    return level.name.lower() if level is not None else None


# Deeper than any real name tree, shallow enough to stop a file whose /Kids form a loop.
_MAX_NAME_TREE_DEPTH = 32


def _name_tree_leaves(
    node: generic.DictionaryObject, *, depth: int
) -> list[tuple[str, generic.DictionaryObject]]:
    """The (name, value) pairs of a PDF name tree whose values are dictionaries."""
    if depth > _MAX_NAME_TREE_DEPTH:
        raise PdfReadError("The embedded files name tree is too deep.")
    leaves: list[tuple[str, generic.DictionaryObject]] = []
    pairs = _entry(node, "/Names")
    if isinstance(pairs, generic.ArrayObject):
        for index in range(0, len(pairs) - 1, 2):
            name, value = pairs[index], pairs[index + 1]
            is_name = isinstance(name, generic.TextStringObject | generic.ByteStringObject)
            if is_name and isinstance(value, generic.DictionaryObject):
                leaves.append((_text(name), value))
    kids = _entry(node, "/Kids")
    if isinstance(kids, generic.ArrayObject):
        for index in range(len(kids)):
            kid = kids[index]
            if isinstance(kid, generic.DictionaryObject):
                leaves.extend(_name_tree_leaves(kid, depth=depth + 1))
    return leaves


def _entry(dictionary: generic.PdfObject | None, key: str) -> generic.PdfObject | None:
    """``dictionary[key]`` resolved, or None; ``.get`` would return unresolved references."""
    if not isinstance(dictionary, generic.DictionaryObject):
        return None
    try:
        value: generic.PdfObject = dictionary[key]
    except KeyError:
        return None
    return value


def _text(string: generic.TextStringObject | generic.ByteStringObject) -> str:
    if isinstance(string, generic.TextStringObject):
        return str(string)
    return bytes(string).decode("latin-1")
