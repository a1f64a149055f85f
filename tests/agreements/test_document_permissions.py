"""The signed-document endpoints from the outside: 404 outside the consortium, 403 for roles
without the right, 401 anonymous, 2xx for the right person; denials change nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile

from agreements.models import AgreementExport, SignedDocument
from tests.agreements.conftest import Deal
from tests.agreements.signing_helpers import send_for_signature

API = "/api/v1"


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    url: Callable[[Deal, Any], str]
    expected: dict[str, int]
    body: Callable[[Deal], dict[str, Any]] = field(default=lambda d: {})
    multipart: bool = False


def failed_seal(deal: Deal) -> SignedDocument:
    version = send_for_signature(deal)
    return SignedDocument.objects.create(
        version=version,
        content_hash=version.content_hash,
        completion={},
        state=SignedDocument.State.FAILED,
        error="Pango could not load a font",
    )


def finished_export(deal: Deal) -> AgreementExport:
    name = storages["default"].save(
        "agreements/exports/test.zip", ContentFile(b"PK\x05\x06" + bytes(18))
    )
    return AgreementExport.objects.create(
        consortium=deal.world.consortium_a,
        requested_by=deal.legal_chair_org,
        status=AgreementExport.Status.DONE,
        file_name=name,
        sha256="0" * 64,
    )


EXPORTERS = {
    "legal_a": 200,
    "auditor": 200,
    "observer": 403,
    "member": 403,
    "outsider": 404,
    "anonymous": 401,
}

CASES = [
    Case(
        "version pdf",
        "get",
        lambda d, p: f"{API}/agreement-versions/{d.version.pk}/pdf/",
        {"legal_a": 200, "observer": 200, "outsider": 404, "anonymous": 401},
    ),
    Case(
        "retry seal",
        "post",
        lambda d, p: f"{API}/agreement-versions/{d.version.pk}/retry-seal/",
        {"chair": 200, "legal_a": 403, "observer": 403, "outsider": 404, "anonymous": 401},
    ),
    Case(
        "export create",
        "post",
        lambda d, p: f"{API}/agreement-exports/",
        {**EXPORTERS, "legal_a": 202, "auditor": 202},
        body=lambda d: {"consortium": d.world.consortium_a.pk},
    ),
    Case("export detail", "get", lambda d, p: f"{API}/agreement-exports/{p.pk}/", EXPORTERS),
    Case(
        "export download",
        "get",
        lambda d, p: f"{API}/agreement-exports/{p.pk}/download/",
        EXPORTERS,
    ),
    Case(
        "verify",
        "post",
        lambda d, p: f"{API}/signed-documents/verify/",
        {"observer": 200, "candidate": 404, "anonymous": 401},
        body=lambda d: {"document": SimpleUploadedFile("x.pdf", b"%PDF-1.7 not really")},
        multipart=True,
    ),
]


@pytest.mark.parametrize(
    ("case", "persona"),
    [(case, persona) for case in CASES for persona in case.expected],
    ids=lambda value: value.name if isinstance(value, Case) else value,
)
def test_document_endpoints_from_outside(
    case: Case, persona: str, deal: Deal, api_as: Any, unchanged: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    prepared: Any = None
    if case.name == "retry seal":
        prepared = failed_seal(deal)
    elif case.name.startswith("export "):
        prepared = finished_export(deal)
    user = deal.legal_chair_org if persona == "legal_a" else deal.world.persona(persona)
    expected = case.expected[persona]
    call = getattr(api_as(user), case.method)
    kwargs = {"format": "multipart" if case.multipart else "json"}
    if expected >= 300:
        with unchanged():
            response = call(case.url(deal, prepared), case.body(deal), **kwargs)
    else:
        response = call(case.url(deal, prepared), case.body(deal), **kwargs)
    assert response.status_code == expected, getattr(response, "content", b"")[:500]
