"""accounts.hooks: the export sections and the admin's usage that apps above accounts register."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from accounts import hooks
from accounts.models import User
from accounts.selectors import user_export
from accounts.serializers import DataExportSerializer

pytestmark = pytest.mark.django_db


def test_chat_and_files_add_their_sections_to_the_export_in_order(user: User) -> None:
    assert list(user_export(user=user)) == [
        "format_version",
        "exported_at",
        "user",
        "conversations",
        "share_links",
        "files",
    ]


def test_a_registered_section_is_read_and_rendered(user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hooks, "_sections", dict(hooks._sections))
    hooks.export_section_register(
        hooks.ExportSection("notes", lambda u: [u.email], lambda: serializers.ListField(child=serializers.CharField()))
    )

    data = DataExportSerializer(user_export(user=user)).data

    assert data["notes"] == [user.email]
    assert list(data)[-1] == "notes"


def test_without_a_usage_reader_an_account_shows_no_usage(user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hooks, "_usage_reader", lambda u: hooks.AccountUsage())
    assert hooks.account_usage(user=user) == hooks.AccountUsage(turns=0, failed=0, tokens_in=0, tokens_out=0)
