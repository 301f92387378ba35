"""turns.api: the models list (the app's send endpoints are chat's: chat/tests/test_send_api.py)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_models_lists_what_clients_may_pick(api) -> None:
    response = api.get("/api/v1/models")
    assert response.status_code == 200
    ids = {model["id"]: model for model in response.json()["data"]}
    assert ids["whale-r1"]["reasoning"] is True
    assert ids["whale-chat"]["reasoning"] is False
    assert ids["whale-r1"]["available"] is False  # no worker heartbeat in this test


def test_the_models_list_says_what_files_a_message_may_carry(api, settings) -> None:
    settings.WHALE_FILES_PER_MESSAGE = 7
    files = api.get("/api/v1/models").json()["capabilities"]["files"]
    assert files["max_per_message"] == 7
    assert files["kinds"]["pdf"] == settings.WHALE_FILES_LIMIT_DOCUMENT_BYTES
