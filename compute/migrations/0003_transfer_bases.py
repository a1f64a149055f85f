"""Seed the EU's adequacy decisions and intra-bloc free movement (compute.compliance.transfer_data),
for the jurisdictions that exist."""

from django.db import migrations


def load(apps, schema_editor):
    from compute.compliance.transfer_data import rows

    Jurisdiction = apps.get_model("consortia", "Jurisdiction")
    TransferBasis = apps.get_model("compute", "TransferBasis")
    known = set(Jurisdiction.objects.values_list("code", flat=True))
    for row in rows(known):
        TransferBasis.objects.get_or_create(
            from_jurisdiction_id=row["from_jurisdiction_id"],
            to_jurisdiction_id=row["to_jurisdiction_id"],
            kind=row["kind"],
            valid_from=row["valid_from"],
            defaults={"reference": row["reference"], "scope_notes": row["scope_notes"]},
        )


def unload(apps, schema_editor):
    apps.get_model("compute", "TransferBasis").objects.filter(consortium__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("compute", "0002_compliance"), ("consortia", "0002_jurisdictions")]
    operations = [migrations.RunPython(load, unload)]
