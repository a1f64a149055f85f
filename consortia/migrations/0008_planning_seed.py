"""Give every existing consortium the risks and milestones of its partnership model.

The same rows ``planning_services.seed_for`` adds to a new consortium, written with the
historical models; idempotent on the keys, and due dates count from each consortium's
founding day (in the deployment's time zone).
"""

from django.db import migrations
from django.utils import timezone

from consortia import planning_data


def seed(apps, schema_editor):
    Consortium = apps.get_model("consortia", "Consortium")
    Risk = apps.get_model("consortia", "Risk")
    Milestone = apps.get_model("consortia", "Milestone")
    for consortium in Consortium.objects.select_related("partnership_model").iterator():
        model = consortium.partnership_model
        founded_on = timezone.localdate(consortium.created_at)
        risk_keys = set(
            Risk.objects.filter(consortium=consortium).values_list("key", flat=True)
        )
        Risk.objects.bulk_create(
            [
                Risk(
                    consortium=consortium,
                    key=template.key,
                    title=template.title,
                    description=template.description,
                    category=template.category,
                    likelihood=template.likelihood,
                    impact=template.impact,
                    mitigations=template.mitigations,
                    review_on=planning_data.add_months(
                        founded_on, planning_data.FIRST_REVIEW_MONTHS
                    ),
                    from_model=True,
                )
                for template in planning_data.planned_risks(model.code)
                if template.key not in risk_keys
            ]
        )
        milestone_keys = set(
            Milestone.objects.filter(consortium=consortium).values_list("key", flat=True)
        )
        Milestone.objects.bulk_create(
            [
                Milestone(
                    consortium=consortium,
                    key=planned.template.key,
                    title=planned.template.title,
                    description=planned.template.description,
                    position=planned.position,
                    target_months=planned.target_months,
                    due_on=planned.due_on,
                )
                for planned in planning_data.planned_milestones(
                    model.code,
                    model.time_to_operationalize_min_months,
                    model.time_to_operationalize_max_months,
                    founded_on,
                )
                if planned.template.key not in milestone_keys
            ]
        )


def unseed(apps, schema_editor):
    apps.get_model("consortia", "Risk").objects.filter(from_model=True).delete()
    apps.get_model("consortia", "Milestone").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("consortia", "0007_planning"),
    ]

    operations = [
        migrations.RunPython(seed, unseed),
    ]
