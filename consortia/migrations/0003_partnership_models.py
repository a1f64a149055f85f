"""The founding guide's three partnership models and their comparison, as data."""

from django.db import migrations

MODELS = [
    {
        "code": "joint_development",
        "name": "Joint Development Consortium",
        "objective": "Co-create models and algorithms.",
        "legal_framework_complexity": "high",
        "legal_framework": "Detailed IP ownership and NDA agreements.",
        "data_movement": "Data is pooled in a central repository inside the jurisdiction.",
        "ip_ownership": "Jointly owned, with revenue sharing.",
        "governance": "Steering committee and formal approvals.",
        "governance_overhead": "high",
        "time_to_operationalize_min_months": 6,
        "time_to_operationalize_max_months": 12,
        "best_for": "Pre-competitive R&D on foundation models.",
        "key_risk": "IP disputes and slow decision-making.",
    },
    {
        "code": "federated_learning",
        "name": "Federated Learning Alliance",
        "objective": "Share insights from siloed data without sharing the data.",
        "legal_framework_complexity": "medium",
        "legal_framework": "Data protocols: what may be computed where, and what may leave.",
        "data_movement": "None: models move to the data, raw data never leaves its owner.",
        "ip_ownership": "Retained by each participant.",
        "governance": "Technical coordination.",
        "governance_overhead": "low",
        "time_to_operationalize_min_months": 3,
        "time_to_operationalize_max_months": 6,
        "best_for": "Sensitive data, such as health and finance.",
        "key_risk": "Model poisoning and inference attacks.",
    },
    {
        "code": "infrastructure_pool",
        "name": "Infrastructure Co-Investment Pool",
        "objective": "Share the capital cost of sovereign GPU and cloud capacity.",
        "legal_framework_complexity": "medium",
        "legal_framework": "Usage rights and service-level agreements.",
        "data_movement": "Set by the co-owned infrastructure's rules.",
        "ip_ownership": "Shared ownership of the assets.",
        "governance": "A board allocates capacity.",
        "governance_overhead": "medium",
        "time_to_operationalize_min_months": 9,
        "time_to_operationalize_max_months": 18,
        "best_for": "The high upfront cost of sovereign cloud.",
        "key_risk": "Misaligned capacity needs leading to conflict.",
    },
]


def load(apps, schema_editor):
    PartnershipModel = apps.get_model("consortia", "PartnershipModel")
    for row in MODELS:
        PartnershipModel.objects.update_or_create(code=row["code"], defaults=row)


def unload(apps, schema_editor):
    apps.get_model("consortia", "PartnershipModel").objects.filter(
        code__in=[row["code"] for row in MODELS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("consortia", "0002_jurisdictions")]
    operations = [migrations.RunPython(load, unload)]
