"""Append-only triggers for checkpoints: they are evidence too (same rules as events)."""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION audit_checkpoint_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE'
       AND coalesce(current_setting('alliance.audit_allow_truncate', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit checkpoints are append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_checkpoint_no_update_delete BEFORE UPDATE OR DELETE ON audit_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_refuse_change();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_auditcheckpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoint_refuse_change();
ALTER TABLE audit_auditcheckpoint ENABLE ALWAYS TRIGGER audit_checkpoint_no_update_delete;
ALTER TABLE audit_auditcheckpoint ENABLE ALWAYS TRIGGER audit_checkpoint_no_truncate;
"""
BACKWARD = """
DROP TRIGGER audit_checkpoint_no_truncate ON audit_auditcheckpoint;
DROP TRIGGER audit_checkpoint_no_update_delete ON audit_auditcheckpoint;
DROP FUNCTION audit_checkpoint_refuse_change();
"""
SQLITE_FORWARD = [
    """CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_auditcheckpoint
       BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_auditcheckpoint
       BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only: DELETE refused'); END""",
]
SQLITE_BACKWARD = ["DROP TRIGGER audit_checkpoint_no_update", "DROP TRIGGER audit_checkpoint_no_delete"]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_checkpoints_and_exports")]
    operations = [migrations.RunPython(forward, backward)]
