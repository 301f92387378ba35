"""The embedded default database under a burst: a real uvicorn server and backend worker, started as
`make run` starts them, on a SQLite file. 200 racing sends from one user, 200 from another, and a third
user's send in the middle: no 5xx, every limit honoured exactly, the bystander served, and a refused
send leaves nothing behind."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from .sqlite_stack import BACKEND_DIR, run_python, sqlite_env

pytestmark = [pytest.mark.stack]

BURST = 200
PER_MINUTE = 20  # the free tier's requests per minute

MAKE_USERS = """
import json
from accounts.models import User
from ratelimits.models import Tier, UserLimit
from rest_framework_simplejwt.tokens import RefreshToken

tokens = {}
for name in ("one_at_a_time", "per_minute", "bystander"):
    user = User.objects.create_user(email=f"{name}@example.com", password="correct horse battery staple")
    tokens[name] = str(RefreshToken.for_user(user).access_token)
    if name == "per_minute":  # free tier, but many turns in flight: the per-minute limit is the one that bites
        UserLimit.objects.create(user=user, tier=Tier.objects.get(slug="free"), concurrent_turns=1000)
print("TOKENS=" + json.dumps(tokens))
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, *args],
            cwd=BACKEND_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture
def sqlite_stack(tmp_path: Path, _private_gpu_queue: str) -> Iterator[tuple[str, dict[str, str], Path]]:
    database = tmp_path / "whale.sqlite3"
    env = sqlite_env(database, _private_gpu_queue)
    run_python(["manage.py", "migrate", "--no-input", "-v", "0"], env)
    out = run_python(["manage.py", "shell", "-c", MAKE_USERS], env)
    tokens = json.loads(next(line for line in out.splitlines() if line.startswith("TOKENS="))[len("TOKENS=") :])
    port = _free_port()
    server_log, worker_log = tmp_path / "asgi.log", tmp_path / "backend-worker.log"
    uvicorn = ["-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
    celery = [
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-B",
        "-Q",
        settings.WHALE_BACKEND_QUEUE,
        "--pool",
        "threads",
        "--concurrency",
        "8",
        "--loglevel",
        "WARNING",
        "--schedule",
        str(tmp_path / "beat-schedule"),
    ]
    with _process([*uvicorn, "--no-access-log"], env, server_log), _process(celery, env, worker_log):
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, server_log.read_text(errors="replace")[-3000:]
            time.sleep(0.2)
        yield base, tokens, database
        print("--- asgi.log ---\n" + server_log.read_text(errors="replace")[-3000:])


async def _send(client: httpx.AsyncClient, token: str, n: int) -> httpx.Response:
    return await client.post(
        "/api/v1/messages",
        json={"content": f"Question {n}", "deepthink": False},
        headers={"Authorization": f"Bearer {token}"},
    )


async def _burst(base: str, tokens: dict[str, str]) -> dict[str, list[httpx.Response]]:
    limits = httpx.Limits(max_connections=2 * BURST + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
        sends = [asyncio.create_task(_send(client, tokens["one_at_a_time"], n)) for n in range(BURST)]
        sends += [asyncio.create_task(_send(client, tokens["per_minute"], n)) for n in range(BURST)]
        await asyncio.sleep(0.3)  # the burst is under way
        bystander = await _send(client, tokens["bystander"], 0)
        answers = await asyncio.gather(*sends)
    return {"one_at_a_time": answers[:BURST], "per_minute": answers[BURST:], "bystander": [bystander]}


def _conversations(database: Path, email: str) -> tuple[int, int]:
    with contextlib.closing(sqlite3.connect(database)) as db:
        conversations = db.execute(
            "SELECT count(*) FROM chat_conversation c JOIN accounts_user u ON u.id = c.user_id WHERE u.email = ?",
            (email,),
        ).fetchone()[0]
        messages = db.execute(
            "SELECT count(*) FROM chat_message m JOIN chat_conversation c ON c.id = m.conversation_id"
            " JOIN accounts_user u ON u.id = c.user_id WHERE u.email = ?",
            (email,),
        ).fetchone()[0]
    return int(conversations), int(messages)


def test_a_burst_of_sends_on_sqlite_gets_no_5xx_honours_the_limits_and_serves_the_bystander(sqlite_stack) -> None:
    base, tokens, database = sqlite_stack
    while time.gmtime().tm_sec > 30:  # the per-minute window is fixed: keep the burst inside one minute
        time.sleep(1)

    answers = asyncio.run(_burst(base, tokens))

    statuses = {name: Counter(r.status_code for r in responses) for name, responses in answers.items()}
    server_errors = [r for responses in answers.values() for r in responses if r.status_code >= 500]
    assert not server_errors, (statuses, server_errors[0].text)
    assert statuses["bystander"] == {202: 1}, answers["bystander"][0].text
    assert statuses["one_at_a_time"] == {202: 1, 429: BURST - 1}, statuses
    assert statuses["per_minute"] == {202: PER_MINUTE, 429: BURST - PER_MINUTE}, statuses
    codes = {
        name: Counter(r.json()["error"]["code"] for r in responses if r.status_code == 429)
        for name, responses in answers.items()
    }
    assert set(codes["one_at_a_time"]) == {"concurrent_turns_exceeded"}, codes
    assert set(codes["per_minute"]) == {"requests_per_minute_exceeded"}, codes
    refused = next(r for r in answers["per_minute"] if r.status_code == 429)
    assert int(refused.headers["Retry-After"]) == refused.json()["error"]["retry_after"] >= 1
    # A refused send wrote nothing: one conversation (question and answer) per accepted send.
    assert _conversations(database, "one_at_a_time@example.com") == (1, 2)
    assert _conversations(database, "per_minute@example.com") == (PER_MINUTE, 2 * PER_MINUTE)
    assert _conversations(database, "bystander@example.com") == (1, 2)
