"""The rules a decision reads, kept between requests for as long as they have not changed.

Reading a consortium's rules (its clauses with their numbering, the directory's sites,
certificates and exposures, its approvals, bloc memberships and transfer bases) costs a dozen
queries a decision; they change a few times a day. So each process keeps the last ``RuleBook``
of a few consortia, and Django's cache (Redis in production) shares them between processes,
both under the generation the database moves on at every commit that writes a rule
(``generation.rules_generation``). Any change committed since gives a new generation, a
miss, and a book read afresh. The gate does not read the generation first: it decides from
the book this process kept (``kept_book``) and checks the generation in the round trip of its
write (``services.decide_and_record``). Data sets, models and jobs are not in the book: each
decision reads its own.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path

from django.core.cache import cache

from agreements import content
from compute.compliance import facts, sources
from compute.compliance.generation import rules_generation
from compute.compliance.sources import FactSource, RuleBook

# Books kept in each process: a book is a consortium's clauses and the whole directory of
# sites, a few megabytes at most, and a process serves few consortia at a time.
BOOKS_IN_PROCESS = 8
# Shared books expire on their own: a stale generation is never asked for again.
SHARED_SECONDS = 3600

_books: OrderedDict[int, tuple[str, RuleBook]] = OrderedDict()
_lock = threading.Lock()


def _code_fingerprint() -> str:
    """The code that builds a book and shapes its rows: a shared cache outlives a deploy, and
    a book another version built (other fields, other loading) is not this version's book,
    even for the same generation of the rules."""
    digest = hashlib.sha256()
    for module in (sources, facts, content):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:16]


_CODE = _code_fingerprint()


def _shared_key(consortium_id: int, generation: str) -> str:
    return f"compliance:rules:{_CODE}:{consortium_id}:{generation}"


def _remember(consortium_id: int, generation: str, book: RuleBook) -> None:
    with _lock:
        _books[consortium_id] = (generation, book)
        _books.move_to_end(consortium_id)
        while len(_books) > BOOKS_IN_PROCESS:
            _books.popitem(last=False)


def _book(consortium_id: int, generation: str) -> RuleBook:
    with _lock:
        kept = _books.get(consortium_id)
    if kept is not None and kept[0] == generation:
        return kept[1]
    book = cache.get(_shared_key(consortium_id, generation))
    if not isinstance(book, RuleBook):
        book = FactSource(consortium_id).rule_book()
        cache.set(_shared_key(consortium_id, generation), book, SHARED_SECONDS)
    _remember(consortium_id, generation, book)
    return book


def fact_source(consortium_id: int) -> FactSource:
    """A source for one decision: its rules from the book of the current generation, or read
    afresh when no book may be used (SQLite, or rules written by this very transaction)."""
    # The generation first, the rows after: a book is never older than its generation.
    generation = rules_generation()
    if generation is None:
        return FactSource(consortium_id)
    return FactSource(consortium_id, rules=_book(consortium_id, generation))


def kept_book(consortium_id: int) -> tuple[str, RuleBook] | None:
    """The book this process last used for the consortium, with its generation, *not*
    checked against the database: only for a caller that checks the generation with its
    write (``generation.unchanged_since``) and starts again from ``fact_source`` when it
    has moved on. None when there is no such book (a new process, SQLite)."""
    with _lock:
        return _books.get(consortium_id)


def forget_books() -> None:
    """Drop the books this process keeps (tests that count a first decision's queries)."""
    with _lock:
        _books.clear()
