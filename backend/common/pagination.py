"""Cursor pagination for every list: `?cursor=&page_size=` (capped), with bad cursors as a 400."""

from __future__ import annotations

from typing import Any

from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

from .errors import ValidationFailed

MAX_CURSOR_LENGTH = 512


class CursorPage(CursorPagination):
    """Subclass per list and set `ordering`; its first field must be a timestamp (the cursor position)."""

    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"
    ordering: Any = ("-created_at", "-id")

    def decode_cursor(self, request: Request) -> Cursor | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is not None and len(encoded) > MAX_CURSOR_LENGTH:
            raise _invalid_cursor()
        try:
            cursor = super().decode_cursor(request)
        except NotFound as exc:
            raise _invalid_cursor() from exc
        # DRF filters on the position as-is; a position that is not a timestamp would reach the database.
        if cursor is not None and cursor.position is not None and parse_datetime_safe(str(cursor.position)) is None:
            raise _invalid_cursor()
        return cursor


def parse_datetime_safe(value: str) -> Any:
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def _invalid_cursor() -> ValidationFailed:
    return ValidationFailed(fields={"cursor": ["Invalid cursor."]})
