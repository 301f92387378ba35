"""JSON bodies as every API takes them: nested at most MAX_JSON_DEPTH deep, and only text a database can store.

Python's json module recurses once per level, so 10,000 nested brackets raise RecursionError
(a 500) before any view sees the body; a lone UTF-16 surrogate ("\\ud800") or a NUL parses into a
str that UTF-8 and Postgres refuse later, deep in a write. Both are refused here, at parse time,
with a 400 naming the field: the app API through DRF (JsonParser), the partner API through
`json_loads`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from rest_framework.parsers import JSONParser

from .errors import ValidationFailed

MAX_JSON_DEPTH = 64
# Lone surrogates (valid JSON escapes, not Unicode text) and NUL (Postgres text cannot hold it).
INVALID_TEXT = re.compile("[\ud800-\udfff\x00]")
INVALID_KEY_MESSAGE = "contains characters that are not valid text (a lone surrogate or NUL)."
INVALID_TEXT_MESSAGE = "Contains characters that are not valid text (a lone surrogate or NUL)."


class JsonTooDeep(ValidationFailed):
    code = "json_too_deep"
    default_message = f"The JSON body is nested too deeply (at most {MAX_JSON_DEPTH} levels)."


class InvalidText(ValidationFailed):
    """A field error like any other on the app API (`invalid`, the field in `error.fields`)."""

    default_message = INVALID_TEXT_MESSAGE


class InvalidJson(ValidationFailed):
    code = "invalid_json"
    default_message = "The request body is not valid JSON."


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def check_json_value(value: Any) -> None:
    """Raises JsonTooDeep or InvalidText (naming the field, e.g. `messages[0].content`) for a parsed body.
    Walks the value with a stack, never recursion."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if INVALID_TEXT.search(item):
                raise InvalidText(fields={path or "non_field_errors": [INVALID_TEXT_MESSAGE]})
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > MAX_JSON_DEPTH:
            raise JsonTooDeep()
        if isinstance(item, Mapping):
            for key, child in item.items():
                if INVALID_TEXT.search(key):
                    raise InvalidText(fields={path or "non_field_errors": ["A key " + INVALID_KEY_MESSAGE]})
                stack.append((child, _path(path, key), depth + 1))
        else:
            stack.extend((child, _path(path, index), depth + 1) for index, child in enumerate(item))


def json_loads(raw: bytes | str) -> Any:
    """json.loads, then check_json_value; malformed JSON is InvalidJson (400)."""
    try:
        value = json.loads(raw)
    except RecursionError as exc:
        raise JsonTooDeep() from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidJson() from exc
    check_json_value(value)
    return value


class JsonParser(JSONParser):
    """DRF's JSON parser (strict: no NaN or Infinity) with the depth and text checks above."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            value = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise JsonTooDeep() from exc
        check_json_value(value)
        return value
