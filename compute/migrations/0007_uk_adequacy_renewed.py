"""The EU's adequacy decision for the United Kingdom, as it now stands.

Decision (EU) 2021/1772 carried a four-year sunset clause (27 June 2025); the Commission
extended it by six months, to 27 December 2025, and on 19 December 2025 renewed it until
27 December 2031. Law as dated data: the 2021 decision ends on the day the renewal takes over,
so a job dated in either period finds the basis that held then, and one after 2031 finds none.
"""

import datetime

from django.db import migrations

ORIGINAL = "Commission Implementing Decision (EU) 2021/1772"
HANDOVER = datetime.date(2025, 12, 27)
RENEWAL = {
    "reference": "Commission Implementing Decision of 19 December 2025 renewing Decision "
    "(EU) 2021/1772",
    "scope_notes": "GDPR transfers (a separate decision covers the Law Enforcement "
    "Directive), renewed for six years; personal data processed for immigration control is "
    "now in scope. A review follows after four years.",
    "valid_until": datetime.date(2031, 12, 27),
}


def load(apps, schema_editor):
    TransferBasis = apps.get_model("compute", "TransferBasis")
    original = TransferBasis.objects.filter(
        from_jurisdiction_id="EU",
        to_jurisdiction_id="GB",
        kind="adequacy_decision",
        reference=ORIGINAL,
        consortium__isnull=True,
    ).first()
    if original is None:  # the jurisdictions were not there to seed
        return
    original.valid_until = HANDOVER
    original.save(update_fields=["valid_until"])
    TransferBasis.objects.get_or_create(
        from_jurisdiction_id="EU",
        to_jurisdiction_id="GB",
        kind="adequacy_decision",
        valid_from=HANDOVER,
        consortium=None,
        defaults=RENEWAL,
    )


def unload(apps, schema_editor):
    TransferBasis = apps.get_model("compute", "TransferBasis")
    TransferBasis.objects.filter(
        to_jurisdiction_id="GB", valid_from=HANDOVER, consortium__isnull=True
    ).delete()
    TransferBasis.objects.filter(
        to_jurisdiction_id="GB", reference=ORIGINAL, consortium__isnull=True
    ).update(valid_until=None)


class Migration(migrations.Migration):
    dependencies = [("compute", "0006_placements_and_findings_on_any_item")]
    operations = [migrations.RunPython(load, unload)]
