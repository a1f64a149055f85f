"""Bulk-load a valid hash-chained audit trail (for measuring audit_verify), with COPY.

Run as ``python -m bench.verify_load --events 1000000 --chains 100``; prints seconds taken.
The events look like real ones: an actor, an object, a small before/after change.
"""

from __future__ import annotations

import argparse
import datetime
import json
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--chains", type=int, default=100)
    arguments = parser.parse_args()
    import django

    django.setup()
    from django.db import connection

    from audit.canonical import canonical_json, event_hash
    from audit.models import GENESIS_HASH

    started = time.perf_counter()
    per_chain = arguments.events // arguments.chains
    base = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    columns = (
        "chain, sequence, occurred_at, consortium_id, actor_kind, actor_id, actor_display, actor_organisation_id,"
        " actor_organisation_display, action, object_type, object_id, object_display, related_object_type,"
        " related_object_id, related_object_display, changes, request_id, client_address, user_agent, outcome,"
        " reason, prev_hash, hash"
    )
    with (
        connection.cursor() as cursor,
        cursor.connection.cursor().copy(f"COPY audit_auditevent ({columns}) FROM STDIN") as copy,
    ):
        for chain_number in range(arguments.chains):
            consortium_id = 800_000 + chain_number
            chain = f"consortium:{consortium_id}"
            previous = GENESIS_HASH
            for sequence in range(1, per_chain + 1):
                event = {
                    "chain": chain,
                    "sequence": sequence,
                    "occurred_at": base
                    + datetime.timedelta(seconds=sequence, microseconds=chain_number),
                    "consortium_id": consortium_id,
                    "actor_kind": "user",
                    "actor_id": str(sequence % 50),
                    "actor_display": f"person{sequence % 50}",
                    "actor_organisation_id": sequence % 7,
                    "actor_organisation_display": f"Organisation {sequence % 7}",
                    "action": "update",
                    "object_type": "consortia.membership",
                    "object_id": str(sequence % 11),
                    "object_display": f"Organisation {sequence % 11} in Consortium {chain_number}",
                    "related_object_type": "consortia.consortium",
                    "related_object_id": str(consortium_id),
                    "related_object_display": f"Consortium {chain_number}",
                    "changes": canonical_json(
                        {"voting_weight": {"before": str(sequence), "after": str(sequence + 1)}}
                    ),
                    "request_id": f"{sequence:032x}",
                    "client_address": "192.0.2.10",
                    "user_agent": "bench/1.0",
                    "outcome": "success",
                    "reason": "",
                }
                digest = event_hash(previous, event)
                copy.write_row([*event.values(), previous, digest])
                previous = digest
    print(
        json.dumps(
            {"events": per_chain * arguments.chains, "seconds": time.perf_counter() - started}
        )
    )


if __name__ == "__main__":
    main()
