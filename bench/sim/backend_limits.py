"""The backend's limits on this machine: requests per second, and concurrent SSE streams per process.

    .venv/bin/python -m bench.sim.backend_limits --streams 50 100 200 400 --out docs/scaling/backend_limits.json

One real ASGI process (uvicorn, the production entry point config.asgi:application) against real
Postgres and Redis. This harness process plays the clients and the GPU workers:
- requests per second: C concurrent clients repeat GET /healthz (no database), GET /readyz (one
  database and one Redis round trip) and an authenticated GET /api/v1/conversations (JWT check plus
  a database query) for a fixed time;
- streams: N turns exist in the database (created through the ORM, like turn_send would), N SSE
  clients follow GET /api/v1/turns/<id>/events, and a producer writes each turn's Redis Stream the way
  a worker does (a coalesced delta every 100 ms), then `done`. Lag is the time from a delta's stream
  id (when it was written) to the moment the client has read its frame.
The clients share the same 2 cores as the server, so the numbers are a lower bound for the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
DB_NAME = os.environ.get("WHALE_SIM_DB_NAME", "whale_sim")
PG_URL = os.environ.get("WHALE_SIM_PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("WHALE_SIM_REDIS_URL", "redis://127.0.0.1:6379/1")
EVENT_INTERVAL = 0.1  # a worker flushes coalesced deltas at most every 40 ms; 100 ms is a busy GPU batch
WORDS_PER_EVENT = 4


def _env(prefix: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "WHALE_ENV": "test",
        "DEBUG": "false",
        "SECRET_KEY": "sim-only-secret-key-0123456789abcdef0123456789",
        "DATABASE_URL": f"{PG_URL}/{DB_NAME}",
        "DB_CONN_MAX_AGE": "0",  # persistent connections leak under ASGI (one per worker thread)
        "REDIS_URL": REDIS_URL,
        "WHALE_REDIS_PREFIX": prefix,
        "WHALE_BACKEND_QUEUE": f"{prefix}:backend",
        "WHALE_SSE_KEEPALIVE_SECONDS": "15",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        **{k: os.environ[k] for k in ("DB_POOL_MAX_SIZE", "DB_POOL_TIMEOUT_SECONDS") if k in os.environ},
    }


def setup_django(prefix: str) -> None:
    os.environ.update(_env(prefix))
    sys.path[:0] = [str(ROOT / "backend"), str(ROOT)]
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone():
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def make_user_and_token() -> tuple[Any, str]:
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User

    user = User.objects.create_user(email=f"sim-{uuid.uuid4().hex[:10]}@sim.local", password=uuid.uuid4().hex)
    return user, str(AccessToken.for_user(user))


def make_turns(user: Any, count: int) -> list[str]:
    from turns.models import Turn

    from chat.models import Conversation, Message

    conversations = Conversation.objects.bulk_create([Conversation(user=user, title="sim") for _ in range(count)])
    questions = Message.objects.bulk_create(
        [Message(conversation=c, role=Message.Role.USER, content="Why is the sky blue?") for c in conversations]
    )
    # An answer's status and model are its Turn's (turns.models): the turn first, the answer pointing to it.
    turns = Turn.objects.bulk_create(
        [Turn(source=Turn.Source.APP, user=user, status=Turn.Status.QUEUED, model="whale-r1") for _ in conversations]
    )
    answers = Message.objects.bulk_create(
        [
            Message(id=t.id, turn=t, conversation=c, parent=q, role=Message.Role.ASSISTANT)
            for c, q, t in zip(conversations, questions, turns, strict=True)
        ]
    )
    return [str(a.id) for a in answers]


def start_server(prefix: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **_env(prefix), "PYTHONPATH": f"{ROOT / 'backend'}:{ROOT}"}
    argv = [str(VENV_BIN / "uvicorn"), "config.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--no-access-log", "--log-level", "warning"]
    return subprocess.Popen(
        argv, cwd=ROOT / "backend", env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))] if ordered else float("nan")


async def wait_ready(base: str, timeout: float = 60.0) -> None:
    import aiohttp

    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError("the ASGI server did not answer /healthz")


async def measure_rps(base: str, path: str, token: str | None, *, concurrency: int, seconds: float) -> dict[str, Any]:
    import aiohttp

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    stop_at = time.monotonic() + seconds

    async def client(session: aiohttp.ClientSession) -> None:
        while time.monotonic() < stop_at:
            began = time.perf_counter()
            async with session.get(f"{base}{path}", headers=headers) as response:
                await response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1
            latencies.append(time.perf_counter() - began)

    connector = aiohttp.TCPConnector(limit=concurrency)
    began = time.monotonic()
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    wall = time.monotonic() - began
    return {
        "path": path,
        "concurrency": concurrency,
        "seconds": round(wall, 2),
        "requests": len(latencies),
        "requests_per_second": round(len(latencies) / wall, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p99_ms": round(1000 * _pct(latencies, 0.99), 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


async def measure_streams(
    base: str, token: str, turn_ids: list[str], prefix: str, *, seconds: float, transport: str = "sse"
) -> dict[str, Any]:
    import aiohttp
    from redis.asyncio import Redis

    from inference import protocol

    redis = Redis.from_url(REDIS_URL, decode_responses=True)
    lags: list[float] = []
    received = 0
    errors: list[str] = []
    connected = asyncio.Event()
    open_count = 0
    done_count = 0

    def seen(kind: str, event_id: str) -> bool:
        """Records one frame; True at the turn's terminal event."""
        nonlocal received, done_count
        if kind in ("content", "reasoning") and event_id:
            written = int(event_id.split(".")[0].split("-")[0]) / 1000.0
            lags.append(time.time() - written)
            received += 1
        if kind in ("done", "error"):
            done_count += 1
            return True
        return False

    def opened() -> None:
        nonlocal open_count
        open_count += 1
        if open_count == len(turn_ids):
            connected.set()

    async def follow_ws(session: aiohttp.ClientSession, turn_id: str) -> None:
        url = f"{base.replace('http', 'ws', 1)}/ws/turns/{turn_id}/?token={token}"
        try:
            async with session.ws_connect(url, heartbeat=None) as ws:
                first = True
                async for message in ws:
                    if message.type != aiohttp.WSMsgType.TEXT:
                        break
                    frame = json.loads(message.data)
                    if first:
                        first = False
                        opened()
                    if seen(frame.get("type", ""), frame.get("id", "")):
                        return
                errors.append(f"closed {ws.close_code}")
        except (TimeoutError, aiohttp.ClientError) as exc:
            errors.append(type(exc).__name__)

    async def follow(session: aiohttp.ClientSession, turn_id: str) -> None:
        nonlocal received, open_count, done_count
        if transport == "websocket":
            await follow_ws(session, turn_id)
            return
        url = f"{base}/api/v1/turns/{turn_id}/events"
        try:
            async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
                if response.status != 200:
                    errors.append(f"status {response.status}")
                    return
                opened()
                event_id = ""
                async for raw in response.content:
                    line = raw.decode().rstrip("\n")
                    if line.startswith("id:"):
                        event_id = line[3:].strip()
                    elif line.startswith("event:") and seen(line[6:].strip(), event_id):
                        return
        except (TimeoutError, aiohttp.ClientError) as exc:
            errors.append(type(exc).__name__)

    async def produce() -> int:
        await asyncio.wait_for(connected.wait(), timeout=120)
        keys = [protocol.turn_keys(prefix, turn_id) for turn_id in turn_ids]
        written = 0
        stop_at = time.monotonic() + seconds
        tick = 0
        while time.monotonic() < stop_at:
            started = time.monotonic()
            async with redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    text = " word" * WORDS_PER_EVENT
                    pipe.xadd(key.events, protocol.encode_event("content", {"delta": text, "index": tick}))
                await pipe.execute()
            written += len(keys)
            tick += 1
            await asyncio.sleep(max(0.0, EVENT_INTERVAL - (time.monotonic() - started)))
        async with redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.xadd(key.events, protocol.encode_event("done", {"status": "done", "usage": {}}))
                pipe.expire(key.events, 600)
            await pipe.execute()
        return written

    connector = aiohttp.TCPConnector(limit=len(turn_ids) + 8)
    timeout = aiohttp.ClientTimeout(total=seconds + 180, sock_connect=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        for turn_id in turn_ids:  # the queued event a real turn starts with
            await redis.xadd(protocol.turn_keys(prefix, turn_id).events, protocol.encode_event("queued", {}))
        began = time.monotonic()
        followers = [asyncio.create_task(follow(session, turn_id)) for turn_id in turn_ids]
        try:
            written = await produce()
        except TimeoutError:
            written = 0
            errors.append(f"only {open_count} of {len(turn_ids)} streams connected within 120 s")
            for task in followers:
                task.cancel()
        await asyncio.gather(*followers, return_exceptions=True)
        wall = time.monotonic() - began
    await redis.aclose()
    return {
        "transport": transport,
        "streams": len(turn_ids),
        "connected": open_count,
        "finished": done_count,
        "events_written": written,
        "events_received": received,
        "events_per_second_delivered": round(received / max(wall, 1e-9), 1),
        "lag_p50_ms": round(1000 * statistics.median(lags), 1) if lags else None,
        "lag_p95_ms": round(1000 * _pct(lags, 0.95), 1) if lags else None,
        "lag_p99_ms": round(1000 * _pct(lags, 0.99), 1) if lags else None,
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sse", type=int, nargs="*", default=[4, 8, 16], help="concurrent SSE stream levels")
    parser.add_argument("--websocket", type=int, nargs="*", default=[50, 100, 200, 400], help="WebSocket levels")
    parser.add_argument("--stream-seconds", type=float, default=8.0)
    parser.add_argument("--rps-seconds", type=float, default=8.0)
    parser.add_argument("--rps-concurrency", type=int, default=32)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "scaling" / "backend_limits.json")
    args = parser.parse_args(argv)
    prefix = f"whale-sim-{uuid.uuid4().hex[:8]}"
    setup_django(prefix)
    user, token = make_user_and_token()
    log_dir = ROOT / "var" / "sim"
    log_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(prefix, port, log_dir / "asgi.log")
    results: dict[str, Any] = {"requests": [], "streams": []}
    try:
        asyncio.run(wait_ready(base))
        for path, auth in (("/healthz", False), ("/readyz", False), ("/api/v1/conversations", True)):
            result = asyncio.run(
                measure_rps(
                    base, path, token if auth else None, concurrency=args.rps_concurrency, seconds=args.rps_seconds
                )
            )
            print(json.dumps(result), flush=True)
            results["requests"].append(result)
        for transport, levels in (("sse", args.sse), ("websocket", args.websocket)):
            for count in levels:
                turn_ids = make_turns(user, count)
                result = asyncio.run(
                    measure_streams(base, token, turn_ids, prefix, seconds=args.stream_seconds, transport=transport)
                )
                print(json.dumps(result), flush=True)
                results["streams"].append(result)
    finally:
        stop(server)
        import redis as sync_redis

        client = sync_redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        from django.contrib.auth import get_user_model

        get_user_model().objects.filter(id=user.id).delete()
    conditions = {
        "machine": f"{os.cpu_count()} CPU cores shared with other engineers' work, {platform.platform()}",
        "load_average_at_end": os.getloadavg(),
        "server": "1 uvicorn process (config.asgi:application), real Postgres and Redis on the same host",
        "clients": "aiohttp in the harness process, on the same cores",
        "event_interval_seconds": EVENT_INTERVAL,
        "db_pool_max_size": os.environ.get("DB_POOL_MAX_SIZE", "settings default"),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"conditions": conditions, **results}, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
