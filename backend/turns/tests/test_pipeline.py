"""The whole pipeline, live: HTTP send → Celery over Redis → the real GPU worker process (vLLM with the
demo model, or the simulated engine where a test needs a long answer) → Redis Stream → SSE and
WebSocket clients, and the backend's Celery worker saving the turn.

Nothing is faked between the API and the engine. Slow on purpose (the vLLM worker takes ~30 s to
start): `pytest -m "not vllm"` leaves this module out.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django import db
from django.conf import settings
from django.test import AsyncClient

from accounts.models import User
from chat.models import Conversation, Message
from common.redis import get_redis
from config.asgi import application
from config.celery import app as backend_celery
from inference import protocol
from turns import services, streams

from .conftest import access_token, make_user
from .stack import GpuWorker, backend_worker, gpu_worker, quiet_before_flush  # noqa: F401 (a fixture)

pytestmark = [
    pytest.mark.vllm,
    pytest.mark.stack,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("quiet_before_flush"),
]

TERMINAL = {"done", "error"}
# The simulated engine's answer: 16 words of reasoning, then 400 words at 50 ms each (about 20 s),
# long enough to stop or kill mid-answer.
SLOW_ENGINE = {
    "WHALE_SIM_FIRST_TOKEN_SECONDS": "0.05",
    "WHALE_SIM_INTER_TOKEN_SECONDS": "0.05",
    "WHALE_SIM_TOKENS": "400",
    "WHALE_SIM_REASONING_TOKENS": "16",
}


# --- the stack -------------------------------------------------------------------------------


def _queue(name: str) -> str:
    return f"{settings.WHALE_REDIS_PREFIX}:{name}"


@pytest.fixture(scope="module")
def vllm_worker() -> Iterator[GpuWorker]:
    # The same queue the root conftest's registry gives both models, so titles are served too.
    with gpu_worker(_queue("gpu"), engine="vllm") as worker:
        yield worker


@pytest.fixture(scope="module")
def slow_worker() -> Iterator[GpuWorker]:
    with gpu_worker(_queue("gpu-slow"), engine="simulated", engine_env=SLOW_ENGINE) as worker:
        yield worker


@pytest.fixture(scope="module")
def saving_worker(django_db_blocker: Any) -> Iterator[Any]:
    """The backend's Celery worker: it saves finished turns and titles from its own threads."""
    with django_db_blocker.unblock(), backend_worker() as worker:
        yield worker


@pytest.fixture
def stack(vllm_worker: GpuWorker, saving_worker: Any) -> GpuWorker:
    return vllm_worker


@pytest.fixture
def slow_stack(slow_worker: GpuWorker, saving_worker: Any, settings: Any) -> GpuWorker:
    """Both models served by the slow simulated worker for this test."""
    settings.WHALE_MODELS = {name: {**spec, "queue": slow_worker.queue} for name, spec in settings.WHALE_MODELS.items()}
    return slow_worker


@pytest.fixture
def user(db: Any) -> User:
    return make_user()


@pytest.fixture(autouse=True)
async def _close_async_connections() -> AsyncIterator[None]:
    """The thread that runs this module's sync_to_async calls keeps a connection; close it after each test."""
    yield
    await sync_to_async(db.connections.close_all)()


# --- clients ---------------------------------------------------------------------------------


class Client:
    """What an app does over HTTP, SSE and WebSocket, through the real ASGI application."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.token = access_token(user)
        self.auth = {"Authorization": f"Bearer {self.token}"}
        self.http = AsyncClient()

    async def new_conversation(self) -> str:
        response = await self.http.post("/api/v1/conversations", {}, "application/json", headers=self.auth)
        assert response.status_code == 201, response.content
        return str(response.json()["id"])

    async def send(self, conversation_id: str, content: str, *, deepthink: bool = True, **extra: Any) -> dict:
        response = await self.http.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            {"content": content, "deepthink": deepthink, **extra},
            content_type="application/json",
            headers=self.auth,
        )
        assert response.status_code == 202, response.content
        return response.json()

    async def regenerate(self, message_id: str) -> dict:
        response = await self.http.post(
            f"/api/v1/messages/{message_id}/regenerate", {}, "application/json", headers=self.auth
        )
        assert response.status_code == 202, response.content
        return response.json()

    async def cancel(self, turn_id: str) -> dict:
        response = await self.http.post(f"/api/v1/turns/{turn_id}/cancel", headers=self.auth)
        assert response.status_code == 202, response.content
        return response.json()

    async def conversation(self, conversation_id: str) -> dict:
        response = await self.http.get(f"/api/v1/conversations/{conversation_id}", headers=self.auth)
        assert response.status_code == 200, response.content
        return response.json()

    async def sse(self, turn_id: str, *, last_event_id: str | None = None) -> AsyncIterator[dict[str, Any]]:
        """The turn's events over SSE as they arrive (keep-alive comments skipped)."""
        headers = {**self.auth, **({"Last-Event-ID": last_event_id} if last_event_id else {})}
        response = await self.http.get(f"/api/v1/turns/{turn_id}/events", headers=headers)
        assert response.status_code == 200, response.content
        body = response.streaming_content
        buffer = ""
        try:
            async for chunk in body:
                buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
                while "\n\n" in buffer:
                    block, buffer = buffer.split("\n\n", 1)
                    frame = _parse_sse_block(block)
                    if frame is not None:
                        yield frame
        finally:
            await body.aclose()

    async def sse_all(self, turn_id: str, *, last_event_id: str | None = None) -> list[dict[str, Any]]:
        return [frame async for frame in self.sse(turn_id, last_event_id=last_event_id)]

    def websocket(self, turn_id: str, *, after: str | None = None) -> WebsocketCommunicator:
        query = f"token={self.token}" + (f"&after={after}" if after else "")
        return WebsocketCommunicator(application, f"/ws/turns/{turn_id}/?{query}")


async def connect(user: User) -> Client:
    return await sync_to_async(Client)(user)  # issuing a token writes to the database


def _parse_sse_block(block: str) -> dict[str, Any] | None:
    fields: dict[str, str] = {}
    for line in block.splitlines():
        if line.startswith(":") or ":" not in line:
            continue
        name, _, value = line.partition(":")
        fields[name] = value.removeprefix(" ")
    if "event" not in fields:
        return None
    return {"id": fields.get("id"), "type": fields["event"], "data": json.loads(fields["data"])}


async def ws_frames(socket: WebsocketCommunicator, *, limit: int | None = None, timeout: float = 60) -> list[dict]:
    """Frames until the server closes the socket (or `limit` frames), keep-alives skipped."""
    frames: list[dict] = []
    while limit is None or len(frames) < limit:
        output = await socket.receive_output(timeout)
        if output["type"] == "websocket.close":
            break
        frame = json.loads(output["text"])
        if frame["type"] != "keep-alive":
            frames.append(frame)
    return frames


def text_of(frames: list[dict[str, Any]], kind: str) -> str:
    return "".join(frame["data"]["delta"] for frame in frames if frame["type"] == kind)


async def settled(turn_id: str, timeout: float = 90) -> Message:
    """The assistant message once the backend has saved its end."""
    deadline = time.monotonic() + timeout
    while True:
        message = await Message.objects.aget(id=turn_id)
        if message.status not in services.ACTIVE_STATUSES:
            return message
        assert time.monotonic() < deadline, f"turn {turn_id} still {message.status} after {timeout} s"
        await asyncio.sleep(0.1)


def stream_entries(turn_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [protocol.decode_event(fields) for _, fields in get_redis().xrange(streams.keys_for(turn_id).events)]  # type: ignore[arg-type,union-attr]


# --- tests -----------------------------------------------------------------------------------


async def test_a_deepthink_answer_streams_over_sse_as_reasoning_then_content_and_is_saved(
    stack: GpuWorker, user: User
) -> None:
    client = await connect(user)
    conversation_id = await client.new_conversation()

    sent = await client.send(conversation_id, "Why is the sky blue?", deepthink=True)
    turn_id = sent["assistant_message"]["id"]
    assert sent["stream"]["events_url"].endswith(f"/api/v1/turns/{turn_id}/events")
    frames = await client.sse_all(turn_id)

    types = [frame["type"] for frame in frames]
    assert types[:2] == ["queued", "started"] and types[-1] == "done"
    body = types[2:-1]
    assert "reasoning" in body and "content" in body
    assert body.index("content") > max(i for i, t in enumerate(body) if t == "reasoning")
    reasoning, content = text_of(frames, "reasoning"), text_of(frames, "content")
    assert "think>" not in reasoning + content
    assert reasoning.strip() and content.strip()

    message = await settled(turn_id)
    assert message.status == "done"
    assert message.content == content and message.reasoning_content == reasoning
    assert message.model == "whale-r1" and message.deepthink
    assert 0 < message.reasoning_tokens < message.completion_tokens and message.prompt_tokens > 0
    assert message.queued_at <= message.started_at <= message.first_token_at <= message.finished_at
    done = frames[-1]["data"]
    assert done["usage"]["completion_tokens"] == message.completion_tokens

    # The auto-title comes from the model through the same worker.
    for _ in range(100):
        conversation = await Conversation.objects.aget(id=conversation_id)
        if conversation.title != "Why is the sky blue?":
            break
        await asyncio.sleep(0.2)
    assert conversation.title and conversation.title != "Why is the sky blue?"


async def test_the_answer_streams_live_over_websocket_with_the_same_events_as_sse(stack: GpuWorker, user: User) -> None:
    client = await connect(user)
    conversation_id = await client.new_conversation()
    sent = await client.send(conversation_id, "What makes rain?", deepthink=True)
    turn_id = sent["assistant_message"]["id"]

    socket = client.websocket(turn_id)
    connected, _ = await socket.connect()
    assert connected
    live = await ws_frames(socket)

    assert [frame["type"] for frame in live][-1] == "done"
    assert text_of(live, "reasoning") and text_of(live, "content")
    replay = await client.sse_all(turn_id)
    assert [(f["id"], f["type"], f["data"]) for f in live] == [(f["id"], f["type"], f["data"]) for f in replay]


async def test_a_client_that_drops_mid_answer_gets_the_rest_once_and_in_order(stack: GpuWorker, user: User) -> None:
    client = await connect(user)
    conversation_id = await client.new_conversation()
    sent = await client.send(conversation_id, "Why is the sky blue?", deepthink=True)
    turn_id = sent["assistant_message"]["id"]

    seen: list[dict[str, Any]] = []
    async for frame in client.sse(turn_id):
        seen.append(frame)
        if frame["type"] in {"reasoning", "content"}:
            break  # the phone lost its network after the first words
    assert seen[-1]["type"] in {"reasoning", "content"}
    rest = await client.sse_all(turn_id, last_event_id=seen[-1]["id"])

    # A second device attaches over WebSocket from the same point.
    socket = client.websocket(turn_id, after=seen[-1]["id"])
    await socket.connect()
    rest_over_ws = await ws_frames(socket)

    everything = await client.sse_all(turn_id)
    assert everything[-1]["type"] == "done"
    assert seen + rest == everything
    assert [f["id"] for f in rest_over_ws] == [f["id"] for f in rest]
    message = await settled(turn_id)
    assert message.content == text_of(seen + rest, "content")


async def test_regenerate_and_edit_make_sibling_branches_that_the_conversation_shows(
    stack: GpuWorker, user: User
) -> None:
    client = await connect(user)
    conversation_id = await client.new_conversation()
    first = await client.send(conversation_id, "Why is the sky blue?", deepthink=True)
    first_answer = first["assistant_message"]["id"]
    await settled(first_answer)

    again = await client.regenerate(first_answer)
    second_answer = again["assistant_message"]["id"]
    assert again["user_message"] is None
    assert (await settled(second_answer)).status == "done"
    thread = await client.conversation(conversation_id)
    question, answer = thread["messages"]
    assert answer["id"] == second_answer and (answer["sibling_count"], answer["sibling_index"]) == (2, 1)
    assert answer["sibling_ids"] == [first_answer, second_answer]
    assert question["id"] == first["user_message"]["id"]

    edited = await client.send(conversation_id, "Why is the sea blue?", deepthink=False, parent_id=None)
    assert (await settled(edited["assistant_message"]["id"])).status == "done"
    thread = await client.conversation(conversation_id)
    question, answer = thread["messages"]
    assert question["content"] == "Why is the sea blue?"
    assert (question["sibling_count"], question["sibling_index"]) == (2, 1)
    assert answer["deepthink"] is False and answer["model"] == "whale-chat"
    assert await Message.objects.filter(conversation_id=conversation_id).acount() == 5  # Q, A, A', Q', A'


async def test_a_task_delivered_twice_is_generated_once_and_saved_once(
    stack: GpuWorker, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent_tasks: list[tuple[str, list[Any], str]] = []
    send_task = backend_celery.send_task

    def record(name: str, args: Any = None, kwargs: Any = None, queue: Any = None, **options: Any) -> Any:
        # Celery's own retries call send_task(name, args, kwargs, ..., queue=...): take kwargs positionally too.
        sent_tasks.append((name, args, queue))
        return send_task(name, args=args, kwargs=kwargs, queue=queue, **options)

    monkeypatch.setattr(backend_celery, "send_task", record)
    client = await connect(user)
    conversation_id = await client.new_conversation()
    sent = await client.send(conversation_id, "Why is the sky blue?", deepthink=True)
    turn_id = sent["assistant_message"]["id"]
    name, args, queue = next(task for task in sent_tasks if task[0] == protocol.TASK_GENERATE_TURN)
    send_task(name, args=args, queue=queue)  # the broker delivers it again, at once

    message = await settled(turn_id)
    finished_at = message.finished_at
    send_task(name, args=args, queue=queue)  # and once more, after the turn ended
    send_task(protocol.TASK_FINALIZE_TURN, args=[turn_id], queue=settings.WHALE_BACKEND_QUEUE)
    await asyncio.sleep(3)  # room for both to be (not) acted on

    types = [event_type for event_type, _ in stream_entries(turn_id)]
    assert types.count("started") == 1 and types.count("done") == 1 and types[-1] == "done"
    again = await Message.objects.aget(id=turn_id)
    assert again.finished_at == finished_at and again.content == message.content
    assert await Message.objects.filter(conversation_id=conversation_id).acount() == 2


async def test_concurrent_turns_run_in_the_engine_together(stack: GpuWorker, user: User, settings: Any) -> None:
    clients = [
        await connect(await sync_to_async(make_user)(f"user{i}-{uuid.uuid4().hex[:8]}@example.com")) for i in range(8)
    ]
    conversations = [await client.new_conversation() for client in clients]
    # Eight people press send at the same instant: their tasks are held back, then released at once.
    served = settings.WHALE_MODELS
    hold = _queue("gpu-hold")
    settings.WHALE_MODELS = {name: {**spec, "queue": hold} for name, spec in served.items()}
    sends = [
        client.send(conversation_id, "Why is the sky blue?", deepthink=True)
        for client, conversation_id in zip(clients, conversations, strict=True)
    ]
    turn_ids = [sent["assistant_message"]["id"] for sent in await asyncio.gather(*sends)]
    settings.WHALE_MODELS = served
    # Tasks wait in one list per priority step (ratelimits.admission); move each to the same step.
    from ratelimits.admission import PRIORITY_STEPS, priority_queue_name

    release = get_redis().pipeline(transaction=True)
    for step in PRIORITY_STEPS:
        for _ in range(get_redis().llen(priority_queue_name(hold, step))):
            release.rpoplpush(priority_queue_name(hold, step), priority_queue_name(stack.queue, step))
    moved = release.execute()
    assert len(moved) == len(turn_ids) and all(moved)

    messages = [await settled(turn_id) for turn_id in turn_ids]

    assert all(message.status == "done" for message in messages)
    # Sweep the turns' [started, finished] spans (the worker's clock): how many ran at the same time.
    edges = sorted([(m.started_at, 1) for m in messages] + [(m.finished_at, -1) for m in messages])
    running, most_at_once = 0, 0
    for _, step in edges:
        running += step
        most_at_once = max(most_at_once, running)
    assert most_at_once >= 4, f"at most {most_at_once} of 8 turns were in the engine at once"


async def test_cancel_stops_the_answer_mid_stream_and_keeps_the_partial_text(slow_stack: GpuWorker, user: User) -> None:
    client = await connect(user)
    conversation_id = await client.new_conversation()
    sent = await client.send(conversation_id, "Tell me a long story.", deepthink=True)
    turn_id = sent["assistant_message"]["id"]

    frames: list[dict[str, Any]] = []
    cancelled_at: float | None = None
    async for frame in client.sse(turn_id):
        frames.append(frame)
        if cancelled_at is None and text_of(frames, "content"):
            await client.cancel(turn_id)
            cancelled_at = time.monotonic()
    assert cancelled_at is not None
    stopped_within = time.monotonic() - cancelled_at

    assert frames[-1]["type"] == "done" and frames[-1]["data"]["status"] == "cancelled"
    assert stopped_within < 5, "the engine request is aborted at once, not run to its end"
    message = await settled(turn_id)
    assert message.status == "cancelled"
    assert message.content == text_of(frames, "content") and message.content
    assert message.completion_tokens < 400


async def test_a_worker_killed_mid_answer_ends_the_turn_failed_and_regenerate_works(
    stack: GpuWorker, saving_worker: Any, user: User, settings: Any
) -> None:
    doomed_queue = _queue("gpu-doomed")
    served_by_vllm = settings.WHALE_MODELS
    settings.WHALE_MODELS = {name: {**spec, "queue": doomed_queue} for name, spec in served_by_vllm.items()}
    client = await connect(user)
    conversation_id = await client.new_conversation()
    with gpu_worker(doomed_queue, engine="simulated", engine_env=SLOW_ENGINE) as doomed:
        sent = await client.send(conversation_id, "Tell me a long story.", deepthink=True)
        turn_id = sent["assistant_message"]["id"]
        seen: list[dict[str, Any]] = []
        async for frame in client.sse(turn_id):
            seen.append(frame)
            if frame["type"] == "content":
                break
        doomed.kill()

    # The reaper (celery beat every few seconds in production) notices the lapsed lease.
    deadline = time.monotonic() + protocol.LEASE_TTL_SECONDS + 60
    while (await Message.objects.aget(id=turn_id)).status in services.ACTIVE_STATUSES:
        assert time.monotonic() < deadline, "the turn of a dead worker was never ended"
        await sync_to_async(services.turns_reap)()
        await asyncio.sleep(1)

    message = await Message.objects.aget(id=turn_id)
    assert message.status == "failed" and message.error_code == "worker_lost"
    rest = await client.sse_all(turn_id, last_event_id=seen[-1]["id"])
    assert rest[-1]["type"] == "error" and rest[-1]["data"]["code"] == "worker_lost"
    assert await Message.objects.filter(id=sent["user_message"]["id"]).aexists()

    settings.WHALE_MODELS = served_by_vllm
    retry = await client.regenerate(turn_id)
    assert (await settled(retry["assistant_message"]["id"])).status == "done"
