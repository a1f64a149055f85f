"""On PostgreSQL, an asset's ownership shares and revenue shares each total exactly 100%,
checked when the transaction commits (so owners can be replaced within it). The services
check the same first and say which total is wrong; SQLite (quick start) relies on them."""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION agreements_ip_shares_total() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    asset bigint := COALESCE(NEW.asset_id, OLD.asset_id);
    owners integer;
    shares numeric;
    revenue numeric;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM agreements_ipasset WHERE id = asset) THEN
        RETURN NULL;  -- the asset itself is being deleted
    END IF;
    SELECT count(*), coalesce(sum(share), 0), coalesce(sum(revenue_share), 0)
        INTO owners, shares, revenue FROM agreements_ipownership WHERE asset_id = asset;
    IF owners = 0 OR shares <> 100 OR revenue <> 100 THEN
        RAISE EXCEPTION 'IP asset % must have owners whose shares and revenue shares each total 100%% (shares %, revenue %)',
            asset, shares, revenue USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER agreements_ip_shares_total
    AFTER INSERT OR UPDATE OR DELETE ON agreements_ipownership
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION agreements_ip_shares_total();
"""
BACKWARD = """
DROP TRIGGER agreements_ip_shares_total ON agreements_ipownership;
DROP FUNCTION agreements_ip_shares_total();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("agreements", "0004_registers")]
    operations = [migrations.RunPython(forward, backward)]
