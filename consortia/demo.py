"""The demo world that ``seed_demo`` creates: three consortia, one per partnership model.

Names are fictional. Everything is created through the services, so the demo has a real
audit trail; running it again finds what exists and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

DEMO_PASSWORD = "alliance-demo"  # noqa: S105 - printed for the quick start, refused in production


@dataclass(frozen=True)
class DemoOrganisation:
    key: str
    name: str
    kind: str
    country: str
    registration_id: str


@dataclass(frozen=True)
class DemoPerson:
    username: str
    first_name: str
    last_name: str
    organisation: str
    is_organisation_admin: bool = False


@dataclass(frozen=True)
class DemoConsortium:
    name: str
    model: str
    jurisdiction: str
    status: str
    charter: str
    founder: str  # username; becomes chair
    members: tuple[str, ...]  # organisation keys admitted after the founder's
    invited: tuple[str, ...]
    roles: tuple[tuple[str, str], ...]  # (username, role)


ORGANISATIONS = (
    DemoOrganisation(
        "lumiere", "Institut Lumière de Recherche", "research", "FR", "FR-RNSR-199912345"
    ),
    DemoOrganisation("nordlicht", "Nordlicht Systems GmbH", "company", "DE", "HRB 123456"),
    DemoOrganisation("castilla", "Agencia Digital de Castilla", "public_body", "ES", "Q4700001A"),
    DemoOrganisation("polder", "Polder AI B.V.", "company", "NL", "KVK 87654321"),
    DemoOrganisation("aurora", "Aurora Compute Oy", "company", "FI", "3141592-6"),
    DemoOrganisation(
        "gulfhealth", "Gulf Health Data Authority", "public_body", "AE", "AE-GOV-0042"
    ),
    DemoOrganisation("najd", "Najd Institute for Applied AI", "research", "SA", "SA-CR-1010101010"),
    DemoOrganisation("pearl", "Pearl Financial Analytics", "company", "QA", "QFC-00777"),
)

PEOPLE = (
    DemoPerson("amelie", "Amélie", "Laurent", "lumiere", is_organisation_admin=True),
    DemoPerson("hugo", "Hugo", "Martin", "lumiere"),
    DemoPerson("jonas", "Jonas", "Weber", "nordlicht", is_organisation_admin=True),
    DemoPerson("lena", "Lena", "Fischer", "nordlicht"),
    DemoPerson("mia", "Mia", "Koch", "nordlicht"),
    DemoPerson("carmen", "Carmen", "Ruiz", "castilla", is_organisation_admin=True),
    DemoPerson("diego", "Diego", "Santos", "castilla"),
    DemoPerson("sanne", "Sanne", "de Vries", "polder", is_organisation_admin=True),
    DemoPerson("aino", "Aino", "Virtanen", "aurora", is_organisation_admin=True),
    DemoPerson("fatima", "Fatima", "Al Mansoori", "gulfhealth", is_organisation_admin=True),
    DemoPerson("omar", "Omar", "Al Harbi", "najd", is_organisation_admin=True),
    DemoPerson("layla", "Layla", "Al Thani", "pearl", is_organisation_admin=True),
    DemoPerson("yusuf", "Yusuf", "Al Kuwari", "pearl"),
)

CONSORTIA = (
    DemoConsortium(
        name="EuroLLM Joint Development Consortium",
        model="joint_development",
        jurisdiction="EU",
        status="operational",
        charter=(
            "Members co-develop open multilingual foundation models for European languages.\n\n"
            "Training data stays in the EU; model weights are jointly owned and licensed to "
            "members royalty-free, with revenue from third-party licences shared by contribution."
        ),
        founder="amelie",
        members=("nordlicht", "castilla", "polder"),
        invited=("aurora",),
        roles=(
            ("hugo", "legal"),
            ("jonas", "steering_member"),
            ("lena", "technical"),
            ("mia", "legal"),
            ("carmen", "auditor"),
            ("diego", "observer"),
            ("sanne", "steering_member"),
        ),
    ),
    DemoConsortium(
        name="Gulf Health Federated Learning Alliance",
        model="federated_learning",
        jurisdiction="GCC",
        status="operational",
        charter=(
            "Hospitals' and insurers' data never leaves its owner: models travel to the data, "
            "and only aggregated updates leave a site. Each participant keeps its own IP."
        ),
        founder="fatima",
        members=("najd", "pearl"),
        invited=(),
        roles=(
            ("omar", "steering_member"),
            ("layla", "legal"),
            ("yusuf", "observer"),
        ),
    ),
    DemoConsortium(
        name="Nordic Sovereign GPU Pool",
        model="infrastructure_pool",
        jurisdiction="EU",
        status="forming",
        charter="Members co-invest in H100 capacity hosted in Finland; a board allocates capacity.",
        founder="aino",
        members=("nordlicht", "polder"),
        invited=("lumiere",),
        roles=(
            ("jonas", "steering_member"),
            ("sanne", "technical"),
        ),
    ),
)
