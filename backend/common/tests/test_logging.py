"""Structured logs: every request has an id, and a turn's id and its request's id follow it through the queue."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient
from turns import tasks
from turns.tests.conftest import access_token, make_user
from turns.tests.worker_double import run_turn

from chat import sends
from chat.models import Conversation
from common.redis import get_redis
from inference import logs


class JsonLines(logging.Handler):
    """Formats each record when it is logged (the ids are context variables of that moment)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logs.JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def find(self, message: str) -> dict[str, Any]:
        found = [line for line in self.lines if line["message"] == message]
        assert found, [line["message"] for line in self.lines]
        return found[-1]


@pytest.fixture
def json_lines() -> Iterator[JsonLines]:
    handler = JsonLines()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous)


def gpu_messages(queue: str) -> list[dict[str, Any]]:
    """The Celery messages waiting in a GPU queue (kombu keeps one Redis list per queue and priority)."""
    redis = get_redis()
    messages = []
    for key in redis.scan_iter(match=f"{queue}*"):
        if redis.type(key) == "list":
            messages.extend(json.loads(raw) for raw in redis.lrange(key, 0, -1))
    return messages


@pytest.mark.django_db
def test_every_response_names_its_request(client: Client) -> None:
    generated = client.get("/healthz")["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/healthz", HTTP_X_REQUEST_ID="edge-1234")["X-Request-ID"] == "edge-1234"
    assert client.get("/healthz", HTTP_X_REQUEST_ID="bad id {}")["X-Request-ID"] != "bad id {}"


@pytest.mark.django_db
def test_a_turn_carries_its_request_id_and_turn_id_into_the_logs_and_the_gpu_task(
    json_lines: JsonLines, _private_gpu_queue: str
) -> None:
    user = make_user()
    conversation = Conversation.objects.create(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(user)}")

    response = api.post(
        f"/api/v1/conversations/{conversation.id}/messages",
        {"content": "Why is the sky blue?", "deepthink": True},
        format="json",
        HTTP_X_REQUEST_ID="req-phone-77",
    )

    assert response.status_code in (200, 201, 202), response.content
    turn_id = Conversation.objects.get(id=conversation.id).current_message_id
    queued = json_lines.find("turn queued")
    assert (queued["request_id"], queued["turn_id"]) == ("req-phone-77", str(turn_id))
    [message] = gpu_messages(_private_gpu_queue)
    assert message["headers"][logs.REQUEST_ID_HEADER] == "req-phone-77"
    assert message["headers"][logs.TURN_ID_HEADER] == str(turn_id)
    [payload], _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    assert (payload["origin_request_id"], payload["turn_id"]) == ("req-phone-77", str(turn_id))


@pytest.mark.django_db
def test_the_finalize_task_logs_with_the_ids_the_worker_sent_back(json_lines: JsonLines) -> None:
    user = make_user()
    conversation = Conversation.objects.create(user=user)

    turn_id = str(
        sends.turn_send(user=user, conversation_id=conversation.id, content="Hi", deepthink=False).assistant_message.id
    )
    run_turn(turn_id, [], ["Hello."])

    tasks.settle_turn.apply(args=[turn_id], headers={logs.REQUEST_ID_HEADER: "req-phone-78"})

    settled = json_lines.find("turn settled")
    assert (settled["request_id"], settled["turn_id"], settled["status"]) == ("req-phone-78", turn_id, "done")
    assert logs.request_id_var.get() == "" and logs.turn_id_var.get() == ""
