"""Everything the PDF of an agreement version shows, read once from the database: the cover
facts, the parties, the numbered clauses, the usage terms and the IP assets."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch
from django.utils.safestring import SafeString, mark_safe
from django_stubs_ext import StrOrPromise

from agreements import content
from agreements import terms as usage_terms
from agreements.models import Agreement, AgreementVersion, IPAsset, IPOwnership, Party
from agreements.pdf.completion import Completion, SignatureRecord

SIGNABLE = (AgreementVersion.Status.OUT_FOR_SIGNATURE, AgreementVersion.Status.EXECUTED)


class ContentMismatchError(Exception):
    """The clauses no longer hash to the version's content hash: the text to be printed is
    not the text that was frozen, so no document is produced from it."""


@dataclass(frozen=True)
class PartyLine:
    organisation_id: int
    organisation: str
    role: str
    role_label: str
    signatory: str
    signing_order: int
    signature: SignatureRecord | None


@dataclass(frozen=True)
class ClauseLine:
    number: str
    level: int
    kind_label: str
    heading: str
    html: SafeString


@dataclass(frozen=True)
class TermsLine:
    number: str
    heading: str
    terms: dict[str, Any]


@dataclass(frozen=True)
class OwnerLine:
    organisation: str
    share: Decimal
    revenue_share: Decimal


@dataclass(frozen=True)
class AssetLine:
    name: str
    kind_label: str
    description: str
    owners: tuple[OwnerLine, ...]


@dataclass(frozen=True)
class VersionDocument:
    """One version as its PDF presents it. ``is_final`` documents carry no draft watermark;
    ``hash_is_fixed`` is false for a draft, whose hash is computed from its current text."""

    agreement: Agreement
    version: AgreementVersion
    status: str
    status_label: StrOrPromise  # rendered lazily, in the PDF's language (agreements.pdf.render)
    is_final: bool
    content_hash: str
    hash_is_fixed: bool
    parties: tuple[PartyLine, ...]
    clauses: tuple[ClauseLine, ...]
    terms: tuple[TermsLine, ...]
    assets: tuple[AssetLine, ...]
    completion: Completion | None

    @property
    def short_hash(self) -> str:
        return self.content_hash[:16]

    @property
    def has_signing_order(self) -> bool:
        return any(party.signing_order for party in self.parties)


def _signature_of(party: Party, completion: Completion | None) -> SignatureRecord | None:
    """The signature naming the party's organisation and its role, by label or by code."""
    if completion is None:
        return None
    for signature in completion.signatures:
        if signature.organisation == party.organisation.name and signature.role in (
            party.role,
            party.get_role_display(),
        ):
            return signature
    return None


def _party_lines(agreement: Agreement, completion: Completion | None) -> tuple[PartyLine, ...]:
    parties = list(agreement.parties.select_related("organisation", "signatory"))
    lines = tuple(
        PartyLine(
            organisation_id=party.organisation_id,
            organisation=party.organisation.name,
            role=party.role,
            role_label=party.get_role_display(),
            signatory=party.signatory.display_name if party.signatory else "",
            signing_order=party.signing_order,
            signature=_signature_of(party, completion),
        )
        for party in parties
    )
    if completion is not None:
        # A signature printed in the certificate but on no signature block would make the
        # executed document contradict itself.
        matched = {id(line.signature) for line in lines if line.signature is not None}
        stray = [s for s in completion.signatures if id(s) not in matched]
        if stray:
            names = ", ".join(f"{s.signatory} ({s.organisation}, {s.role})" for s in stray)
            raise ValueError(f"Signatures that match no party of the agreement: {names}.")
    return lines


def _asset_lines(agreement: Agreement) -> tuple[AssetLine, ...]:
    assets = IPAsset.objects.filter(governing_agreement=agreement).prefetch_related(
        Prefetch("ownerships", queryset=IPOwnership.objects.select_related("organisation"))
    )
    return tuple(
        AssetLine(
            name=asset.name,
            kind_label=asset.get_kind_display(),
            description=asset.description,
            owners=tuple(
                OwnerLine(
                    organisation=ownership.organisation.name,
                    share=ownership.share,
                    revenue_share=ownership.revenue_share,
                )
                for ownership in asset.ownerships.all()
            ),
        )
        for asset in assets
    )


def gather(version: AgreementVersion, completion: Completion | None) -> VersionDocument:
    """Read what the document of ``version`` shows, in at most seven queries however long it
    is."""
    if completion is not None and version.status not in SIGNABLE:
        raise ValueError(
            f"Version {version.number} is {version.get_status_display().lower()}: only a "
            "version out for signature or executed has a certificate of completion."
        )
    agreement = Agreement.objects.select_related("consortium", "governing_law").get(
        pk=version.agreement_id
    )
    clauses = list(version.clauses.order_by("position"))
    computed_hash = content.content_hash(
        [
            {
                "key": str(clause.key),
                "level": clause.level,
                "kind": clause.kind,
                "heading": clause.heading,
                "body": clause.body,
            }
            for clause in clauses
        ]
    )
    if version.content_hash and version.content_hash != computed_hash:
        raise ContentMismatchError(
            f"Version {version.number} of agreement {agreement.pk} hashes to {computed_hash}, "
            f"not to its recorded {version.content_hash}."
        )
    numbered = content.numbered(clauses)
    readable = usage_terms.readable(clauses)
    executed = completion is not None or version.status == AgreementVersion.Status.EXECUTED
    status = AgreementVersion.Status.EXECUTED if completion is not None else version.status
    return VersionDocument(
        agreement=agreement,
        version=version,
        status=status,
        status_label=AgreementVersion.Status(status).label,
        is_final=executed,
        content_hash=computed_hash,
        hash_is_fixed=bool(version.content_hash),
        parties=_party_lines(agreement, completion),
        clauses=tuple(
            ClauseLine(
                number=item.number,
                level=item.clause.level,
                kind_label=item.clause.get_kind_display(),
                heading=item.clause.heading,
                # content.render sanitises: what it returns may be inserted as HTML.
                html=mark_safe(content.render(item.clause.body)),  # noqa: S308
            )
            for item in numbered
        ),
        terms=tuple(
            TermsLine(
                number=item.number, heading=item.clause.heading, terms=readable[item.clause.pk]
            )
            for item in numbered
            if item.clause.pk in readable
        ),
        assets=_asset_lines(agreement),
        completion=completion,
    )
