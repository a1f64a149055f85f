"""Browser pages of shared compute: helpers the page modules share, and the compute section of
the consortium page. The pages themselves are in ``pool_views`` (pools, charts, usage, fair
share), ``request_views`` (the board's queue and requests), ``statement_views`` and
``directory_views`` (providers, sites and approvals).

Reads go through ``compute.selectors`` and the ``compute.permissions`` gates (404 outside the
consortium, 403 inside without the right), writes through the services. Every page is plain
HTML forms and links; htmx only refreshes parts of some.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from alliance.errors import ConflictError
from compute import permissions, selectors
from compute.permissions import ComputeAction
from consortia import permissions as consortium_permissions
from consortia.forms import apply_service_errors
from consortia.models import Consortium


def is_partial(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False)) and not request.htmx.boosted  # type: ignore[attr-defined]


def consortium_for(
    request: HttpRequest, pk: Any, action: ComputeAction = ComputeAction.VIEW
) -> Consortium:
    """The consortium if the user sees it (else 404) and may take ``action`` in its compute
    (else 403)."""
    consortium = consortium_permissions.get_consortium_for(request.user, pk)
    permissions.require(request.user, action, consortium.pk)
    return consortium


def run_service(form: Any, action: Any) -> tuple[Any, int]:
    """Run a service for a bound, valid form: (its result, 200), or (None, 400/409) with the
    service's reasons on the form."""
    try:
        return action(), 200
    except ValidationError as error:
        apply_service_errors(form, error)
        return None, 400
    except ConflictError as error:
        form.add_error(None, error.message)
        return None, 409


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A cell starting like a formula runs as one in a spreadsheet; names come from users.
    return (
        "'" + text
        if text.startswith(("=", "+", "-", "@", "\t", "\r")) and not _numeric(text)
        else text
    )


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def consortium_panel(request: HttpRequest, consortium: Consortium) -> dict[str, Any]:
    """The compute section of the consortium page: each pool with its GPUs now, what is
    reserved now and the requests waiting; links to the pages around them."""
    rights = permissions.rights(request.user, consortium.pk)
    may_view = ComputeAction.VIEW in rights
    return {
        "consortium": consortium,
        "may_view": may_view,
        "pools": selectors.pool_summaries(actor=request.user, consortium_id=consortium.pk)
        if may_view
        else [],
        "may_create_pool": ComputeAction.MANAGE_POOLS in rights,
        "may_approve_sites": ComputeAction.APPROVE_SITES in rights,
    }
