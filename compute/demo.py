"""Demo compute for the EuroLLM consortium, dated from today so it always looks current:
three providers (two approved, one exposed to the US CLOUD Act and not approved), an H100
pool at Paris-Saclay and Kajaani, contributions that set shares, three months of usage, a
board that has approved, rejected and queued requests, one referred to a vote, and a loan.
Everything goes through the services, so the audit chain tells the same story."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from compute import allocations, directory, fairshare, lending, pools, shares, usage
from compute.models import AllocationRequest, Pool, Site
from consortia import services as consortium_services
from consortia.models import Consortium, Jurisdiction, Organisation, User

POOL_NAME = "EuroLLM H100 pool"
CONSORTIUM = "EuroLLM Joint Development Consortium"
# Who sits on the capacity board: one person from each of two members, so each member's
# request is decided by someone from another organisation.
BOARD = ("sanne", "lena")


def _person(username: str) -> User:
    return User.objects.get(username=username)


def _organisation(name: str) -> Organisation:
    return Organisation.objects.get(name=name)


def _country(code: str) -> Jurisdiction:
    return Jurisdiction.objects.get(pk=code)


def _at(day: datetime.date, hour: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


@transaction.atomic
def seed_compute() -> None:
    if Pool.objects.filter(name=POOL_NAME).exists():
        return
    consortium = Consortium.objects.get(name=CONSORTIUM)
    amelie, jonas, sanne, lena = (_person(name) for name in ("amelie", "jonas", "sanne", "lena"))
    for username in BOARD:
        consortium_services.role_assign(
            actor=amelie, consortium=consortium, user=_person(username), role="capacity_board"
        )
    today = timezone.localdate()
    paris, kajaani = _directory(amelie, consortium, today)
    pool = pools.pool_create(
        actor=amelie,
        consortium=consortium,
        name=POOL_NAME,
        gpu_type="H100",
        sites=[paris, kajaani],
        board_reserve=Decimal("0.05"),
        vote_above_gpu_hours=Decimal(60000),
    )
    from compute.capacity import capacity_change

    start = _at(today - datetime.timedelta(days=180))
    capacity_change(actor=amelie, pool=pool, site=paris, effective_at=start, gpus=64)
    capacity_change(actor=amelie, pool=pool, site=kajaani, effective_at=start, gpus=32)
    capacity_change(
        actor=amelie,
        pool=pool,
        site=kajaani,
        effective_at=_at(today - datetime.timedelta(days=45)),
        gpus=48,
        reason="Second rack of H100s commissioned",
    )
    lumiere, nordlicht = (
        _organisation("Institut Lumière de Recherche"),
        _organisation("Nordlicht Systems GmbH"),
    )
    castilla, polder = _organisation("Agencia Digital de Castilla"), _organisation("Polder AI B.V.")
    for organisation, kind, amount, days_ago, site in (
        (lumiere, "capital", "1200000", 170, None),
        (nordlicht, "capital", "800000", 170, None),
        (castilla, "capital", "400000", 120, None),
        (polder, "in_kind", "160000", 90, kajaani),
    ):
        shares.contribution_record(
            actor=amelie,
            pool=pool,
            organisation=organisation,
            kind=kind,
            amount=Decimal(amount),
            contributed_on=today - datetime.timedelta(days=days_ago),
            site=site,
            reference="Consortium agreement, schedule 3",
        )
    _usage(
        lena,
        pool,
        today,
        paris,
        kajaani,
        {lumiere: 0.55, nordlicht: 0.12, castilla: 0.06, polder: 0.02},
    )
    _requests(pool, today, amelie, jonas, sanne, lena, paris, kajaani)
    lending.loan_grant(
        actor=jonas,
        pool=pool,
        borrower=castilla,
        gpu_hours=Decimal(3000),
        starts_on=today + datetime.timedelta(days=1),
        ends_on=today + datetime.timedelta(days=31),
        note="Until Castilla's second contribution arrives",
    )
    fairshare.check_alerts(pool, today)


def _directory(amelie: User, consortium: Consortium, today: datetime.date) -> tuple[Site, Site]:
    sovereign = directory.provider_register(
        actor=amelie,
        legal_name="Calcul Souverain SAS",
        head_office_jurisdiction=_country("FR"),
        ultimate_parent_jurisdiction=_country("FR"),
    )
    directory.certification_record(
        actor=amelie,
        provider=sovereign,
        scheme="secnumcloud",
        level="3.2",
        valid_from=today - datetime.timedelta(days=400),
        valid_until=today + datetime.timedelta(days=40),
        evidence="ANSSI-CSPN-2025/14",
    )
    paris = directory.site_register(
        actor=amelie,
        provider=sovereign,
        name="Paris-Saclay",
        jurisdiction=_country("FR"),
        administered_from=[_country("FR")],
    )
    aurora = directory.provider_register(
        actor=amelie,
        legal_name="Aurora Compute Oy",
        head_office_jurisdiction=_country("FI"),
        ultimate_parent_jurisdiction=_country("FI"),
    )
    directory.certification_record(
        actor=amelie,
        provider=aurora,
        scheme="eucs",
        level="High",
        valid_from=today - datetime.timedelta(days=200),
        valid_until=today + datetime.timedelta(days=900),
        evidence="EUCS-H-FI-0007",
    )
    directory.certification_record(
        actor=amelie,
        provider=aurora,
        scheme="iso_27001",
        valid_from=today - datetime.timedelta(days=500),
        valid_until=today + datetime.timedelta(days=600),
        evidence="ISO-27001-AUR-2025",
    )
    kajaani = directory.site_register(
        actor=amelie,
        provider=aurora,
        name="Kajaani",
        jurisdiction=_country("FI"),
        administered_from=[_country("FI")],
        air_gapped=True,
    )
    hyperscale = directory.provider_register(
        actor=amelie,
        legal_name="Hyperscale Europe BV",
        head_office_jurisdiction=_country("NL"),
        ultimate_parent_jurisdiction=_country("US"),
    )
    for law in ("us_cloud_act", "us_fisa_702"):
        directory.exposure_record(
            actor=amelie,
            provider=hyperscale,
            law=law,
            basis="parent",
            assessed_on=today - datetime.timedelta(days=30),
            notes="Ultimate parent incorporated in the United States.",
        )
    directory.site_register(
        actor=amelie,
        provider=hyperscale,
        name="Amsterdam-3",
        jurisdiction=_country("NL"),
        administered_from=[_country("NL"), _country("US")],
    )
    for provider, conditions in (
        (sovereign, "Personal data only under the data-usage terms of each data set."),
        (aurora, ""),
    ):
        directory.approve(
            actor=amelie,
            consortium=consortium,
            provider=provider,
            valid_from=today - datetime.timedelta(days=200),
            conditions=conditions,
        )
    return paris, kajaani


def _usage(
    reporter: User,
    pool: Pool,
    today: datetime.date,
    paris: Site,
    kajaani: Site,
    appetite: dict[Organisation, float],
) -> None:
    """Ninety days of daily usage; each member uses roughly its appetite of the pool's GPUs,
    from a fixed seed so the demo is the same every time."""
    randomness = random.Random(20261203)  # noqa: S311 - demo figures, not security
    rows = []
    for days_ago in range(90, 0, -1):
        day = today - datetime.timedelta(days=days_ago)
        for site, gpus in ((paris, 64), (kajaani, 32)):
            for organisation, share in appetite.items():
                hours = gpus * 24 * share * randomness.uniform(0.6, 1.1)
                rows.append(
                    {
                        "organisation": organisation.pk,
                        "site": site.pk,
                        "day": day,
                        "gpu_hours": Decimal(f"{hours:.1f}"),
                    }
                )
    usage.usage_ingest(actor=reporter, pool=pool, rows=rows)


def _requests(
    pool: Pool,
    today: datetime.date,
    amelie: User,
    jonas: User,
    sanne: User,
    lena: User,
    paris: Site,
    kajaani: Site,
) -> None:
    def ask(
        actor: User, gpus: int, starts: int, days: int, purpose: str, sites: list[Site]
    ) -> AllocationRequest:
        return allocations.request_submit(
            actor=actor,
            pool=pool,
            gpus=gpus,
            starts_at=_at(today + datetime.timedelta(days=starts)),
            ends_at=_at(today + datetime.timedelta(days=starts + days)),
            purpose=purpose,
            sites=sites,
        )

    training = ask(amelie, 32, 2, 14, "Pre-training run 4 of the 7B multilingual model", [paris])
    allocations.request_decide(actor=sanne, request=training, decision="approve")
    evaluation = ask(
        jonas, 16, 5, 10, "Evaluation sweep on the German legal benchmark", [kajaani, paris]
    )
    allocations.request_decide(
        actor=sanne,
        request=evaluation,
        decision="approve",
        gpus=12,
        reason="Twelve GPUs cover the sweep; the rest stays free for the pre-training run.",
    )
    speculative = ask(jonas, 40, 20, 30, "Speculative architecture search", [paris])
    allocations.request_decide(
        actor=sanne,
        request=speculative,
        decision="reject",
        reason="Not in the work plan agreed for this quarter; bring it to the next steering meeting.",
    )
    big = ask(amelie, 48, 25, 60, "Full pre-training of the 30B model", [paris, kajaani])
    allocations.request_decide(
        actor=lena,
        request=big,
        decision="approve",
        reason="Recommended: it is the consortium's flagship run.",
    )
    ask(
        sanne,
        8,
        3,
        7,
        "Fine-tuning the Dutch public-sector assistant on Kajaani (air-gapped)",
        [kajaani],
    )
