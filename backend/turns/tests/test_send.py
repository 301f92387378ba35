"""turns.services.send: queueing a turn's generation (turn_enqueue), here through the app's send endpoint."""

from __future__ import annotations

import json

import pytest

from .send_helpers import queued_tasks, send

pytestmark = pytest.mark.django_db


def test_the_queued_task_names_its_turn_without_a_copy_of_the_question_in_its_headers(
    api, conversation, gpu_queue
) -> None:
    response = send(api, conversation, content="My private question about my health")

    headers = queued_tasks(gpu_queue)[0]["headers"]
    assert headers["argsrepr"] == f"(turn {response.json()['assistant_message']['id']})"
    assert "private question" not in json.dumps(headers)
