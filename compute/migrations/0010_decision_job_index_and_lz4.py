"""Decisions: one index fewer, and their snapshots compressed with LZ4.

* ``job_id`` had an index of its own besides (job_id, decided_at), which serves every lookup
  by job: each decision paid for inserting into both.
* A decision's input snapshot (and an explained decision's list of checks) is a few
  kilobytes of JSON, over PostgreSQL's TOAST threshold, so each is compressed when stored:
  LZ4 does that, and reading it back, several times faster than the default pglz. Only where
  the server was built with LZ4 (PostgreSQL's own images are); elsewhere nothing changes.

SQLite (the quick start) alters a column by rebuilding the table, which drops the trigger that
keeps decisions append-only there (migration 0002): it is created again after the rebuild, in
either direction.
"""

import django.db.models.deletion
from django.db import migrations, models

COLUMNS = ("input_snapshot", "explain")
SQLITE_APPEND_ONLY = """CREATE TRIGGER IF NOT EXISTS compliance_decision_no_update
    BEFORE UPDATE ON compute_decision
    BEGIN SELECT RAISE(ABORT, 'compliance decisions are append-only: UPDATE refused'); END"""


def _sqlite_append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_APPEND_ONLY)


def _set_compression(method: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for column in COLUMNS:
            schema_editor.execute(
                "DO $$ BEGIN EXECUTE 'ALTER TABLE compute_decision ALTER COLUMN "
                f"{column} SET COMPRESSION {method}'; "
                "EXCEPTION WHEN feature_not_supported THEN NULL; END $$"
            )

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("compute", "0009_compliance_rules_generation"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, _sqlite_append_only),
        migrations.AlterField(
            model_name="decision",
            name="job",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="decisions",
                to="compute.job",
            ),
        ),
        migrations.RunPython(_sqlite_append_only, migrations.RunPython.noop),
        migrations.RunPython(_set_compression("lz4"), _set_compression("default")),
    ]
