"""What apps above accounts add to an account (set in their apps.py): sections of the data export and the
usage the admin shows, so accounts imports none of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rest_framework import serializers

from .models import User


@dataclass(frozen=True)
class ExportSection:
    """One top-level key of the export file: how to read it for a user, and the field that renders it."""

    name: str
    read: Callable[[User], Any]
    field: Callable[[], serializers.Field]  # a new field instance each time (DRF binds fields to one parent)


@dataclass(frozen=True)
class AccountUsage:
    """A user's answers (turns) and tokens of all time, for the admin's account page."""

    turns: int = 0
    failed: int = 0
    tokens_in: int = 0
    tokens_out: int = 0


_sections: dict[str, ExportSection] = {}
_usage_reader: Callable[[User], AccountUsage] = lambda user: AccountUsage()  # noqa: E731


def export_section_register(section: ExportSection) -> None:
    """Sections appear in the export in the order they were registered; registering a name again replaces it."""
    _sections[section.name] = section


def export_sections() -> list[ExportSection]:
    return list(_sections.values())


def usage_reader_set(reader: Callable[[User], AccountUsage]) -> None:
    global _usage_reader
    _usage_reader = reader


def account_usage(*, user: User) -> AccountUsage:
    return _usage_reader(user)
