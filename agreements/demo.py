"""Demo agreements for the quick start: an executed joint development agreement with an
amendment in draft (so there is a redline to look at), and a data sharing agreement in review.
Built through the services; running it again changes nothing."""

from __future__ import annotations

from django.db import transaction

from agreements import services
from agreements.models import Agreement, ClauseTemplate
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
    services.agreement_record_execution(actor=amelie, agreement=agreement)
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
    version = agreement.versions.get()
    for slug in FLA_CLAUSES:
        services.clause_add(
            actor=layla, version=version, template=ClauseTemplate.objects.get(slug=slug)
        )
    services.version_submit(actor=layla, version=version)
    services.approval_give(actor=layla, version=version)
