"""Executed PDFs: the sealing task's work (render with attachments, PAdES seal, validation of
its own output) for a ~10-page and a ~50-page agreement, against WeasyPrint alone rendering
the same HTML in the same process (the floor).

Run by bench/run.py as ``python -m bench.documents_measure`` with DJANGO_SETTINGS_MODULE set;
prints one JSON object.
"""

from __future__ import annotations

import functools
import io
import json
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

PARAGRAPH = (
    "Each party shall keep the other's confidential information secret, use it only for the "
    "purposes of the joint development, and disclose it only to those of its employees, "
    "officers and advisers who need to know it and are bound by obligations of confidence no "
    "less strict than these. "
)
BODY = f"{PARAGRAPH * 2}\n\n- first, the data;\n- second, the weights;\n- third, the code.\n\n{PARAGRAPH}"
SIZES = {"10 pages": 19, "50 pages": 128}  # clauses of BODY that give about that many pages
ROUNDS = 5


def _executed_document(consortium: Any, author: Any, partner: Any, clauses: int) -> Any:
    """A version with ``clauses`` clauses whose parties have signed (rows written directly:
    the ceremony is not what is measured here)."""
    from django.utils import timezone

    from agreements import content
    from agreements.models import (
        Agreement,
        AgreementVersion,
        Clause,
        Party,
        SignedDocument,
    )

    agreement = Agreement.objects.create(
        consortium=consortium,
        kind="joint_development",
        title=f"Bench executed agreement {clauses} {uuid.uuid4().hex[:6]}",
        governing_law_id="DE",
        status="out_for_signature",
    )
    for organisation_id, user, role in (
        (author.organisation_id, author, "licensor"),
        (partner.organisation_id, partner, "licensee"),
    ):
        Party.objects.create(
            agreement=agreement, organisation_id=organisation_id, role=role, signatory=user
        )
    version = AgreementVersion.objects.create(agreement=agreement, number=1)
    Clause.objects.bulk_create(
        Clause(
            version=version,
            position=index + 1,
            level=1 if index % 3 == 2 else 0,
            kind="confidentiality",
            heading=f"Clause heading {index}",
            body=BODY,
        )
        for index in range(clauses)
    )
    snapshot = [
        {
            "key": str(key),
            "level": level,
            "kind": kind,
            "heading": heading,
            "body": body,
            "terms": None,
        }
        for key, level, kind, heading, body in version.clauses.order_by("position").values_list(
            "key", "level", "kind", "heading", "body"
        )
    ]
    content_hash = content.content_hash(snapshot)
    AgreementVersion.objects.filter(pk=version.pk).update(
        status="out_for_signature", content_hash=content_hash
    )
    now = timezone.now().isoformat()
    return SignedDocument.objects.create(
        version=version,
        content_hash=content_hash,
        completion={
            "executed_at": now,
            "audit_chain": f"consortium:{consortium.pk}",
            "audit_sequence": 1,
            "audit_head": "0" * 64,
            "signatures": [
                {
                    "signatory": user.username,
                    "organisation": str(user.organisation),
                    "role": role,
                    "signed_at": now,
                    "client_address": "192.0.2.1",
                    "user_agent": "bench",
                    "authentication": "bench",
                }
                for user, role in ((author, "Licensor"), (partner, "Licensee"))
            ],
        },
    )


def _median(action: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(ROUNDS):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    import django

    django.setup()
    import pypdf

    from agreements import sealing
    from agreements.models import AgreementVersion
    from agreements.pdf import build_html, write_pdf
    from agreements.pdfsign.keys import load_signer
    from consortia.models import Consortium, User

    author, partner = User.objects.get(username="amelie"), User.objects.get(username="jonas")
    consortium = Consortium.objects.get(name__startswith="EuroLLM")
    load_signer()
    write_pdf(build_html(AgreementVersion.objects.earliest("pk")))  # warm up fonts and Pango
    results: dict[str, dict[str, float]] = {}
    for label, clauses in SIZES.items():
        document = _executed_document(consortium, author, partner, clauses)
        version = AgreementVersion.objects.get(pk=document.version_id)
        html = build_html(version, completion=sealing.completion_of(document))
        floor, _ = _median(functools.partial(write_pdf, html))
        pipeline, sealed = _median(functools.partial(sealing.produce, document))
        results[label] = {
            "pages": len(pypdf.PdfReader(io.BytesIO(sealed)).pages),
            "weasyprint_s": floor,
            "pipeline_s": pipeline,
            "ratio": pipeline / floor,
        }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
