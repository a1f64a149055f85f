"""Browser pages of signed documents: the signing ceremony, PDF downloads, verification of a
PDF someone holds, and bulk exports of executed agreements."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from agreements import documents, exports, selectors, signing, verification
from agreements.forms import DeclineForm, SignForm, VerifyForm
from agreements.models import AgreementVersion
from alliance.auth import acting_user
from consortia import permissions as consortium_permissions
from consortia.forms import apply_service_errors


def _sign_context(request: HttpRequest, version: AgreementVersion) -> dict[str, object]:
    state = signing.ceremony(version, request.user)
    return {
        "version": version,
        "agreement": version.agreement,
        "party": state.my_party,
        "consent": signing.consent_text(state.my_party) if state.my_party else "",
        "signatures": state.signatures,
        "waiting": state.waiting,
    }


@login_required
@require_http_methods(["GET", "POST"])
def version_sign(request: HttpRequest, pk: int) -> HttpResponse:
    version = selectors.version_detail(actor=request.user, pk=pk)
    form = SignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            signing.signature_sign(
                actor=acting_user(request),
                version=version,
                password=form.cleaned_data["password"],
                consent=form.cleaned_data["consent"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Your signature is recorded."))
            return redirect("agreements:detail", pk=version.agreement_id)
    context = {**_sign_context(request, version), "form": form, "decline_form": DeclineForm()}
    return render(request, "agreements/sign.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def version_decline(request: HttpRequest, pk: int) -> HttpResponse:
    version = selectors.version_detail(actor=request.user, pk=pk)
    form = DeclineForm(request.POST)
    if form.is_valid():
        try:
            signing.signature_decline(
                actor=acting_user(request), version=version, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("You declined; the version is back in review."))
            return redirect("agreements:detail", pk=version.agreement_id)
    context = {**_sign_context(request, version), "form": SignForm(), "decline_form": form}
    return render(request, "agreements/sign.html", context, status=400)


@login_required
@require_GET
def version_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    version = selectors.version_detail(actor=request.user, pk=pk)
    try:
        name, data = documents.version_pdf(actor=request.user, version=version)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("agreements:detail", pk=version.agreement_id)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _too_large(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > settings.VERIFY_UPLOAD_MAX_BYTES + 64 * 1024


# CSRF is checked after the upload handlers are swapped: reading the token reads the body.
@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
def verify_page(request: HttpRequest) -> HttpResponse:
    request.upload_handlers = [MemoryFileUploadHandler(request)]
    return _verify(request)


@csrf_protect
def _verify(request: HttpRequest) -> HttpResponse:
    if not consortium_permissions.visible_consortia(request.user).exists():
        raise Http404("Verification is for members of a consortium.")
    report = None
    status = 200
    if request.method == "POST" and _too_large(request):
        form = VerifyForm()
        form.add_error(
            "document",
            _("The file is larger than %(value)s MB.")
            % {"value": settings.VERIFY_UPLOAD_MAX_BYTES // (1024 * 1024)},
        )
        status = 413
    else:
        form = VerifyForm(request.POST or None, request.FILES or None)
        if request.method == "POST":
            if form.is_valid():
                upload = form.cleaned_data["document"]
                if upload.size > settings.VERIFY_UPLOAD_MAX_BYTES:
                    form.add_error("document", _("The file is too large."))
                    status = 413
                else:
                    report = verification.verify_upload(actor=request.user, data=upload.read())
            else:
                status = 400
    return render(
        request, "agreements/verify.html", {"form": form, "report": report}, status=status
    )


@login_required
@require_POST
def export_create(request: HttpRequest, consortium_pk: int) -> HttpResponseBase:
    consortium = consortium_permissions.get_consortium_for(request.user, consortium_pk)
    export = exports.export_create(actor=acting_user(request), consortium=consortium)
    messages.success(request, _("The export is being prepared; this page shows its progress."))
    return redirect("agreements:export", pk=export.pk)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    export = exports.get_export_for(acting_user(request), pk)
    template = "agreements/export.html"
    partial = request.headers.get("HX-Request") == "true"
    return render(request, f"{template}#status" if partial else template, {"export": export})


@login_required
@require_GET
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    export = exports.get_export_for(acting_user(request), pk)
    if export.status != export.Status.DONE:
        raise Http404("This export is not ready.")
    handle = exports.export_open(actor=acting_user(request), export=export)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=export.file_name.rsplit("/", 1)[-1],
        content_type="application/zip",
    )
