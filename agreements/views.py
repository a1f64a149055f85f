"""Browser pages for legal teams: the agreements list, an agreement, a version's drafting
editor and redlines. Reads go through selectors (and are audited), writes through services."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from agreements import (
    asset_services,
    content,
    sealing,
    selectors,
    services,
    signing,
    terms,
)
from agreements import permissions as policy
from agreements.filters import AgreementFilter
from agreements.forms import (
    AgreementForm,
    ClauseForm,
    LibraryClauseForm,
    NoteForm,
    PartyForm,
    ReasonForm,
    TermsForm,
)
from agreements.models import AgreementKind, AgreementVersion, ClauseKind
from agreements.permissions import AgreementAction
from agreements.redline import summary
from alliance.auth import acting_user
from audit import selectors as audit_selectors
from consortia import permissions as consortium_permissions
from consortia.forms import apply_service_errors

PAGE_SIZE = 25


def _is_partial(request: HttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.boosted  # type: ignore[attr-defined]


def _report(request: HttpRequest, action: Callable[[], Any], done: str) -> bool:
    """Run a service; tell the person what happened (or why not). True when it succeeded."""
    try:
        action()
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return False
    messages.success(request, done)
    return True


@login_required
@require_GET
@vary_on_headers("HX-Request")
def agreement_list(request: HttpRequest) -> HttpResponse:
    filterset = AgreementFilter(
        request.GET or None, queryset=selectors.agreement_list(actor=request.user)
    )
    page = Paginator(filterset.qs.order_by("-updated_at"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    selectors.record_listing(
        actor=request.user,
        agreements=list(page),
        filters=filterset.form.data.dict() if filterset.is_bound else {},
    )
    template = "agreements/list.html"
    return render(
        request,
        f"{template}#results" if _is_partial(request) else template,
        {
            "filterset": filterset,
            "page": page,
            "warning_days": settings.AGREEMENT_EXPIRY_WARNING_DAYS,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def agreement_create(request: HttpRequest, consortium_pk: int) -> HttpResponse:
    consortium = consortium_permissions.get_consortium_for(request.user, consortium_pk)
    form = AgreementForm(
        request.POST or None, initial={"governing_law": consortium.home_jurisdiction_id}
    )
    if request.method == "POST" and form.is_valid():
        try:
            agreement = services.agreement_create(
                actor=acting_user(request), consortium=consortium, **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The agreement is started; add its parties and clauses."))
            return redirect("agreements:detail", pk=agreement.pk)
    return render(
        request,
        "consortia/form.html",
        {
            "form": form,
            "title": _("New agreement in %(consortium_name)s")
            % {"consortium_name": consortium.name},
            "submit": _("Start the agreement"),
            "cancel": reverse("consortia:detail", args=[consortium.pk]),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = selectors.agreement_detail(actor=request.user, pk=pk)
    rights = policy.agreement_rights(request.user, agreement)
    versions = list(agreement.versions.all())
    current = services.current_version(agreement)
    assert current is not None, "every agreement has a version"
    clauses = content.numbered(selectors.version_clauses(current))
    organisation_id = acting_user(request).organisation_id or 0
    context: dict[str, Any] = {
        "agreement": agreement,
        "parties": list(agreement.parties.all()),
        "versions": versions,
        "current": current,
        "clauses": [
            (item.number, item.clause, content.render(item.clause.body)) for item in clauses
        ],
        "missing": services.approvals_missing(current)
        if current.status == AgreementVersion.Status.IN_REVIEW
        else [],
        "can_draft": AgreementAction.DRAFT in rights,
        "can_manage": AgreementAction.MANAGE in rights,
        "can_approve": current.status == AgreementVersion.Status.IN_REVIEW
        and policy.can_approve_for(request.user, agreement, organisation_id)
        and not current.approvals.filter(organisation_id=organisation_id).exists(),
        "can_approve_steering": current.status == AgreementVersion.Status.IN_REVIEW
        and agreement.requires_steering_approval
        and AgreementAction.APPROVE_FOR_STEERING in rights
        and not current.approvals.filter(is_steering=True).exists(),
        "party_form": PartyForm(consortium=agreement.consortium),
        "reason_form": ReasonForm(),
        "note_form": NoteForm(),
        "history": audit_selectors.object_history(
            actor=request.user,
            consortium_id=agreement.consortium_id,
            object_type="agreements.agreement",
            object_id=agreement.pk,
        ),
        "previous": versions[1] if len(versions) > 1 else None,
        "signing": _signing_panel(request, current),
    }
    return render(request, "agreements/detail.html", context)


def _signing_panel(request: HttpRequest, version: AgreementVersion) -> dict[str, Any]:
    """Where the ceremony stands for this version: who signed, who is due, whether the person
    looking may sign now, and the sealing state of the executed PDF."""
    document = selectors.signed_document(version)
    panel: dict[str, Any] = {"document": document}
    if version.status != AgreementVersion.Status.OUT_FOR_SIGNATURE:
        return panel
    state = signing.ceremony(version, request.user)
    panel.update(
        signatures=state.signatures, waiting=state.waiting, my_turn=state.my_party is not None
    )
    return panel


@login_required
@require_POST
def party_add(request: HttpRequest, pk: int) -> HttpResponseBase:
    agreement = policy.get_agreement_for(request.user, pk, AgreementAction.DRAFT)
    form = PartyForm(request.POST, consortium=agreement.consortium)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    else:
        _report(
            request,
            lambda: services.party_add(
                actor=acting_user(request), agreement=agreement, **form.cleaned_data
            ),
            _("Party added."),
        )
    return redirect("agreements:detail", pk=pk)


@login_required
@require_POST
def party_remove(request: HttpRequest, pk: int) -> HttpResponseBase:
    party = policy.get_party_for(request.user, pk, AgreementAction.DRAFT)
    _report(
        request,
        lambda: services.party_remove(actor=acting_user(request), party=party),
        _("Party removed."),
    )
    return redirect("agreements:detail", pk=party.agreement_id)


# step: (the right it needs, the service, the POST fields it takes, fixed arguments, message)
Step = tuple[AgreementAction, Callable[..., Any], tuple[str, ...], dict[str, Any], str]

AGREEMENT_STEPS: dict[str, Step] = {
    "new-version": (
        AgreementAction.DRAFT,
        services.version_new,
        ("note",),
        {},
        _("A new draft version is open."),
    ),
    "send": (
        AgreementAction.MANAGE,
        services.agreement_send_for_signature,
        (),
        {},
        _("Sent for signature."),
    ),
    "terminate": (
        AgreementAction.MANAGE,
        services.agreement_terminate,
        ("reason",),
        {},
        _("The agreement is terminated."),
    ),
}
VERSION_STEPS: dict[str, Step] = {
    "submit": (
        AgreementAction.DRAFT,
        services.version_submit,
        (),
        {},
        _("The version is frozen for review."),
    ),
    "reopen": (
        AgreementAction.DRAFT,
        services.version_reopen,
        ("reason",),
        {},
        _("Back to draft; approvals cleared."),
    ),
    # Approving checks the person's party and role in the service; seeing the version suffices here.
    "approve": (
        AgreementAction.VIEW,
        services.approval_give,
        ("comment",),
        {"steering": False},
        _("Approval recorded."),
    ),
    "approve-steering": (
        AgreementAction.VIEW,
        services.approval_give,
        ("comment",),
        {"steering": True},
        _("Approval recorded."),
    ),
    "retry-seal": (
        AgreementAction.MANAGE,
        sealing.retry,
        (),
        {},
        _("Sealing queued again; this page shows when it is done."),
    ),
}


def _run_step(request: HttpRequest, step: Step, target: dict[str, Any]) -> None:
    _action, service, fields, fixed, done = step
    arguments = {name: request.POST.get(name, "") for name in fields}
    _report(
        request, lambda: service(actor=acting_user(request), **target, **fixed, **arguments), done
    )


@login_required
@require_POST
def agreement_step(request: HttpRequest, pk: int, step: str) -> HttpResponseBase:
    if step not in AGREEMENT_STEPS:
        return HttpResponse("Unknown step.", status=404)
    agreement = policy.get_agreement_for(request.user, pk, AGREEMENT_STEPS[step][0])
    _run_step(request, AGREEMENT_STEPS[step], {"agreement": agreement})
    return redirect("agreements:detail", pk=pk)


@login_required
@require_POST
def version_step(request: HttpRequest, pk: int, step: str) -> HttpResponseBase:
    if step not in VERSION_STEPS:
        return HttpResponse("Unknown step.", status=404)
    version = policy.get_version_for(request.user, pk, VERSION_STEPS[step][0])
    _run_step(request, VERSION_STEPS[step], {"version": version})
    return redirect("agreements:detail", pk=version.agreement_id)


@login_required
@require_GET
def version_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The drafting editor of one version (read-only once the version leaves draft)."""
    version = selectors.version_detail(actor=request.user, pk=pk)
    return _editor(request, version)


def _editor(
    request: HttpRequest,
    version: AgreementVersion,
    *,
    new_clause_form: ClauseForm | None = None,
    library_form: LibraryClauseForm | None = None,
    clause_forms: dict[int, dict[str, Any]] | None = None,
) -> HttpResponse:
    """The editor page; a form that was refused comes back bound, with what was typed in it
    (a clause body can be long), and the page answers 400."""
    agreement = version.agreement
    editable = version.is_editable and policy.can(request.user, AgreementAction.DRAFT, agreement)
    takes_terms = agreement.kind == AgreementKind.DATA_SHARING
    refused = clause_forms or {}

    def editor(clause: Any) -> dict[str, Any]:
        fields = {
            "heading": clause.heading,
            "body": clause.body,
            "kind": clause.kind,
            "level": clause.level,
        }
        forms: dict[str, Any] = {"clause": ClauseForm(initial=fields, prefix=f"clause-{clause.pk}")}
        if takes_terms and clause.kind == ClauseKind.DATA_USAGE:
            forms["terms"] = TermsForm(
                initial=TermsForm.initial_from(clause.terms),
                prefix=f"terms-{clause.pk}",
                consortium=agreement.consortium,
            )
        return {**forms, **refused.get(clause.pk, {})}

    version_clauses = selectors.version_clauses(version)
    readable = terms.readable(version_clauses)
    clauses = [
        (
            item.number,
            item.clause,
            content.render(item.clause.body),
            editor(item.clause),
            readable.get(item.clause.pk),
        )
        for item in content.numbered(version_clauses)
    ]
    library = library_form or LibraryClauseForm(
        templates=selectors.clause_library(actor=request.user, agreement=agreement)
    )
    was_refused = bool(new_clause_form or library_form or clause_forms)
    return render(
        request,
        "agreements/version.html",
        {
            "version": version,
            "agreement": agreement,
            "editable": editable,
            "clauses": clauses,
            "new_clause_form": new_clause_form or ClauseForm(prefix="new"),
            "library_form": library,
        },
        status=400 if was_refused else 200,
    )


def _refused_editor(request: HttpRequest, version_pk: int, **bound: Any) -> HttpResponse:
    return _editor(request, selectors.version_detail(actor=request.user, pk=version_pk), **bound)


@login_required
@require_POST
def clause_add(request: HttpRequest, pk: int) -> HttpResponseBase:
    version = policy.get_version_for(request.user, pk, AgreementAction.DRAFT)
    if "template" in request.POST:
        library = LibraryClauseForm(
            request.POST,
            templates=selectors.clause_library(actor=request.user, agreement=version.agreement),
        )
        if not library.is_valid():
            return _refused_editor(request, pk, library_form=library)
        added = _report(
            request,
            lambda: services.clause_add(
                actor=acting_user(request),
                version=version,
                template=library.cleaned_data["template"],
                position=library.cleaned_data["position"],
            ),
            _("Clause inserted from the library."),
        )
        if not added:
            return _refused_editor(request, pk, library_form=library)
    else:
        form = ClauseForm(request.POST, prefix="new")
        added = form.is_valid() and _report(
            request,
            lambda: services.clause_add(
                actor=acting_user(request), version=version, **form.cleaned_data
            ),
            _("Clause added."),
        )
        if not added:
            return _refused_editor(request, pk, new_clause_form=form)
    return redirect("agreements:version", pk=pk)


@login_required
@require_POST
def clause_change(request: HttpRequest, pk: int, step: str) -> HttpResponseBase:
    clause = policy.get_clause_for(request.user, pk, AgreementAction.DRAFT)
    actor = acting_user(request)
    if step == "edit":
        form = ClauseForm(request.POST, prefix=f"clause-{clause.pk}")
        saved = form.is_valid() and _report(
            request,
            lambda: services.clause_update(actor=actor, clause=clause, **form.cleaned_data),
            _("Clause saved."),
        )
        if not saved:
            if form.errors:
                messages.error(request, _("The clause needs a heading and a body."))
            return _refused_editor(
                request, clause.version_id, clause_forms={clause.pk: {"clause": form}}
            )
    elif step == "terms":
        terms_form = TermsForm(
            request.POST,
            prefix=f"terms-{clause.pk}",
            consortium=clause.version.agreement.consortium,
        )
        saved = terms_form.is_valid() and _report(
            request,
            lambda: asset_services.clause_set_terms(
                actor=actor, clause=clause, terms=terms_form.terms()
            ),
            _("Usage terms saved."),
        )
        if not saved:
            for field, errors in terms_form.errors.items():
                for error in errors:
                    messages.error(request, f"{field.replace('_', ' ')}: {error}")
            return _refused_editor(
                request, clause.version_id, clause_forms={clause.pk: {"terms": terms_form}}
            )
    elif step in ("up", "down"):
        position = clause.position - 1 if step == "up" else clause.position + 1
        _report(
            request,
            lambda: services.clause_move(actor=actor, clause=clause, position=position),
            _("Clause moved."),
        )
    elif step == "delete":
        _report(
            request,
            lambda: services.clause_delete(actor=actor, clause=clause),
            _("Clause deleted."),
        )
    else:
        return HttpResponse("Unknown step.", status=404)
    return redirect(
        reverse("agreements:version", args=[clause.version_id]) + f"#clause-{clause.pk}"
    )


@login_required
@require_GET
def version_redline(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        before, after, changes = selectors.version_redline(
            actor=request.user, before_pk=request.GET.get("against", ""), after_pk=pk
        )
    except ValidationError as error:
        return render(
            request, "agreements/problem.html", {"message": " ".join(error.messages)}, status=400
        )
    return render(
        request,
        "agreements/redline.html",
        {
            "before": before,
            "after": after,
            "agreement": after.agreement,
            "changes": changes,
            "summary": summary(changes),
        },
    )


@require_GET
def odrl_profile(request: HttpRequest) -> HttpResponse:
    """Alliance's ODRL profile, for partners' connectors (public, like any vocabulary)."""
    return HttpResponse(
        (Path(__file__).resolve().parent / "odrl" / "profile.ttl").read_bytes(),
        content_type="text/turtle; charset=utf-8",
    )
