"""/metrics: who may read it, and that its numbers move with requests, turns, streams and rejections."""

from __future__ import annotations

import re
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.test import Client
from prometheus_client import REGISTRY
from turns import services
from turns.tests.conftest import access_token, make_user
from turns.tests.worker_double import run_turn

from accounts.models import User
from chat import sends
from chat.models import Conversation
from common import metrics
from common.errors import RateLimited, ServiceUnavailable
from common.exceptions import exception_handler
from common.redis import get_redis
from config.asgi import application
from inference import protocol
from serving.registry import model_for_turn

TOKEN = "metrics-token-for-tests-0123456789"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client: Client) -> str:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    return response.content.decode()


def series(text: str, name: str, **labels: str) -> float | None:
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    match = re.search(rf"^{re.escape(name)}{{{re.escape(wanted)}}} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else None


@pytest.fixture(autouse=True)
def _metrics_token(settings: Any) -> None:
    settings.WHALE_METRICS_TOKEN = TOKEN


@pytest.mark.django_db
def test_metrics_are_refused_without_the_token_or_a_staff_session(client: Client) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    client.force_login(User.objects.create_user(email="user@example.com", password="x-Good-pass-1"))
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
def test_metrics_are_served_to_the_bearer_token_and_to_staff(client: Client) -> None:
    assert "whale_http_request_duration_seconds" in scrape(client)
    client.force_login(User.objects.create_superuser(email="staff@example.com", password="x-Good-pass-1"))
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.django_db
def test_http_latency_is_recorded_by_route_pattern_not_by_raw_path(client: Client) -> None:
    labels = {"route": "/api/v1/conversations/<uuid:conversation_id>", "method": "GET", "status": "401"}
    before = sample("whale_http_request_duration_seconds_count", **labels)

    client.get("/api/v1/conversations/8a0d7c2e-58d5-4f54-9e1c-2a1f8d5f4b11")

    assert sample("whale_http_request_duration_seconds_count", **labels) == before + 1


@pytest.mark.django_db
def test_a_settled_turn_moves_the_turn_latency_and_speed_metrics(client: Client) -> None:
    user = make_user()
    conversation = Conversation.objects.create(user=user)
    before = {
        "done": sample("whale_turns_total", model="whale-r1", status="done"),
        "first": sample("whale_turn_first_token_seconds_count", model="whale-r1"),
        "speed": sample("whale_turn_tokens_per_second_count", model="whale-r1"),
    }
    created = sends.turn_send(user=user, conversation_id=conversation.id, content="Why?", deepthink=True)
    turn_id = created.assistant_message.id

    text = scrape(client)
    queue = created.assistant_message.model and model_for_turn(deepthink=True).queue
    assert series(text, "whale_queue_depth", model="whale-r1", queue=queue) == 1
    assert series(text, "whale_turns_in_flight", model="whale-r1", status="queued") == 1

    run_turn(turn_id, ["Let me ", "think."], ["Because."])
    assert services.turn_settle(turn_id=turn_id)

    assert sample("whale_turns_total", model="whale-r1", status="done") == before["done"] + 1
    assert sample("whale_turn_first_token_seconds_count", model="whale-r1") == before["first"] + 1
    assert sample("whale_turn_tokens_per_second_count", model="whale-r1") == before["speed"] + 1
    text = scrape(client)
    assert series(text, "whale_turns_in_flight", model="whale-r1", status="queued") is None
    assert series(text, "whale_turns_total", model="whale-r1", status="done") == before["done"] + 1


@pytest.mark.django_db
def test_live_workers_appear_from_their_heartbeats(client: Client, settings: Any) -> None:
    prefix = settings.WHALE_REDIS_PREFIX
    redis = get_redis()
    redis.hset(
        protocol.worker_heartbeat_key(prefix, "gpu-7"),
        mapping={"worker_id": "gpu-7", "model": "whale-tiny-r1", "in_flight": "5", "queues": "q"},
    )
    redis.sadd(protocol.workers_index_key(prefix), "gpu-7")

    text = scrape(client)

    assert series(text, "whale_workers_alive", model="whale-tiny-r1") == 1
    assert series(text, "whale_worker_in_flight", model="whale-tiny-r1", worker="gpu-7") == 5


@pytest.mark.django_db
def test_rate_limit_and_busy_rejections_are_counted_by_limit_and_model() -> None:
    limited = sample("whale_rate_limit_rejections_total", limit="requests_per_minute")
    busy = sample("whale_busy_rejections_total", model="whale-r1")

    exception_handler(RateLimited(retry_after=3, extra={"limit": "requests_per_minute"}), {})
    exception_handler(ServiceUnavailable(code="server_busy", extra={"model": "whale-r1"}), {})
    exception_handler(ServiceUnavailable(code="queue_unavailable"), {})

    assert sample("whale_rate_limit_rejections_total", limit="requests_per_minute") == limited + 1
    assert sample("whale_busy_rejections_total", model="whale-r1") == busy + 1


@pytest.mark.django_db(transaction=True)
async def test_open_websockets_are_counted_while_they_are_open() -> None:
    user = await sync_to_async(make_user)()
    before = sample("whale_open_streams", kind="websocket")
    socket = WebsocketCommunicator(application, f"/ws/events/?token={await sync_to_async(access_token)(user)}")
    await socket.connect()
    assert (await socket.receive_json_from(5))["type"] == "ready"

    assert sample("whale_open_streams", kind="websocket") == before + 1
    await socket.disconnect()
    assert sample("whale_open_streams", kind="websocket") == before


def test_the_stream_tracker_counts_one_stream_once_however_often_it_is_closed() -> None:
    before = sample("whale_open_streams", kind="sse")
    tracker = metrics.StreamTracker("sse")
    tracker.open()
    tracker.open()
    assert sample("whale_open_streams", kind="sse") == before + 1
    tracker.close()
    tracker.close()
    assert sample("whale_open_streams", kind="sse") == before
