"""The streaming clients (aiohttp): vLLM's OpenAI chat stream, and our turn events over SSE and WebSocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp

from .measure import MAX_TOKENS, PROMPT, TEMPERATURE, TOP_P, Stopwatch, TurnFailed, TurnSample

BENCH_EMAIL_DOMAIN = "bench.whale.local"  # stack.raise_limits finds the bench users by it
REASONING_MODEL = "whale-r1"  # the stack's DeepThink model (the demo model behind it), as the partner API names it


def new_session(limit: int) -> aiohttp.ClientSession:
    # No total timeout: the load loop times each turn out itself.
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit + 8), timeout=aiohttp.ClientTimeout(total=None, sock_connect=30)
    )


async def sse_frames(response: aiohttp.ClientResponse) -> AsyncIterator[tuple[str, str]]:
    """(event type, data) per server-sent event; comments and keep-alives are skipped."""
    event_type, data = "message", list[str]()
    async for raw in response.content:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if data:
                yield event_type, "\n".join(data)
            event_type, data = "message", list[str]()
        elif line.startswith("event:"):
            event_type = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))


# --- vLLM's OpenAI-compatible server -----------------------------------------------------------


async def openai_chat_turn(
    session: aiohttp.ClientSession, base_url: str, model: str, headers: dict[str, str] | None = None
) -> TurnSample:
    """One streamed chat completion; the usage comes in the last chunk (stream_options.include_usage).
    vLLM's own server, or our partner API (`/v1/`, with the key in `headers`)."""
    body = {
        "model": model,
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": MAX_TOKENS,
        "temperature": TEMPERATURE,
        "top_p": TOP_P,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    watch = Stopwatch()
    completion_tokens: int | None = None
    async with session.post(f"{base_url}/v1/chat/completions", json=body, headers=headers) as response:
        if response.status != 200:
            raise TurnFailed(f"HTTP {response.status}: {(await response.text())[:200]}")
        async for _, data in sse_frames(response):
            if data == "[DONE]":
                break
            if watch.first_token is None or '"usage":null' not in data:
                chunk = json.loads(data)
                if "error" in chunk:
                    raise TurnFailed(str(chunk["error"])[:200])
                for choice in chunk.get("choices") or []:
                    delta = choice.get("delta") or {}
                    if delta.get("content") or delta.get("reasoning") or delta.get("reasoning_content"):
                        watch.token()
                if chunk.get("usage"):
                    completion_tokens = int(chunk["usage"]["completion_tokens"])
    if completion_tokens is None:
        raise TurnFailed("the stream ended without usage")
    return watch.sample(completion_tokens)


# --- our stack ---------------------------------------------------------------------------------


@dataclass
class BenchUser:
    email: str
    access: str
    api_key: str = ""  # a partner API key, for the `v1` transport

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


async def api(
    session: aiohttp.ClientSession, method: str, url: str, *, user: BenchUser | None = None, json_body: Any = None
) -> Any:
    headers = user.headers if user else {}
    async with session.request(method, url, json=json_body, headers=headers) as response:
        body = await response.json(content_type=None)
        if response.status >= 300:
            raise TurnFailed(f"{method} {url.split('/api/v1/')[-1]}: HTTP {response.status} {json.dumps(body)[:200]}")
        return body


async def register(session: aiohttp.ClientSession, base_url: str, index: int, run_id: str) -> BenchUser:
    email = f"bench-{run_id}-{index}@{BENCH_EMAIL_DOMAIN}"
    body = await api(
        session,
        "POST",
        f"{base_url}/api/v1/auth/register",
        json_body={"email": email, "password": f"bench-{run_id}-Pw-{index}!", "display_name": f"Bench {index}"},
    )
    return BenchUser(email=email, access=body["access"])


async def create_api_key(session: aiohttp.ClientSession, base_url: str, user: BenchUser) -> None:
    body = await api(session, "POST", f"{base_url}/api/v1/api-keys", user=user, json_body={"name": "bench"})
    user.api_key = str(body["secret"])


async def stack_v1_turn(
    session: aiohttp.ClientSession, base_url: str, user: BenchUser, conversation_id: str
) -> TurnSample:
    """The partner API: one streamed chat completion on `/v1/`, as vLLM's own server is asked."""
    return await openai_chat_turn(session, base_url, REASONING_MODEL, {"Authorization": f"Bearer {user.api_key}"})


async def create_conversation(session: aiohttp.ClientSession, base_url: str, user: BenchUser) -> str:
    body = await api(session, "POST", f"{base_url}/api/v1/conversations", user=user, json_body={"title": "bench"})
    return str(body["id"])


class Busy(Exception):
    """409 turn_in_progress: the conversation's previous turn is not saved yet."""


async def _send(session: aiohttp.ClientSession, base_url: str, user: BenchUser, conversation_id: str) -> str:
    """Sends the question as a new first question (`parent_id: null`), so the prompt is the question alone
    however often the conversation is reused."""
    async with session.post(
        f"{base_url}/api/v1/conversations/{conversation_id}/messages",
        json={"content": PROMPT, "deepthink": True, "parent_id": None},
        headers=user.headers,
    ) as response:
        body = await response.json(content_type=None)
        if response.status == 409 and (body.get("error") or {}).get("code") == "turn_in_progress":
            raise Busy
        if response.status != 202:
            raise TurnFailed(f"send: HTTP {response.status} {json.dumps(body)[:200]}")
        return str(body["assistant_message"]["id"])


def _epoch(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


def first_token_phases(watch: Stopwatch, timings: dict[str, Any]) -> dict[str, float]:
    """Splits the first token's latency (ms) with the server's timestamps (same machine, same clock):

    post: the message POST's round trip; open: opening the event stream after it;
    queued: request sent -> the `queued` event written; dispatch: queued -> the GPU worker started the turn;
    engine: started -> the engine's first token; delivery: that token -> the client has it.
    """
    phases: dict[str, float] = {}
    if "post" in watch.marks:
        phases["post"] = watch.marks["post"] * 1000
        if "open" in watch.marks:
            phases["open"] = (watch.marks["open"] - watch.marks["post"]) * 1000
    queued, started, first = (_epoch(timings.get(key)) for key in ("queued_at", "started_at", "first_token_at"))
    points = [("queued", watch.started_wall, queued), ("dispatch", queued, started), ("engine", started, first)]
    points.append(("delivery", first, watch.first_token_wall))
    for name, begin, end in points:
        if begin is not None and end is not None:
            phases[name] = (end - begin) * 1000
    return phases


def _finish(event_type: str, data: dict[str, Any], watch: Stopwatch, retries: int) -> TurnSample:
    if event_type == "error":
        raise TurnFailed(f"error event: {data.get('code')}")
    if data.get("status") != "done":
        raise TurnFailed(f"turn ended {data.get('status')}")
    return watch.sample(
        int((data.get("usage") or {}).get("completion_tokens") or 0),
        phases=first_token_phases(watch, data.get("timings") or {}),
        retries=retries,
    )


MAX_BUSY_RETRIES = 100


async def _start_turn(
    session: aiohttp.ClientSession, base_url: str, user: BenchUser, conversation_id: str
) -> tuple[Stopwatch, str, int]:
    """Sends the question, retrying while the conversation's previous turn is being saved; the clock
    starts at the send that was accepted."""
    for retries in range(MAX_BUSY_RETRIES):
        watch = Stopwatch()
        try:
            turn_id = await _send(session, base_url, user, conversation_id)
        except Busy:
            await asyncio.sleep(0.05)
            continue
        watch.mark("post")
        return watch, turn_id, retries
    raise TurnFailed(f"the conversation stayed busy after {MAX_BUSY_RETRIES} tries")


async def stack_sse_turn(
    session: aiohttp.ClientSession, base_url: str, user: BenchUser, conversation_id: str
) -> TurnSample:
    """POST the message, then read GET /api/v1/turns/{id}/events until done or error."""
    watch, turn_id, retries = await _start_turn(session, base_url, user, conversation_id)
    headers = {**user.headers, "Accept": "text/event-stream"}
    async with session.get(f"{base_url}/api/v1/turns/{turn_id}/events", headers=headers) as response:
        if response.status != 200:
            raise TurnFailed(f"events: HTTP {response.status}")
        watch.mark("open")
        async for event_type, data in sse_frames(response):
            if event_type in ("reasoning", "content"):
                watch.token()
            elif event_type in ("done", "error"):
                return _finish(event_type, json.loads(data), watch, retries)
    raise TurnFailed("the event stream ended before the turn did")


async def stack_sse_one_request_turn(
    session: aiohttp.ClientSession, base_url: str, user: BenchUser, conversation_id: str
) -> TurnSample:
    """POST the message with `Accept: text/event-stream`: the turn's events come in the send's own response."""
    headers = {**user.headers, "Accept": "text/event-stream"}
    for retries in range(MAX_BUSY_RETRIES):
        watch = Stopwatch()
        async with session.post(
            f"{base_url}/api/v1/conversations/{conversation_id}/messages",
            json={"content": PROMPT, "deepthink": True, "parent_id": None},
            headers=headers,
        ) as response:
            if response.status != 200:
                body = await response.json(content_type=None)
                if response.status == 409 and (body.get("error") or {}).get("code") == "turn_in_progress":
                    await asyncio.sleep(0.05)
                    continue
                raise TurnFailed(f"send: HTTP {response.status} {json.dumps(body)[:200]}")
            async for event_type, data in sse_frames(response):
                if event_type == "turn":
                    watch.mark("post")
                elif event_type in ("reasoning", "content"):
                    watch.token()
                elif event_type in ("done", "error"):
                    return _finish(event_type, json.loads(data), watch, retries)
            raise TurnFailed("the event stream ended before the turn did")
    raise TurnFailed(f"the conversation stayed busy after {MAX_BUSY_RETRIES} tries")


async def stack_ws_turn(
    session: aiohttp.ClientSession, base_url: str, user: BenchUser, conversation_id: str
) -> TurnSample:
    """POST the message, then read /ws/turns/{id}/ frames until done or error."""
    watch, turn_id, retries = await _start_turn(session, base_url, user, conversation_id)
    ws_url = base_url.replace("http://", "ws://", 1) + f"/ws/turns/{turn_id}/"
    async with session.ws_connect(ws_url, headers=user.headers, autoping=True) as socket:
        watch.mark("open")
        async for message in socket:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            frame = json.loads(message.data)
            event_type = frame.get("type")
            if event_type in ("reasoning", "content"):
                watch.token()
            elif event_type in ("done", "error"):
                return _finish(event_type, frame.get("data") or {}, watch, retries)
    raise TurnFailed(f"the socket closed before the turn ended (code {socket.close_code})")


_user_sockets: dict[str, aiohttp.ClientWebSocketResponse] = {}


async def _user_socket(
    session: aiohttp.ClientSession, base_url: str, user: BenchUser
) -> aiohttp.ClientWebSocketResponse:
    """The client's one user socket (/ws/events/), opened on its first turn and kept, as the app keeps it."""
    socket = _user_sockets.get(user.email)
    if socket is None or socket.closed:
        ws_url = base_url.replace("http://", "ws://", 1) + "/ws/events/"
        socket = await session.ws_connect(ws_url, headers=user.headers, autoping=True)
        _user_sockets[user.email] = socket
    return socket


async def stack_ws_one_socket_turn(
    session: aiohttp.ClientSession, base_url: str, user: BenchUser, conversation_id: str
) -> TurnSample:
    """A `send` frame on the user's open socket; the turn's events come back on it: no HTTP request."""
    socket = await _user_socket(session, base_url, user)
    for retries in range(MAX_BUSY_RETRIES):
        watch = Stopwatch()
        await socket.send_json(
            {
                "type": "send",
                "conversation_id": conversation_id,
                "content": PROMPT,
                "deepthink": True,
                "parent_id": None,
            }
        )
        turn_id = None
        async for message in socket:
            if message.type != aiohttp.WSMsgType.TEXT:
                raise TurnFailed(f"the user socket closed (code {socket.close_code})")
            frame = json.loads(message.data)
            kind = frame.get("type")
            if kind == "refused" and turn_id is None:
                if (frame.get("error") or {}).get("code") == "turn_in_progress":
                    break
                raise TurnFailed(f"send: {frame.get('status')} {json.dumps(frame)[:200]}")
            if kind == "sent" and turn_id is None:
                turn_id = frame["assistant_message"]["id"]
                watch.mark("post")
            elif kind == "turn.event" and frame.get("turn_id") == turn_id:
                event_type = frame.get("event")
                if event_type in ("reasoning", "content"):
                    watch.token()
                elif event_type in ("done", "error"):
                    return _finish(event_type, frame.get("data") or {}, watch, retries)
        else:
            raise TurnFailed("the user socket ended before the turn did")
        await asyncio.sleep(0.05)
    raise TurnFailed(f"the conversation stayed busy after {MAX_BUSY_RETRIES} tries")
