"""The signed-in person's inbox: their notifications, newest first; mark them read; open one
(marked read, then on to the page where they act)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from alliance.auth import acting_user
from consortia import inbox

TEMPLATE = "consortia/inbox.html"
PAGE_SIZE = 50


def _is_partial(request: HttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.boosted  # type: ignore[attr-defined]


@login_required
@require_GET
def inbox_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    notifications = inbox.notification_list(user).select_related("consortium")
    page_obj = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    # "Mark all as read" shows when the navigation's count (one query per page) is not zero.
    return render(request, TEMPLATE, {"page_obj": page_obj})


@login_required
@require_POST
@vary_on_headers("HX-Request")
def inbox_read(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Mark one read: with htmx, the item again (and the nav count, out of band)."""
    user = acting_user(request)
    notification = inbox.get_notification_for(user, pk)
    inbox.mark_read(user, [notification.pk])
    if not _is_partial(request):
        return redirect("consortia:inbox")
    notification.refresh_from_db()
    item = render(request, f"{TEMPLATE}#item", {"notification": notification})
    count = render(request, f"{TEMPLATE}#count", {"unread": inbox.unread_count(user), "oob": True})
    return HttpResponse(item.content + count.content)


@login_required
@require_POST
def inbox_read_all(request: HttpRequest) -> HttpResponseBase:
    marked = inbox.mark_read(acting_user(request), "all")
    messages.success(
        request,
        ngettext(
            "%(marked)s notification marked as read.",
            "%(marked)s notifications marked as read.",
            marked,
        )
        % {"marked": marked},
    )
    return redirect("consortia:inbox")


@login_required
@require_GET
def inbox_open(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Mark read, then go to the page where the person acts: a path on this site only, so a
    notification can never send anyone elsewhere."""
    user = acting_user(request)
    notification = inbox.get_notification_for(user, pk)
    inbox.mark_read(user, [notification.pk])
    if not inbox.is_local_path(notification.url):
        messages.error(request, _("This notification's link does not lead to a page of Alliance."))
        return redirect("consortia:inbox")
    return redirect(notification.url)


class EmailCadenceForm(forms.Form):
    email_cadence = forms.ChoiceField(
        label=gettext_lazy("Notifications by e-mail"),
        choices=inbox.EmailCadence.choices,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "The inbox always keeps every notification; this only changes the e-mail."
        ),
    )


@login_required
def notification_settings(request: HttpRequest) -> HttpResponse:
    """The person chooses how notifications reach them by e-mail: each, a daily digest, or
    none."""
    user = acting_user(request)
    form = EmailCadenceForm(
        request.POST or None, initial={"email_cadence": inbox.email_cadence_of(user)}
    )
    if request.method == "POST" and form.is_valid():
        cadence = form.cleaned_data["email_cadence"]
        inbox.email_cadence_set(user, cadence)
        messages.success(
            request,
            _("E-mail notifications: %(choice)s.") % {"choice": inbox.EmailCadence(cadence).label},
        )
        return redirect("consortia:inbox")
    return render(
        request,
        "consortia/form.html",
        {
            "form": form,
            "title": _("E-mail notifications"),
            "submit": _("Save"),
            "cancel": reverse("consortia:inbox"),
        },
        status=400 if form.errors else 200,
    )
