"""Steering-committee meetings: who attended, the agenda (motions), and minutes that the
committee approves by motion; approved minutes are frozen and their hash is in the audit
chain."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from consortia.models import Consortium, Motion, Organisation, User


class Meeting(models.Model):
    class MinutesStatus(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PROPOSED = "proposed", _("Put to the committee")
        APPROVED = "approved", _("Approved")

    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, related_name="meetings")
    title = models.CharField(max_length=300)
    held_at = models.DateTimeField()
    location = models.CharField(max_length=300, blank=True)
    attendees = models.ManyToManyField(User, blank=True, related_name="meetings_attended")
    organisations = models.ManyToManyField(
        Organisation, blank=True, related_name="meetings_attended"
    )
    agenda = models.ManyToManyField(Motion, blank=True, related_name="meetings")
    minutes = models.TextField(blank=True)
    minutes_status = models.CharField(
        max_length=12, choices=MinutesStatus.choices, default=MinutesStatus.DRAFT
    )
    minutes_sha256 = models.CharField(max_length=64, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["consortium", "-held_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(minutes_status="approved") | ~Q(minutes_sha256=""),
                name="meeting_approved_minutes_hashed",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.held_at:%d %b %Y})"
