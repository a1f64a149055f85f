"""The machine-readable files a version's PDF/A-3 carries: a manifest of what the document
is, and for an executed data sharing agreement its usage terms as ODRL."""

from __future__ import annotations

import json
from typing import Any

from agreements.models import AgreementKind
from agreements.odrl import export as odrl_export
from agreements.pdf.context import VersionDocument

MANIFEST_NAME = "manifest.json"
ODRL_NAME = "terms.odrl.jsonld"


def encode(document: dict[str, Any]) -> bytes:
    """Stable bytes for a JSON attachment: the same data always gives the same file."""
    return json.dumps(document, sort_keys=True, ensure_ascii=False, indent=2).encode()


def manifest(document: VersionDocument) -> dict[str, Any]:
    agreement, version = document.agreement, document.version
    return {
        "agreement": {
            "id": agreement.pk,
            "title": agreement.title,
            "kind": agreement.kind,
            "governing_law": agreement.governing_law_id,
            "effective_on": agreement.effective_on.isoformat() if agreement.effective_on else None,
            "expires_on": agreement.expires_on.isoformat() if agreement.expires_on else None,
        },
        "consortium": {"id": agreement.consortium_id, "name": agreement.consortium.name},
        "version": {
            "id": version.pk,
            "number": version.number,
            "status": document.status,
            "content_hash": document.content_hash,
            "content_hash_fixed": document.hash_is_fixed,
        },
        "parties": [
            {
                "organisation": {"id": party.organisation_id, "name": party.organisation},
                "role": party.role,
                "role_label": party.role_label,
                "signatory": party.signatory or None,
                "signing_order": party.signing_order,
            }
            for party in document.parties
        ],
        "completion": document.completion.as_json() if document.completion else None,
    }


def attachment_files(document: VersionDocument) -> list[tuple[str, bytes, str]]:
    """(file name, content, description) of each file to embed."""
    files = [
        (
            MANIFEST_NAME,
            encode(manifest(document)),
            "What this document is: agreement, version, content hash, parties"
            + (", signatures and audit chain head." if document.completion else "."),
        )
    ]
    completion = document.completion
    if (
        completion is not None
        and document.agreement.kind == AgreementKind.DATA_SHARING
        and document.terms
    ):
        files.append(
            (
                ODRL_NAME,
                encode(odrl_export.build(document.version, completion.executed_at)),
                "The data-usage terms of Schedule A as an ODRL 2.2 Agreement (JSON-LD).",
            )
        )
    return files
