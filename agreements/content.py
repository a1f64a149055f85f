"""The text of a version: numbering, canonical content and hash, safe rendering."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from string import Template
from typing import Any

import markdown
import nh3

# What a clause body may contain once rendered: prose, lists, emphasis, links, quotes, tables.
ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "a",
    "blockquote",
    "code",
    "pre",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "h4",
    "h5",
    "h6",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
TEMPLATE_VARIABLES = ("parties", "consortium", "governing_law", "effective_on", "jurisdiction")


@dataclass(frozen=True)
class NumberedClause:
    number: str
    clause: Any


def numbered(clauses: Iterable[Any]) -> list[NumberedClause]:
    """1, 1.1, 1.2, 2, ...: top-level clauses count up, sub-clauses count within their parent.
    A sub-clause before any clause is numbered as if under clause 0 (it is a drafting slip the
    page shows, not an error)."""
    result, top, sub = [], 0, 0
    for clause in clauses:
        if clause.level == 0:
            top, sub = top + 1, 0
            result.append(NumberedClause(str(top), clause))
        else:
            sub += 1
            result.append(NumberedClause(f"{top}.{sub}", clause))
    return result


def canonical_content(clauses: Sequence[dict[str, Any]]) -> str:
    """The canonical text a version's hash covers: its clauses in order, as sorted-key JSON."""
    return json.dumps(
        [
            {key: clause[key] for key in ("key", "level", "kind", "heading", "body")}
            for clause in clauses
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def content_hash(clauses: Sequence[dict[str, Any]]) -> str:
    return hashlib.sha256(canonical_content(clauses).encode("utf-8")).hexdigest()


def render(body: str) -> str:
    """Markdown to HTML, then sanitised: raw HTML in a clause never reaches a page or a PDF."""
    html = markdown.markdown(body, extensions=["tables", "sane_lists"], output_format="html")
    return nh3.clean(
        html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes={"https", "mailto"}
    )


def fill_template(text: str, values: dict[str, str]) -> str:
    """Fill ``${name}`` placeholders; unknown ones stay visible for the drafter to complete."""
    return Template(text).safe_substitute(values)
