"""Demo agreements for the quick start: a joint development agreement signed by both parties
through the ceremony (its sealed PDF included), with an amendment in draft (so there is a redline to look at) and the model weights it governs, and a
data sharing agreement in review whose usage terms cover a hospital data set. Built through
the services; running it again changes nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from agreements import asset_services, sealing, services, signing
from agreements.asset_services import Share
from agreements.models import Agreement, ClauseKind, ClauseTemplate, SignedDocument
from agreements.pdfsign.keys import create_demo_ca
from consortia.demo import DEMO_PASSWORD
from consortia.models import Consortium, Jurisdiction, Organisation, User

JDC_TITLE = "EuroLLM joint development and IP agreement"
FLA_TITLE = "Gulf Health federated training data agreement"
JDC_CLAUSES = (
    "jdc-joint-ownership",
    "jdc-revenue-sharing",
    "jdc-member-licence",
    "residency",
    "confidentiality",
    "liability",
    "termination",
    "disputes",
    "governing-law",
)
FLA_CLAUSES = (
    "fla-retained-ownership",
    "fla-models-move-to-data",
    "fla-poisoning-safeguards",
    "residency",
    "confidentiality",
    "governing-law",
)


def _person(username: str) -> User:
    return User.objects.get(username=username)


def _organisation(name: str) -> Organisation:
    return Organisation.objects.get(name=name)


@transaction.atomic
def seed_agreements() -> None:
    if not Agreement.objects.filter(title=JDC_TITLE).exists():
        _joint_development()
    if not Agreement.objects.filter(title=FLA_TITLE).exists():
        _federated_learning()


def _joint_development() -> None:
    hugo, mia, amelie = _person("hugo"), _person("mia"), _person("amelie")
    agreement = services.agreement_create(
        actor=hugo,
        consortium=Consortium.objects.get(name__startswith="EuroLLM"),
        kind="joint_development",
        title=JDC_TITLE,
        governing_law=Jurisdiction.objects.get(pk="DE"),
        # Its first term ends within the expiry warning, so the consortium page highlights it.
        effective_on=timezone.localdate() - datetime.timedelta(days=320),
        expires_on=timezone.localdate() + datetime.timedelta(days=45),
    )
    services.party_add(
        actor=hugo,
        agreement=agreement,
        organisation=_organisation("Institut Lumière de Recherche"),
        role="licensor",
        signatory=amelie,
        signing_order=1,
    )
    services.party_add(
        actor=hugo,
        agreement=agreement,
        organisation=_organisation("Nordlicht Systems GmbH"),
        role="contributor",
        signatory=_person("jonas"),
        signing_order=2,
    )
    version = agreement.versions.get()
    for slug in JDC_CLAUSES:
        services.clause_add(
            actor=hugo, version=version, template=ClauseTemplate.objects.get(slug=slug)
        )
    services.version_submit(actor=hugo, version=version)
    services.approval_give(
        actor=hugo, version=version, comment="Agreed at the March steering meeting"
    )
    services.approval_give(actor=mia, version=version)
    services.agreement_send_for_signature(actor=amelie, agreement=agreement)
    for signatory in (amelie, _person("jonas")):
        signing.signature_sign(
            actor=signatory, version=version, password=DEMO_PASSWORD, consent=True
        )
    # Sealed right here rather than by the task the last signature queued (which then finds
    # it done), so that the amendment below can open on an executed agreement. Demo data
    # gets the demo CA unless the deployment has its own signing key.
    if settings.SIGNING_PKCS12_PATH is None:
        create_demo_ca(settings.SIGNING_DEMO_DIR)
    sealing.seal_executed(document_id=SignedDocument.objects.get(version=version).pk)
    lumiere, nordlicht = (
        _organisation("Institut Lumière de Recherche"),
        _organisation("Nordlicht Systems GmbH"),
    )
    base = asset_services.ip_asset_create(
        actor=hugo,
        consortium=agreement.consortium,
        name="EuroLLM-7B base weights",
        kind="model_weights",
        description="7-billion-parameter multilingual base model, trained on EU-resident data.",
        governing_agreement=agreement,
        shares=[
            Share(lumiere, Decimal("60"), Decimal("55")),
            Share(nordlicht, Decimal("40"), Decimal("45")),
        ],
    )
    asset_services.ip_asset_create(
        actor=mia,
        consortium=agreement.consortium,
        name="EuroLLM-7B legal-German fine-tune",
        kind="derived_work",
        description="Fine-tuned by Nordlicht on German case law.",
        governing_agreement=agreement,
        derived_from=[base],
        shares=[Share(nordlicht, Decimal("100"), Decimal("100"))],
    )
    amendment = services.version_new(
        actor=mia, agreement=agreement, note="Cap liability at twice the contributions"
    )
    liability = amendment.clauses.get(heading="Limitation of liability")
    services.clause_update(
        actor=mia,
        clause=liability,
        body=liability.body.replace("the contributions it made", "twice the contributions it made"),
    )


def _federated_learning() -> None:
    layla = _person("layla")
    agreement = services.agreement_create(
        actor=layla,
        consortium=Consortium.objects.get(name__startswith="Gulf Health"),
        kind="data_sharing",
        title=FLA_TITLE,
        governing_law=Jurisdiction.objects.get(pk="AE"),
        requires_steering_approval=True,
    )
    services.party_add(
        actor=layla,
        agreement=agreement,
        organisation=_organisation("Gulf Health Data Authority"),
        role="data_provider",
        signatory=_person("fatima"),
    )
    services.party_add(
        actor=layla,
        agreement=agreement,
        organisation=_organisation("Pearl Financial Analytics"),
        role="data_recipient",
        signatory=layla,
    )
    scans = asset_services.dataset_create(
        actor=_person("fatima"),
        consortium=agreement.consortium,
        owner=_organisation("Gulf Health Data Authority"),
        name="Chest CT scans 2019-2025",
        description="1.2 million de-identified chest CT studies from twelve public hospitals.",
        sensitivity="special_category",
        contains_personal_data=True,
        residency=Jurisdiction.objects.get(pk="AE"),
    )
    version = agreement.versions.get()
    for slug in FLA_CLAUSES:
        services.clause_add(
            actor=layla, version=version, template=ClauseTemplate.objects.get(slug=slug)
        )
    asset_services.clause_set_terms(
        actor=layla,
        clause=version.clauses.get(kind=ClauseKind.DATA_USAGE),
        terms={
            "datasets": [scans.pk],
            "purposes": ["research_and_development"],
            "actions_allowed": ["train", "fine_tune", "evaluate"],
            "actions_prohibited": ["copy_raw", "export_weights"],
            "jurisdictions": ["GCC"],
            "movement": "federated_only",
            "retention_days": 365,
            "onward_transfer": "requires_steering_approval",
            "derived_models_inherit": True,
        },
    )
    services.version_submit(actor=layla, version=version)
    services.approval_give(actor=layla, version=version)
