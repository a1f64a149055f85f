"""What the certificate of completion of an executed version records: who signed, when, from
where and how, and where the audit chain stood when the last party signed."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any


def _utc(moment: datetime.datetime) -> datetime.datetime:
    assert moment.tzinfo is not None, "completion times are aware datetimes"
    return moment.astimezone(datetime.UTC)


@dataclass(frozen=True)
class SignatureRecord:
    """One signatory's signature, with the evidence the certificate prints."""

    signatory: str
    organisation: str
    role: str
    signed_at: datetime.datetime
    client_address: str
    user_agent: str
    authentication: str

    def as_json(self) -> dict[str, Any]:
        return {
            "signatory": self.signatory,
            "organisation": self.organisation,
            "role": self.role,
            "signed_at": _utc(self.signed_at).isoformat(),
            "client_address": self.client_address,
            "user_agent": self.user_agent,
            "authentication": self.authentication,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SignatureRecord:
        return cls(
            signatory=data["signatory"],
            organisation=data["organisation"],
            role=data["role"],
            signed_at=datetime.datetime.fromisoformat(data["signed_at"]),
            client_address=data["client_address"],
            user_agent=data["user_agent"],
            authentication=data["authentication"],
        )


@dataclass(frozen=True)
class Completion:
    """The certificate of completion of an executed version. ``audit_head`` is the hex SHA-256
    head of ``audit_chain`` at ``audit_sequence``, so anyone holding the chain can check that
    the execution is on record."""

    signatures: tuple[SignatureRecord, ...]
    executed_at: datetime.datetime
    audit_chain: str
    audit_sequence: int
    audit_head: str

    def as_json(self) -> dict[str, Any]:
        """JSON-ready, times in UTC ISO 8601: what the manifest embeds, and a shape a JSON
        field can keep and give back through ``from_json``."""
        return {
            "signatures": [signature.as_json() for signature in self.signatures],
            "executed_at": _utc(self.executed_at).isoformat(),
            "audit_chain": self.audit_chain,
            "audit_sequence": self.audit_sequence,
            "audit_head": self.audit_head,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Completion:
        return cls(
            signatures=tuple(SignatureRecord.from_json(item) for item in data["signatures"]),
            executed_at=datetime.datetime.fromisoformat(data["executed_at"]),
            audit_chain=data["audit_chain"],
            audit_sequence=data["audit_sequence"],
            audit_head=data["audit_head"],
        )
