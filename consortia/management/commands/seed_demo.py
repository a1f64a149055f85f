"""Create the demo world (or, with --scale, a large synthetic one for benchmarks)."""

from __future__ import annotations

import importlib
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from consortia import demo, services
from consortia.models import (
    Consortium,
    Jurisdiction,
    Membership,
    Organisation,
    PartnershipModel,
    RoleAssignment,
    User,
)


class Command(BaseCommand):
    help = "Seed demo organisations, consortia and people (idempotent). --scale adds a large synthetic data set."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale", action="store_true", help="Also bulk-create a large synthetic data set."
        )
        parser.add_argument(
            "--factor", type=int, default=1, help="Multiply the synthetic data set (with --scale)."
        )
        parser.add_argument(
            "--seed", type=int, default=20261128, help="Random seed for the synthetic data set."
        )
        parser.add_argument("--force", action="store_true", help="Seed even though DEBUG is off.")

    def handle(
        self, *args: Any, scale: bool, factor: int, seed: int, force: bool, **options: Any
    ) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates accounts with a published password; it runs only with DEBUG on "
                "(or --force, for a disposable benchmark database)."
            )
        if factor < 1:
            raise CommandError("--factor must be at least 1.")
        organisations = self._organisations()
        people = self._people(organisations)
        for spec in demo.CONSORTIA:
            self._consortium(spec, organisations, people)
        self._operator()
        from consortia.governance.demo import seed_governance

        seed_governance()
        # The apps built on this one add their demo data (see each app's demo module).
        for module, seeder in (
            ("agreements.demo", "seed_agreements"),
            ("compute.demo", "seed_compute"),
            ("compute.compliance.demo", "seed_compliance"),
            ("alliance.partners.demo", "seed_partners"),
        ):
            said = getattr(importlib.import_module(module), seeder)()
            if isinstance(said, str):
                self.stdout.write(said)
        if scale:
            from consortia.scale import seed_scale

            counts = seed_scale(factor=factor, seed=seed)
            self.stdout.write(
                "Synthetic data set: "
                + ", ".join(f"{count:,} {name}" for name, count in counts.items())
            )
        self._print_logins()

    def _organisations(self) -> dict[str, Organisation]:
        found: dict[str, Organisation] = {}
        for spec in demo.ORGANISATIONS:
            organisation = Organisation.objects.filter(name=spec.name).first()
            if organisation is None:
                organisation = services.organisation_create(
                    actor=None,
                    name=spec.name,
                    kind=spec.kind,
                    home_jurisdiction=Jurisdiction.objects.get(pk=spec.country),
                    registration_id=spec.registration_id,
                )
            found[spec.key] = organisation
        return found

    def _people(self, organisations: dict[str, Organisation]) -> dict[str, User]:
        found: dict[str, User] = {}
        for spec in demo.PEOPLE:
            user = User.objects.filter(username=spec.username).first()
            if user is None:
                user = User.objects.create_user(
                    username=spec.username,
                    password=demo.DEMO_PASSWORD,
                    email=f"{spec.username}@example.org",
                    first_name=spec.first_name,
                    last_name=spec.last_name,
                    organisation=organisations[spec.organisation],
                    is_organisation_admin=spec.is_organisation_admin,
                )
            found[spec.username] = user
        return found

    @transaction.atomic
    def _consortium(
        self,
        spec: demo.DemoConsortium,
        organisations: dict[str, Organisation],
        people: dict[str, User],
    ) -> None:
        if Consortium.objects.filter(name=spec.name).exists():
            return
        chair = people[spec.founder]
        consortium = services.consortium_create(
            actor=chair,
            name=spec.name,
            partnership_model=PartnershipModel.objects.get(pk=spec.model),
            home_jurisdiction=Jurisdiction.objects.get(pk=spec.jurisdiction),
            charter=spec.charter,
        )
        for key in spec.members:
            membership = services.membership_invite(
                actor=chair, consortium=consortium, organisation=organisations[key]
            )
            services.membership_admit(actor=chair, membership=membership)
        for key in spec.invited:
            services.membership_invite(
                actor=chair, consortium=consortium, organisation=organisations[key]
            )
        for username, role in spec.roles:
            services.role_assign(
                actor=chair, consortium=consortium, user=people[username], role=role
            )
        if spec.status != consortium.status:
            services.consortium_transition(actor=chair, consortium=consortium, status=spec.status)

    def _operator(self) -> None:
        if not User.objects.filter(username="operator").exists():
            User.objects.create_superuser(
                username="operator",
                password=demo.DEMO_PASSWORD,
                email="operator@example.org",
                first_name="Platform",
                last_name="Operator",
            )

    def _print_logins(self) -> None:
        self.stdout.write(
            self.style.SUCCESS(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
        )
        roles = {
            (assignment.user.username, assignment.consortium.name, assignment.get_role_display())
            for assignment in RoleAssignment.objects.select_related("user", "consortium").filter(
                user__username__in=[person.username for person in demo.PEOPLE]
            )
        }
        for person in demo.PEOPLE:
            held = sorted(
                f"{role} of {name}" for username, name, role in roles if username == person.username
            )
            organisation = next(o.name for o in demo.ORGANISATIONS if o.key == person.organisation)
            admin = ", organisation admin" if person.is_organisation_admin else ""
            self.stdout.write(
                f"  {person.username:<8} {organisation}{admin}: {'; '.join(held) or 'member, no role'}"
            )
        self.stdout.write("  operator  platform operator (superuser, /admin/)")
        active = Membership.objects.filter(status="active").count()
        self.stdout.write(f"{Consortium.objects.count()} consortia, {active} active memberships.")
