"""A digest of the tables a seeded world fills: equal digests, equal worlds.

Columns the database or Django stamps with the wall clock (``auto_now``, ``auto_now_add``)
are left out, and so is the platform chain, whose one event records when the world was seeded.
"""

from __future__ import annotations

import hashlib

from django.db import connection, models


def world_digest() -> str:
    from agreements.models import Agreement, AgreementVersion, Clause, Party
    from audit.models import PLATFORM_CHAIN, AuditEvent
    from compute.models import AllocationRequest, Pool, Reservation, UsageRecord
    from consortia.models import Consortium, Membership, Organisation, RoleAssignment, User

    tables: tuple[tuple[type[models.Model], str], ...] = (
        (Organisation, ""),
        (User, ""),
        (Consortium, ""),
        (Membership, ""),
        (RoleAssignment, ""),
        (Pool, ""),
        (AllocationRequest, ""),
        (Reservation, ""),
        (Agreement, ""),
        (Party, ""),
        (AgreementVersion, ""),
        (Clause, ""),
        (UsageRecord, ""),
        (AuditEvent, f"WHERE chain <> '{PLATFORM_CHAIN}'"),
    )
    whole = hashlib.sha256()
    with connection.cursor() as cursor:
        for model, where in tables:
            columns = [
                field.column
                for field in model._meta.concrete_fields
                if not getattr(field, "auto_now", False)
                and not getattr(field, "auto_now_add", False)
                and field.column != "last_login"
            ]
            row = ", ".join(f"{column}::text" for column in columns)
            cursor.execute(
                f"SELECT md5(coalesce(string_agg(concat_ws('|', {row}), E'\\n' ORDER BY id), '')) "  # noqa: S608 - names from the models
                f"FROM {model._meta.db_table} {where}"
            )
            found = cursor.fetchone()
            whole.update(f"{model._meta.db_table}:{found[0] if found else ''}\n".encode())
    return whole.hexdigest()
