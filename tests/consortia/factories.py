"""Factories for the consortium domain. They write rows directly: tests of the services
build their starting state with these, then act through the services."""

from __future__ import annotations

import datetime

import factory
from django.contrib.auth.hashers import make_password

from consortia.models import Consortium, Membership, Organisation, Role, RoleAssignment, User


class OrganisationFactory(factory.django.DjangoModelFactory[Organisation]):
    class Meta:
        model = Organisation

    name: factory.Sequence[str] = factory.Sequence(lambda n: f"Organisation {n}")
    kind = Organisation.Kind.COMPANY
    home_jurisdiction_id = "DE"
    registration_id: factory.Sequence[str] = factory.Sequence(lambda n: f"REG-{n:06d}")


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User

    username: factory.Sequence[str] = factory.Sequence(lambda n: f"person{n}")
    email: factory.LazyAttribute[User, str] = factory.LazyAttribute(
        lambda user: f"{user.username}@example.org"
    )
    first_name = "Test"
    last_name: factory.LazyAttribute[User, str] = factory.LazyAttribute(
        lambda user: user.username.capitalize()
    )
    organisation: factory.SubFactory[User, Organisation] = factory.SubFactory(OrganisationFactory)
    password: factory.LazyFunction[str] = factory.LazyFunction(lambda: make_password("password"))


class ConsortiumFactory(factory.django.DjangoModelFactory[Consortium]):
    class Meta:
        model = Consortium

    name: factory.Sequence[str] = factory.Sequence(lambda n: f"Consortium {n}")
    partnership_model_id = "joint_development"
    home_jurisdiction_id = "EU"
    status = Consortium.Status.OPERATIONAL
    charter = "Members co-develop models."


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    consortium: factory.SubFactory[Membership, Consortium] = factory.SubFactory(ConsortiumFactory)
    organisation: factory.SubFactory[Membership, Organisation] = factory.SubFactory(
        OrganisationFactory
    )
    status = Membership.Status.ACTIVE
    joined_on: factory.LazyFunction[datetime.date] = factory.LazyFunction(
        lambda: datetime.date(2026, 1, 1)
    )


class RoleAssignmentFactory(factory.django.DjangoModelFactory[RoleAssignment]):
    class Meta:
        model = RoleAssignment

    consortium: factory.SubFactory[RoleAssignment, Consortium] = factory.SubFactory(
        ConsortiumFactory
    )
    user: factory.SubFactory[RoleAssignment, User] = factory.SubFactory(UserFactory)
    role = Role.OBSERVER
