"""Check a PDF someone holds against what Alliance sealed: is its signature valid, who signed
and when, did it change after signing, and which agreement and version it is. The file is
read in memory and never stored; the answer names an agreement only if the person asking
may see it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from agreements import permissions as policy
from agreements.models import AgreementVersion, SignedDocument


@dataclass
class Identified:
    agreement_id: int
    agreement_title: str
    version_id: int
    version_number: int
    content_hash: str
    matches_sealed_file: bool


@dataclass
class Report:
    valid: bool
    summary: str
    sha256: str
    signatures: list[dict[str, Any]] = field(default_factory=list)
    document: Identified | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _manifest_content_hash(data: bytes) -> str | None:
    from agreements.pdfsign.verify import embedded_files

    try:
        manifest = embedded_files(data).get("manifest.json")
        if manifest is None:
            return None
        value = json.loads(manifest)["version"]["content_hash"]
    except (ValueError, KeyError, TypeError):
        return None
    return value if isinstance(value, str) else None


def _identify(actor: Any, data: bytes, sha256: str) -> Identified | None:
    visible = policy.visible_versions(actor).select_related("agreement")
    document = (
        SignedDocument.objects.filter(sha256=sha256, version__in=visible)
        .select_related("version__agreement")
        .first()
    )
    version: AgreementVersion | None = document.version if document else None
    if version is None:
        content_hash = _manifest_content_hash(data)
        if content_hash:
            version = visible.filter(content_hash=content_hash).order_by("-number").first()
    if version is None:
        return None
    return Identified(
        agreement_id=version.agreement_id,
        agreement_title=version.agreement.title,
        version_id=version.pk,
        version_number=version.number,
        content_hash=version.content_hash,
        matches_sealed_file=document is not None,
    )


def verify_upload(*, actor: Any, data: bytes) -> Report:
    from agreements.pdfsign.verify import verify

    verdict = verify(data)
    sha256 = hashlib.sha256(data).hexdigest()
    return Report(
        valid=verdict.valid,
        summary=verdict.summary,
        sha256=sha256,
        signatures=[asdict(signature) for signature in verdict.signatures],
        document=_identify(actor, data, sha256) if verdict.signatures else None,
    )
