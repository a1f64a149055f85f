"""Demo compliance for the Gulf Health alliance: a sovereign site in Abu Dhabi, approved, and a
federated training job on the chest CT scans — which the engine denies, because the data
sharing agreement that would allow it is still in review. A staging copy of the scans already
sits at the site, under the same unexecuted terms. The sweep turns both into findings,
and the what-if form is there to try the job once the agreement is executed."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from agreements.models import Dataset
from compute import directory
from compute.compliance import placements, services, sweeps
from compute.compliance.models import Job
from consortia.models import Consortium, Jurisdiction, User

JOB_NAME = "CT triage model, round 1"


@transaction.atomic
def seed_compliance() -> None:
    if Job.objects.filter(name=JOB_NAME).exists():
        return
    gulf = Consortium.objects.get(name__startswith="Gulf Health")
    fatima, omar = User.objects.get(username="fatima"), User.objects.get(username="omar")
    emirates = Jurisdiction.objects.get(pk="AE")
    provider = directory.provider_register(
        actor=fatima,
        legal_name="Khazna Sovereign Cloud LLC",
        head_office_jurisdiction=emirates,
        ultimate_parent_jurisdiction=emirates,
    )
    site = directory.site_register(
        actor=fatima,
        provider=provider,
        name="Abu Dhabi-1",
        jurisdiction=emirates,
        administered_from=[emirates],
        air_gapped=True,
    )
    today = timezone.localdate()
    directory.approve(
        actor=fatima,
        consortium=gulf,
        provider=provider,
        valid_from=today - datetime.timedelta(days=30),
        conditions="Health data only in the air-gapped hall.",
    )
    scans = Dataset.objects.get(consortium=gulf, name__startswith="Chest CT")
    starts = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    job = services.job_propose(
        actor=omar,
        consortium=gulf,
        name=JOB_NAME,
        datasets=[scans.pk],
        sites=[site.pk],
        purpose="research_and_development",
        action="train",
        movement="federated",
        output_jurisdiction="AE",
        starts_at=starts + datetime.timedelta(days=7),
        ends_at=starts + datetime.timedelta(days=37),
        aggregation_site=site.pk,
        secure_aggregation=True,
        dp_epsilon=2.0,
    )
    services.decide_and_record(actor=omar, consortium=gulf, spec_or_job=job, explain=True)
    placements.placement_record(
        actor=omar,
        consortium=gulf,
        dataset=scans,
        site=site,
        since=today - datetime.timedelta(days=14),
        note="Staging copy for the first federated round.",
    )
    sweeps.sweep_consortium(gulf.pk)
    # EuroLLM's granted capacity breaks rules too: its page charts findings like Gulf Health's.
    sweeps.sweep_consortium(Consortium.objects.get(name__startswith="EuroLLM").pk)
