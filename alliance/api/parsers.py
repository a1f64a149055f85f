"""Request bodies whose strings PostgreSQL can hold.

JSON may carry ``\\u0000`` and unpaired surrogates (``\\ud800``) in its strings, and form
fields may carry NUL. PostgreSQL refuses both in text and jsonb, so a value that is not
validated field by field (a primary key given as a string, a JSON document, a setting
passed on to a service) would reach the database and fail there with a server error. The
body is refused at the door instead: 400, naming the character, nothing read further.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from alliance.api.problems import UNSTORABLE

REFUSAL = (
    "Strings may not contain NUL (\\u0000) or unpaired surrogate (\\ud800-\\udfff) characters."
)


def unstorable(data: Any) -> bool:
    """Whether any string in ``data`` (keys included) holds a character PostgreSQL refuses."""
    if isinstance(data, str):
        return UNSTORABLE.search(data) is not None
    if isinstance(data, Mapping):
        return any(unstorable(key) or unstorable(value) for key, value in data.items())
    if isinstance(data, list | tuple):
        return any(unstorable(item) for item in data)
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        if unstorable(data):
            raise ParseError(f"JSON parse error - {REFUSAL}")
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        if unstorable(dict(data.lists())):
            raise ParseError(f"Form parse error - {REFUSAL}")
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        # The files are bytes: only the form's own fields are strings.
        if unstorable(dict(parsed.data.lists())):
            raise ParseError(f"Multipart form parse error - {REFUSAL}")
        return parsed
