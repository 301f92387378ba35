"""turns.api: the HTTP endpoints' own answers: the models list, the 202 body's links and headers, who may send,
and the cancel endpoint."""

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
