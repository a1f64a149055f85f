"""The starter clause library, written for Alliance and reflecting the founding guide: joint
ownership with revenue sharing for joint development, ownership retained by each participant
for federated learning, shared ownership with usage rights and service levels for pools."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "clause_library.json"


def load(apps, schema_editor):
    ClauseTemplate = apps.get_model("agreements", "ClauseTemplate")
    for row in json.loads(DATA.read_text(encoding="utf-8")):
        model = row.pop("partnership_model")
        ClauseTemplate.objects.update_or_create(slug=row["slug"], defaults={**row, "partnership_model_id": model})


def unload(apps, schema_editor):
    slugs = [row["slug"] for row in json.loads(DATA.read_text(encoding="utf-8"))]
    apps.get_model("agreements", "ClauseTemplate").objects.filter(slug__in=slugs).delete()


class Migration(migrations.Migration):
    dependencies = [("agreements", "0002_version_immutability"), ("consortia", "0003_partnership_models")]
    operations = [migrations.RunPython(load, unload)]
