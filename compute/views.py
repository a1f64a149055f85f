"""Browser pages of shared compute: helpers the page modules share. The pages themselves are
in ``pool_views`` (pools, charts, usage, fair share), ``request_views`` (the board's queue and requests), ``statement_views`` and
``directory_views`` (providers, sites and approvals).

Reads go through ``compute.selectors`` and the ``compute.permissions`` gates (404 outside the
consortium, 403 inside without the right), writes through the services. Every page is plain
HTML forms and links; htmx only refreshes parts of some. The compute and compliance sections
of the consortium page are in ``dashboard_views``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest

from alliance.csv_export import csv_response as csv_response
from alliance.errors import ConflictError
from compute import permissions
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
