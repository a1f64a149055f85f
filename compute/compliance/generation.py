"""Which state of the rules a decision reads: the generation that the database moves on at
every commit that writes to a table of rules (compute migration 0009 lists them).

A cache of rule rows keyed by the generation read *before* the rows is never older than the
rows a fresh read would give: any later commit to those tables gives a new generation.
"""

from __future__ import annotations

from django.db import connection

from audit.services import Precondition

_CURRENT = """
SELECT (SELECT epoch::text || ':' || generation::text FROM compliance_rules_generation
        WHERE id = 1),
       current_setting('alliance.compliance_rules_written', true)
"""


def rules_generation() -> str | None:
    """The current generation of the rules, or None when no cache may be used: a database
    without the triggers (SQLite), or a transaction that has itself written rules it has not
    committed yet (a cache shared with others cannot hold them)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(_CURRENT)
        row = cursor.fetchone()
    if row is None or row[0] is None or row[1] == "on":
        return None
    return str(row[0])


_UNCHANGED = """
SELECT EXISTS (SELECT FROM compliance_rules_generation
               WHERE id = 1 AND epoch::text || ':' || generation::text = %s)
       AND current_setting('alliance.compliance_rules_written', true) IS DISTINCT FROM 'on'
"""


def unchanged_since(generation: str) -> Precondition:
    """True while the rules are still at ``generation`` (as ``rules_generation`` read it) and
    the transaction has not written rules of its own: a book of that generation is current.
    Checked with a write, in its round trip (``audit_record_inserting``)."""
    return Precondition(_UNCHANGED, (generation,))
