"""Findings: half of each table page left free, so that a sweep's update stays on its page.

Every sweep rewrites every unresolved finding it sees again (``last_seen_at``). With pages
packed full, PostgreSQL put each new row version on another page and so added an entry to
each of the table's nine indexes: 680,000 index entries and a table that grew by a copy of
itself per sweep of 170,000 findings. With room on the page the update is a heap-only one
(no index entry; ``last_seen_at`` is in no index), and the space of the version before is
reused by the next sweep. Rows already stored move to roomier pages as they are rewritten.

PostgreSQL only: SQLite has no fill factor.
"""

from django.db import migrations


def _fillfactor(percent: int):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE compute_finding SET (fillfactor = {percent})")

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("compute", "0010_decision_job_index_and_lz4"),
    ]

    operations = [
        migrations.RunPython(_fillfactor(50), _fillfactor(100)),
    ]
