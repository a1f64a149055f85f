"""The database keeps versions honest, whatever code runs against it.

Clauses change only while their version is a draft. A version's content hash, number and
agreement never change once it leaves the draft stage; an executed version stays executed
(or superseded) with its execution time; only drafts are deleted.
"""

from django.db import migrations

POSTGRES_FORWARD = r"""
CREATE FUNCTION agreements_clause_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND (
        SELECT status FROM agreements_agreementversion WHERE id = OLD.version_id) <> 'draft' THEN
        RAISE EXCEPTION 'clauses of a version that is not a draft cannot change'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND (
        SELECT status FROM agreements_agreementversion WHERE id = NEW.version_id) <> 'draft' THEN
        RAISE EXCEPTION 'clauses of a version that is not a draft cannot change'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN COALESCE(NEW, OLD);
END $$;
CREATE TRIGGER agreements_clause_guard BEFORE INSERT OR UPDATE OR DELETE ON agreements_clause
    FOR EACH ROW EXECUTE FUNCTION agreements_clause_guard();

CREATE FUNCTION agreements_version_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'only a draft version can be deleted'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'draft' AND (NEW.content_hash IS DISTINCT FROM OLD.content_hash
            OR NEW.number <> OLD.number OR NEW.agreement_id <> OLD.agreement_id) THEN
        RAISE EXCEPTION 'the content of a version that is not a draft cannot change'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.status IN ('executed', 'superseded') AND (NEW.status NOT IN ('executed', 'superseded')
            OR NEW.executed_at IS DISTINCT FROM OLD.executed_at) THEN
        RAISE EXCEPTION 'an executed version never changes'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER agreements_version_guard BEFORE UPDATE OR DELETE ON agreements_agreementversion
    FOR EACH ROW EXECUTE FUNCTION agreements_version_guard();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER agreements_version_guard ON agreements_agreementversion;
DROP FUNCTION agreements_version_guard();
DROP TRIGGER agreements_clause_guard ON agreements_clause;
DROP FUNCTION agreements_clause_guard();
"""
_NOT_DRAFT = "(SELECT status FROM agreements_agreementversion WHERE id = {}.version_id) <> 'draft'"
_CLAUSE_MESSAGE = "SELECT RAISE(ABORT, 'clauses of a version that is not a draft cannot change')"
SQLITE_FORWARD = [
    f"CREATE TRIGGER agreements_clause_insert BEFORE INSERT ON agreements_clause "
    f"WHEN {_NOT_DRAFT.format('NEW')} BEGIN {_CLAUSE_MESSAGE}; END",
    f"CREATE TRIGGER agreements_clause_update BEFORE UPDATE ON agreements_clause "
    f"WHEN {_NOT_DRAFT.format('OLD')} OR {_NOT_DRAFT.format('NEW')} BEGIN {_CLAUSE_MESSAGE}; END",
    f"CREATE TRIGGER agreements_clause_delete BEFORE DELETE ON agreements_clause "
    f"WHEN {_NOT_DRAFT.format('OLD')} BEGIN {_CLAUSE_MESSAGE}; END",
    "CREATE TRIGGER agreements_version_delete BEFORE DELETE ON agreements_agreementversion "
    "WHEN OLD.status <> 'draft' BEGIN SELECT RAISE(ABORT, 'only a draft version can be deleted'); END",
    "CREATE TRIGGER agreements_version_content BEFORE UPDATE ON agreements_agreementversion "
    "WHEN OLD.status <> 'draft' AND (NEW.content_hash IS NOT OLD.content_hash OR NEW.number <> OLD.number "
    "OR NEW.agreement_id <> OLD.agreement_id) "
    "BEGIN SELECT RAISE(ABORT, 'the content of a version that is not a draft cannot change'); END",
    "CREATE TRIGGER agreements_version_executed BEFORE UPDATE ON agreements_agreementversion "
    "WHEN OLD.status IN ('executed', 'superseded') AND (NEW.status NOT IN ('executed', 'superseded') "
    "OR NEW.executed_at IS NOT OLD.executed_at) "
    "BEGIN SELECT RAISE(ABORT, 'an executed version never changes'); END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER agreements_clause_insert",
    "DROP TRIGGER agreements_clause_update",
    "DROP TRIGGER agreements_clause_delete",
    "DROP TRIGGER agreements_version_delete",
    "DROP TRIGGER agreements_version_content",
    "DROP TRIGGER agreements_version_executed",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("agreements", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
