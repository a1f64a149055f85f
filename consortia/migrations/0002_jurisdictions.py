"""Load ISO 3166-1 countries and the EU, EEA and GCC blocs with dated memberships.

The data sits in consortia/data/jurisdictions.json (with its sources), so the migration gives
the same rows forever, whatever later releases of a country-code package say. Later changes
(a country joining a bloc) arrive as new data migrations.
"""

import datetime
import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "jurisdictions.json"


def load(apps, schema_editor):
    Jurisdiction = apps.get_model("consortia", "Jurisdiction")
    JurisdictionMembership = apps.get_model("consortia", "JurisdictionMembership")
    data = json.loads(DATA.read_text(encoding="utf-8"))
    Jurisdiction.objects.bulk_create(
        [Jurisdiction(code=row["code"], name=row["name"], kind="country") for row in data["countries"]]
    )
    for bloc in data["blocs"]:
        Jurisdiction.objects.create(code=bloc["code"], name=bloc["name"], kind="bloc")
        JurisdictionMembership.objects.bulk_create(
            [
                JurisdictionMembership(
                    bloc_id=bloc["code"],
                    member_id=member["member"],
                    joined_on=datetime.date.fromisoformat(member["joined_on"]),
                    left_on=datetime.date.fromisoformat(member["left_on"]) if member["left_on"] else None,
                )
                for member in bloc["members"]
            ]
        )


def unload(apps, schema_editor):
    apps.get_model("consortia", "JurisdictionMembership").objects.all().delete()
    apps.get_model("consortia", "Jurisdiction").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("consortia", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
