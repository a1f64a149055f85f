"""Redlines: what changed between two versions, clause by clause and word by word.

Clauses are matched by their ``key`` (kept when a version is copied), so a clause can be told
apart as added, removed, moved (its order relative to the others changed: clauses outside the
longest common subsequence of keys), or changed (heading, kind, level or words of its body).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from agreements.content import numbered

TOKENS = re.compile(r"\s+|[^\s\w]|\w+")


@dataclass
class ClauseChange:
    key: str
    status: str  # unchanged, changed, added, removed
    moved: bool
    number_before: str | None
    number_after: str | None
    heading: str
    heading_diff: list[tuple[str, str]] = field(default_factory=list)
    body_diff: list[tuple[str, str]] = field(default_factory=list)
    fields_changed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "status": self.status,
            "moved": self.moved,
            "number_before": self.number_before,
            "number_after": self.number_after,
            "heading": self.heading,
            "fields_changed": self.fields_changed,
            "heading_diff": [list(part) for part in self.heading_diff],
            "body_diff": [list(part) for part in self.body_diff],
        }


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """[("equal"|"delete"|"insert", text), ...] at word granularity, whitespace kept."""
    old, new = TOKENS.findall(before), TOKENS.findall(after)
    # Negotiation edits are local: trimming the shared head and tail first keeps the quadratic
    # matcher to the edited stretch (diff-match-patch does the same).
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while (
        tail < min(len(old), len(new)) - head
        and old[len(old) - 1 - tail] == new[len(new) - 1 - tail]
    ):
        tail += 1
    old_middle, new_middle = old[head : len(old) - tail], new[head : len(new) - tail]
    parts: list[tuple[str, str]] = []
    if head:
        parts.append(("equal", "".join(old[:head])))
    for operation, old_start, old_end, new_start, new_end in SequenceMatcher(
        None, old_middle, new_middle, autojunk=False
    ).get_opcodes():
        if operation == "equal":
            parts.append(("equal", "".join(old_middle[old_start:old_end])))
            continue
        if operation in ("delete", "replace"):
            parts.append(("delete", "".join(old_middle[old_start:old_end])))
        if operation in ("insert", "replace"):
            parts.append(("insert", "".join(new_middle[new_start:new_end])))
    if tail:
        parts.append(("equal", "".join(old[len(old) - tail :])))
    return parts


def _stable_keys(old: Sequence[str], new: Sequence[str]) -> set[str]:
    """Keys in the longest common subsequence of the two orders: those that did not move."""
    common = set(old) & set(new)
    old_common = [key for key in old if key in common]
    new_common = [key for key in new if key in common]
    matcher = SequenceMatcher(None, old_common, new_common, autojunk=False)
    stable: set[str] = set()
    for block in matcher.get_matching_blocks():
        stable.update(old_common[block.a : block.a + block.size])
    return stable


def redline(before: Sequence[Any], after: Sequence[Any]) -> list[ClauseChange]:
    """Compare two ordered clause lists (objects with key, level, kind, heading, body)."""
    numbers_before = {str(item.clause.key): item.number for item in numbered(before)}
    numbers_after = {str(item.clause.key): item.number for item in numbered(after)}
    old_by_key = {str(clause.key): clause for clause in before}
    new_by_key = {str(clause.key): clause for clause in after}
    stable = _stable_keys(list(old_by_key), list(new_by_key))

    changes: list[ClauseChange] = []
    for clause in after:
        key = str(clause.key)
        previous = old_by_key.get(key)
        if previous is None:
            changes.append(
                ClauseChange(
                    key,
                    "added",
                    False,
                    None,
                    numbers_after[key],
                    clause.heading,
                    body_diff=[("insert", clause.body)],
                    heading_diff=[("insert", clause.heading)],
                )
            )
            continue
        fields = [
            name
            for name in ("heading", "body", "kind", "level", "terms")
            if getattr(previous, name, None) != getattr(clause, name, None)
        ]
        changes.append(
            ClauseChange(
                key,
                "changed" if fields else "unchanged",
                key not in stable,
                numbers_before[key],
                numbers_after[key],
                clause.heading,
                heading_diff=word_diff(previous.heading, clause.heading)
                if "heading" in fields
                else [],
                body_diff=word_diff(previous.body, clause.body) if "body" in fields else [],
                fields_changed=fields,
            )
        )
    # A removed clause is shown after the clause that preceded it in the older version.
    order_before = list(old_by_key)
    for index, key in enumerate(order_before):
        if key in new_by_key:
            continue
        clause = old_by_key[key]
        removed = ClauseChange(
            key,
            "removed",
            False,
            numbers_before[key],
            None,
            clause.heading,
            body_diff=[("delete", clause.body)],
            heading_diff=[("delete", clause.heading)],
        )
        anchor = next(
            (order_before[i] for i in range(index - 1, -1, -1) if order_before[i] in new_by_key),
            None,
        )
        position = (
            0
            if anchor is None
            else next(i for i, change in enumerate(changes) if change.key == anchor) + 1
        )
        while position < len(changes) and changes[position].status == "removed":
            position += 1
        changes.insert(position, removed)
    return changes


def summary(changes: Sequence[ClauseChange]) -> dict[str, int]:
    return {
        "added": sum(change.status == "added" for change in changes),
        "removed": sum(change.status == "removed" for change in changes),
        "changed": sum(change.status == "changed" for change in changes),
        "moved": sum(change.moved for change in changes),
        "unchanged": sum(change.status == "unchanged" and not change.moved for change in changes),
    }
