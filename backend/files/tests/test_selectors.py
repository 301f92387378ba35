"""Reads of files: the account export holds each file with the text read from it, and no one else's."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from chat.tests.conftest import client_for
from files import services

from . import samples
from .conftest import upload

pytestmark = pytest.mark.django_db


def test_the_account_export_holds_every_file_with_its_text(api: APIClient, user: User, other_user: User) -> None:
    mine = upload(api, samples.text_pdf(["Whale quarterly report: revenue grew by 41 percent."]), "report.pdf").json()
    services.file_extract(file_id=mine["id"])
    upload(client_for(other_user), samples.text_pdf(["Someone else's secret."]), "theirs.pdf")

    exported = api.get("/api/v1/me/export").json()["files"]

    assert [(file["id"], file["name"], file["kind"], file["status"]) for file in exported] == [
        (mine["id"], "report.pdf", "pdf", "ready")
    ]
    assert "revenue grew by 41 percent" in exported[0]["text"]
    assert exported[0]["conversation_id"] is None  # never sent with a question
