"""Reason codes, and the plain values a decision is made of.

Every code is stable: API clients, sweeps and the audit chain key on it. A reason names the
subject it is about (type, id, display), what the rule expected and what it found, and the
agreement, version and clause the rule rests on, with a link to the version's page.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Code(enum.StrEnum):
    DATA_RESIDENCY_VIOLATION = "DATA_RESIDENCY_VIOLATION"
    SITE_JURISDICTION_NOT_ALLOWED = "SITE_JURISDICTION_NOT_ALLOWED"
    ADMIN_ACCESS_OUTSIDE_ALLOWED = "ADMIN_ACCESS_OUTSIDE_ALLOWED"
    PROVIDER_EXTRATERRITORIAL_EXPOSURE = "PROVIDER_EXTRATERRITORIAL_EXPOSURE"
    CERTIFICATION_EXPIRED = "CERTIFICATION_EXPIRED"
    SITE_NOT_APPROVED = "SITE_NOT_APPROVED"
    AGREEMENT_NOT_EXECUTED = "AGREEMENT_NOT_EXECUTED"
    AGREEMENT_EXPIRED = "AGREEMENT_EXPIRED"
    PURPOSE_NOT_PERMITTED = "PURPOSE_NOT_PERMITTED"
    ACTION_NOT_PERMITTED = "ACTION_NOT_PERMITTED"
    MOVEMENT_NOT_PERMITTED = "MOVEMENT_NOT_PERMITTED"
    TRANSFER_BASIS_MISSING = "TRANSFER_BASIS_MISSING"
    ONWARD_TRANSFER_PROHIBITED = "ONWARD_TRANSFER_PROHIBITED"
    DERIVED_MODEL_RESTRICTED = "DERIVED_MODEL_RESTRICTED"
    FEDERATED_SAFEGUARD_MISSING = "FEDERATED_SAFEGUARD_MISSING"
    MISSING_ATTRIBUTE = "MISSING_ATTRIBUTE"


class Severity(enum.StrEnum):
    """How urgently a finding must be put right: a sweep's findings are sorted by it."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"


# Critical: data is, or would be, where the law or its terms forbid (moved out of its
# residency, with no transfer basis, onward to a forbidden party, or under a foreign law that
# reaches personal or confidential data). High: the work breaks the signed terms or runs
# outside what the consortium approved. Medium: paperwork to complete (a lapsed certificate,
# a fact nobody recorded), which still denies until it is done.
SEVERITY: dict[Code, Severity] = {
    Code.DATA_RESIDENCY_VIOLATION: Severity.CRITICAL,
    Code.TRANSFER_BASIS_MISSING: Severity.CRITICAL,
    Code.ONWARD_TRANSFER_PROHIBITED: Severity.CRITICAL,
    Code.PROVIDER_EXTRATERRITORIAL_EXPOSURE: Severity.CRITICAL,
    Code.SITE_JURISDICTION_NOT_ALLOWED: Severity.HIGH,
    Code.ADMIN_ACCESS_OUTSIDE_ALLOWED: Severity.HIGH,
    Code.SITE_NOT_APPROVED: Severity.HIGH,
    Code.AGREEMENT_NOT_EXECUTED: Severity.HIGH,
    Code.AGREEMENT_EXPIRED: Severity.HIGH,
    Code.PURPOSE_NOT_PERMITTED: Severity.HIGH,
    Code.ACTION_NOT_PERMITTED: Severity.HIGH,
    Code.MOVEMENT_NOT_PERMITTED: Severity.HIGH,
    Code.DERIVED_MODEL_RESTRICTED: Severity.HIGH,
    Code.FEDERATED_SAFEGUARD_MISSING: Severity.HIGH,
    Code.CERTIFICATION_EXPIRED: Severity.MEDIUM,
    Code.MISSING_ATTRIBUTE: Severity.MEDIUM,
}


class ObligationCode(enum.StrEnum):
    RETENTION_LIMIT = "RETENTION_LIMIT"
    ONWARD_TRANSFER_NEEDS_STEERING_APPROVAL = "ONWARD_TRANSFER_NEEDS_STEERING_APPROVAL"
    PROVIDER_EXTRATERRITORIAL_EXPOSURE = "PROVIDER_EXTRATERRITORIAL_EXPOSURE"


class Outcome(enum.StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    ALLOW_WITH_OBLIGATIONS = "allow_with_obligations"


@dataclass(frozen=True)
class Subject:
    """What a reason is about: ``type`` is dataset, site, provider, model, job or clause."""

    type: str
    id: int | str | None
    display: str

    def as_json(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id, "display": self.display}


@dataclass(frozen=True)
class Source:
    """The agreement, version and clause a rule comes from."""

    agreement_id: int
    agreement_title: str
    version_id: int
    version_number: int
    clause_id: int
    clause_number: str

    @property
    def link(self) -> str:
        return f"/agreement-versions/{self.version_id}/"

    def as_json(self) -> dict[str, Any]:
        return {
            "agreement_id": self.agreement_id,
            "agreement_title": self.agreement_title,
            "version_id": self.version_id,
            "version_number": self.version_number,
            "clause_id": self.clause_id,
            "clause_number": self.clause_number,
            "link": self.link,
        }


@dataclass(frozen=True)
class Reason:
    """Why a job is denied: one broken rule, about one subject."""

    code: Code
    subject: Subject
    expected: str
    actual: str
    message: str
    source: Source | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "code": str(self.code),
            "subject": self.subject.as_json(),
            "expected": self.expected,
            "actual": self.actual,
            "message": self.message,
            "source": self.source.as_json() if self.source else None,
        }


@dataclass(frozen=True)
class Obligation:
    """Something the job may run under but must honour (retention, an approval to obtain)."""

    code: ObligationCode
    subject: Subject
    message: str
    source: Source | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "code": str(self.code),
            "subject": self.subject.as_json(),
            "message": self.message,
            "source": self.source.as_json() if self.source else None,
        }


@dataclass(frozen=True)
class Check:
    """One rule checked for one subject, for the explain mode: passed or the code it raised."""

    rule: str
    subject: Subject
    passed: bool
    code: str = ""
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "subject": self.subject.as_json(),
            "passed": self.passed,
            "code": self.code,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Decision:
    """The outcome of one evaluation, with every reason and obligation, and the checks made."""

    outcome: Outcome
    reasons: tuple[Reason, ...]
    obligations: tuple[Obligation, ...]
    explain: tuple[Check, ...] = field(default=())
    rules_digest: str = ""

    @property
    def codes(self) -> set[str]:
        return {str(reason.code) for reason in self.reasons}

    def as_json(self) -> dict[str, Any]:
        return {
            "outcome": str(self.outcome),
            "reasons": [reason.as_json() for reason in self.reasons],
            "obligations": [obligation.as_json() for obligation in self.obligations],
            "explain": [check.as_json() for check in self.explain],
            "rules_digest": self.rules_digest,
        }
