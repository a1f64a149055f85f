"""A generation for the rules the compliance engine reads, changed by the database itself.

Decisions keep a consortium's rule rows (agreements, versions, clauses, sites and their
administration, providers, certificates, exposures, approvals, transfer bases, jurisdictions
and bloc memberships) in a cache keyed by this generation, so the generation must change on
every committed write to those tables, whatever code makes it: services, ``queryset.update()``,
``bulk_create``, the admin, raw SQL. Hence triggers, not signals.

PostgreSQL only (SQLite, the quick start, never caches the rules):

* ``compliance_rules_generation`` holds one row: ``epoch``, random per database (a cache that
  outlives a recreated database never matches it), and ``generation``, taken from a sequence,
  so a value is never handed out twice, even by a transaction that rolls back.
* A statement trigger marks the writing transaction (``alliance.compliance_rules_written``,
  transaction-local): until it commits, its own decisions read the rules afresh, since the
  cache cannot hold its uncommitted rows.
* A deferred constraint trigger moves the generation on once per transaction, at commit. The
  row's lock is taken only then, so writers never hold it while they take other locks (no
  deadlock), and concurrent writers commit one after another with different generations.
* TRUNCATE (the test suite's flush) moves it on at once: constraint triggers cannot fire on it.
"""

from django.db import migrations

WATCHED = (
    "agreements_agreement",
    "agreements_agreementversion",
    "agreements_clause",
    "compute_provider",
    "compute_site",
    "compute_site_administered_from",
    "compute_certification",
    "compute_exposure",
    "compute_approval",
    "compute_transferbasis",
    "consortia_jurisdiction",
    "consortia_jurisdictionmembership",
)

FUNCTIONS = r"""
CREATE SEQUENCE compliance_rules_generation_seq;
CREATE TABLE compliance_rules_generation (
    id smallint PRIMARY KEY CHECK (id = 1),
    epoch uuid NOT NULL DEFAULT gen_random_uuid(),
    generation bigint NOT NULL
);
INSERT INTO compliance_rules_generation (id, generation)
    VALUES (1, nextval('compliance_rules_generation_seq'));

CREATE FUNCTION compliance_rules_advance() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO compliance_rules_generation (id, generation)
        VALUES (1, nextval('compliance_rules_generation_seq'))
        ON CONFLICT (id) DO UPDATE SET generation = EXCLUDED.generation;
END $$;

CREATE FUNCTION compliance_rules_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('alliance.compliance_rules_written', 'on', true);
    RETURN NULL;
END $$;

CREATE FUNCTION compliance_rules_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('alliance.compliance_rules_advanced', true) IS DISTINCT FROM 'on' THEN
        PERFORM compliance_rules_advance();
        PERFORM set_config('alliance.compliance_rules_advanced', 'on', true);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION compliance_rules_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('alliance.compliance_rules_written', 'on', true);
    PERFORM compliance_rules_advance();
    RETURN NULL;
END $$;
"""

TABLE_TRIGGERS = """
CREATE TRIGGER compliance_rules_written AFTER INSERT OR UPDATE OR DELETE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION compliance_rules_written();
CREATE CONSTRAINT TRIGGER compliance_rules_commit AFTER INSERT OR UPDATE OR DELETE ON {table}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION compliance_rules_commit();
CREATE TRIGGER compliance_rules_truncated AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION compliance_rules_truncated();
ALTER TABLE {table} ENABLE ALWAYS TRIGGER compliance_rules_written;
ALTER TABLE {table} ENABLE ALWAYS TRIGGER compliance_rules_commit;
ALTER TABLE {table} ENABLE ALWAYS TRIGGER compliance_rules_truncated;
"""

DROP_TABLE_TRIGGERS = """
DROP TRIGGER compliance_rules_written ON {table};
DROP TRIGGER compliance_rules_commit ON {table};
DROP TRIGGER compliance_rules_truncated ON {table};
"""

DROP_FUNCTIONS = """
DROP FUNCTION compliance_rules_truncated();
DROP FUNCTION compliance_rules_commit();
DROP FUNCTION compliance_rules_written();
DROP FUNCTION compliance_rules_advance();
DROP TABLE compliance_rules_generation;
DROP SEQUENCE compliance_rules_generation_seq;
"""


def watch_the_rules(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTIONS, params=None)
    for table in WATCHED:
        schema_editor.execute(TABLE_TRIGGERS.format(table=table), params=None)


def stop_watching_the_rules(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in WATCHED:
        schema_editor.execute(DROP_TABLE_TRIGGERS.format(table=table), params=None)
    schema_editor.execute(DROP_FUNCTIONS, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0007_clause_terms_datasets_index"),
        ("compute", "0008_finding_severity_by_code"),
        ("consortia", "0012_notification"),
    ]

    operations = [migrations.RunPython(watch_the_rules, stop_watching_the_rules)]
