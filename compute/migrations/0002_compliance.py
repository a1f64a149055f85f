"""The compliance engine's tables: transfer bases, jobs, decisions.

Decisions are append-only in the database itself. PostgreSQL: a row trigger refuses UPDATE and
DELETE (ENABLE ALWAYS, as for audit events); TRUNCATE stays possible so the test suite's flush
works. SQLite (quick start only): a trigger refuses UPDATE (its flush DELETEs rows).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

POSTGRES_FORWARD = """
CREATE FUNCTION compliance_decision_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'compliance decisions are append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER compliance_decision_no_update_delete BEFORE UPDATE OR DELETE ON compute_decision
    FOR EACH ROW EXECUTE FUNCTION compliance_decision_refuse_change();
ALTER TABLE compute_decision ENABLE ALWAYS TRIGGER compliance_decision_no_update_delete;
"""
POSTGRES_BACKWARD = """
DROP TRIGGER compliance_decision_no_update_delete ON compute_decision;
DROP FUNCTION compliance_decision_refuse_change();
"""
SQLITE_FORWARD = """CREATE TRIGGER compliance_decision_no_update BEFORE UPDATE ON compute_decision
    BEGIN SELECT RAISE(ABORT, 'compliance decisions are append-only: UPDATE refused'); END"""
SQLITE_BACKWARD = "DROP TRIGGER compliance_decision_no_update"


def append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def not_append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0006_signing"),
        ("compute", "0001_initial"),
        ("consortia", "0011_remove_roleassignment_role_assignment_role_valid_and_more"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Job",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(blank=True, max_length=200)),
                ("purpose", models.CharField(max_length=40)),
                ("action", models.CharField(max_length=20)),
                (
                    "movement",
                    models.CharField(
                        choices=[
                            ("model_to_data", "Model goes to the data"),
                            ("data_to_compute", "Data goes to the compute"),
                            ("federated", "Federated"),
                        ],
                        max_length=16,
                    ),
                ),
                ("starts_at", models.DateTimeField()),
                ("ends_at", models.DateTimeField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("proposed", "Proposed"),
                            ("running", "Running"),
                            ("finished", "Finished"),
                        ],
                        default="proposed",
                        max_length=10,
                    ),
                ),
                ("secure_aggregation", models.BooleanField(default=False)),
                ("dp_epsilon", models.FloatField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "aggregation_site",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="compute.site",
                    ),
                ),
                (
                    "consortium",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="jobs",
                        to="consortia.consortium",
                    ),
                ),
                ("datasets", models.ManyToManyField(related_name="jobs", to="agreements.dataset")),
                (
                    "model",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="jobs",
                        to="agreements.ipasset",
                    ),
                ),
                (
                    "organisation",
                    models.ForeignKey(
                        help_text="Who asks.",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="consortia.organisation",
                    ),
                ),
                (
                    "output_jurisdiction",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="consortia.jurisdiction",
                    ),
                ),
                (
                    "output_site",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="compute.site",
                    ),
                ),
                (
                    "proposed_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("sites", models.ManyToManyField(related_name="jobs", to="compute.site")),
            ],
            options={
                "ordering": ["consortium", "-created_at"],
            },
        ),
        migrations.CreateModel(
            name="Decision",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("allow", "Allow"),
                            ("deny", "Deny"),
                            ("allow_with_obligations", "Allow with obligations"),
                        ],
                        max_length=24,
                    ),
                ),
                ("reasons", models.JSONField(default=list)),
                ("obligations", models.JSONField(default=list)),
                ("explain", models.JSONField(blank=True, default=list)),
                ("input_snapshot", models.JSONField(default=dict)),
                ("rules_digest", models.CharField(max_length=64)),
                (
                    "evaluated_for",
                    models.DateTimeField(help_text="The instant the job was evaluated for."),
                ),
                ("decided_at", models.DateTimeField()),
                (
                    "consortium",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="compliance_decisions",
                        to="consortia.consortium",
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "job",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="decisions",
                        to="compute.job",
                    ),
                ),
            ],
            options={
                "ordering": ["-decided_at", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="TransferBasis",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("adequacy_decision", "Adequacy decision"),
                            ("standard_contractual_clauses", "Standard contractual clauses"),
                            ("binding_corporate_rules", "Binding corporate rules"),
                            ("intra_bloc", "Free movement within a bloc"),
                        ],
                        max_length=32,
                    ),
                ),
                (
                    "reference",
                    models.CharField(help_text="The decision or contract.", max_length=300),
                ),
                (
                    "scope_notes",
                    models.TextField(blank=True, help_text="Who and what the basis covers."),
                ),
                ("valid_from", models.DateField()),
                (
                    "valid_until",
                    models.DateField(
                        blank=True, help_text="First day the basis no longer holds.", null=True
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "consortium",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty when the basis holds for everyone (an adequacy decision).",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="transfer_bases",
                        to="consortia.consortium",
                    ),
                ),
                (
                    "from_jurisdiction",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="transfer_bases_out",
                        to="consortia.jurisdiction",
                    ),
                ),
                (
                    "to_jurisdiction",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="transfer_bases_in",
                        to="consortia.jurisdiction",
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "transfer bases",
                "ordering": ["from_jurisdiction", "to_jurisdiction", "-valid_from"],
            },
        ),
        migrations.AddConstraint(
            model_name="job",
            constraint=models.CheckConstraint(
                condition=models.Q(("ends_at__gt", models.F("starts_at"))), name="job_window"
            ),
        ),
        migrations.AddConstraint(
            model_name="job",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("movement__in", ["model_to_data", "data_to_compute", "federated"])
                ),
                name="job_movement_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="job",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["proposed", "running", "finished"])),
                name="job_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="job",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("dp_epsilon__isnull", True), ("dp_epsilon__gt", 0), _connector="OR"
                ),
                name="job_dp_epsilon_positive",
            ),
        ),
        migrations.AddIndex(
            model_name="decision",
            index=models.Index(fields=["job", "decided_at"], name="compliance_decision_job"),
        ),
        migrations.AddConstraint(
            model_name="decision",
            constraint=models.CheckConstraint(
                condition=models.Q(("outcome__in", ["allow", "deny", "allow_with_obligations"])),
                name="compliance_decision_outcome_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="transferbasis",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "kind__in",
                        [
                            "adequacy_decision",
                            "standard_contractual_clauses",
                            "binding_corporate_rules",
                            "intra_bloc",
                        ],
                    )
                ),
                name="transfer_basis_kind_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="transferbasis",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("valid_until__isnull", True),
                    ("valid_until__gt", models.F("valid_from")),
                    _connector="OR",
                ),
                name="transfer_basis_valid_period",
            ),
        ),
        migrations.AddConstraint(
            model_name="transferbasis",
            constraint=models.UniqueConstraint(
                fields=("from_jurisdiction", "to_jurisdiction", "kind", "valid_from"),
                name="transfer_basis_unique",
            ),
        ),
        migrations.RunPython(append_only, not_append_only),
    ]
