"""PDF downloads of a version: the sealed file once executed, a DRAFT-watermarked rendering
before. Every download is recorded in the audit chain with the hash of what was handed out."""

from __future__ import annotations

import hashlib
from typing import Any

from django.utils.text import slugify

from agreements import sealing
from agreements.models import AgreementVersion, SignedDocument
from audit.models import Action
from audit.services import audit_record


def version_pdf(*, actor: Any, version: AgreementVersion) -> tuple[str, bytes]:
    """(file name, bytes) of the version's PDF; the caller has checked the actor may read it."""
    from agreements.pdf.render import render_version

    agreement = version.agreement
    stem = f"{slugify(agreement.title)[:60]}-v{version.number}"
    document = SignedDocument.objects.filter(
        version=version, state=SignedDocument.State.SEALED
    ).first()
    if document is not None:
        name, data, kind = f"{stem}-executed.pdf", sealing.open_sealed(document), "sealed"
    else:
        draft = version.status != AgreementVersion.Status.EXECUTED
        name = f"{stem}-{'draft' if draft else 'unsealed'}.pdf"
        data, kind = render_version(version), "draft" if draft else "unsealed"
    audit_record(
        action=Action.DOWNLOAD,
        actor=actor,
        consortium_id=agreement.consortium_id,
        target=version,
        related=agreement,
        changes={
            "file": {"before": None, "after": kind},
            "sha256": {"before": None, "after": hashlib.sha256(data).hexdigest()},
        },
    )
    return name, data
