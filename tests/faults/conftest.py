"""The fault suite's one private stack: its own Postgres cluster and redis-server, and the processes
`make run` starts (uvicorn, the backend Celery worker, the GPU worker with vLLM and the demo model)
through bench/stack.py, plus a GPU worker with the simulated engine for answers long enough to break
something in the middle of (the chat model; DeepThink stays on vLLM).

Tests restart the servers and kill processes under it; each leaves it running for the next. What
they measure (recovery times) goes to var/faults/recovery.jsonl for docs/operations.md.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from bench import processes, stack
from bench.clients import BENCH_EMAIL_DOMAIN
from bench.servers import PostgresCluster, RedisServer, postgres_cluster, redis_server

RECOVERY_LOG = processes.REPO_ROOT / "var" / "faults" / "recovery.jsonl"
# The simulated chat model: 10 words of reasoning, then the answer, 40 ms a word (about 8 s a turn).
SLOW_ENGINE = {
    "WHALE_SIM_FIRST_TOKEN_SECONDS": "0.05",
    "WHALE_SIM_INTER_TOKEN_SECONDS": "0.04",
    "WHALE_SIM_TOKENS": "200",
    "WHALE_SIM_REASONING_TOKENS": "10",
}


@dataclass
class FaultStack:
    running: stack.RunningStack
    redis: RedisServer
    postgres: PostgresCluster
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    @property
    def base_url(self) -> str:
        return self.running.base_url

    @property
    def database_url(self) -> str:
        return self.running.env["DATABASE_URL"]

    def process(self, name: str) -> processes.Process:
        return self.running.processes[name]

    def all_alive(self) -> dict[str, int | None]:
        return {name: p.popen.poll() for name, p in self.running.processes.items()}

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=5) as conn:
            return conn.execute(query, params).fetchall()  # type: ignore[arg-type]

    # --- the app API ---------------------------------------------------------------------------

    def register(self) -> User:
        email = f"fault-{uuid.uuid4().hex[:10]}@{BENCH_EMAIL_DOMAIN}"
        response = self.http.post(
            f"{self.base_url}/api/v1/auth/register",
            json={"email": email, "password": f"Fault-{uuid.uuid4().hex}!", "display_name": "Fault"},
        )
        assert response.status_code == 201, response.text
        stack.raise_limits(self.running.env)  # the staff tier: these tests measure faults, not limits
        return User(self, email, response.json()["access"])

    def wait_ready(self, timeout: float = 60) -> float:
        """Seconds until /readyz answers 200 (the database and Redis both answer)."""
        started = time.monotonic()
        until(lambda: processes.http_ok(f"{self.base_url}/readyz"), timeout, "the stack to be ready again")
        return time.monotonic() - started


@dataclass
class User:
    stack: FaultStack
    email: str
    access: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}

    def url(self, path: str) -> str:
        return f"{self.stack.base_url}/api/v1/{path}"

    def conversation(self) -> str:
        response = self.stack.http.post(self.url("conversations"), json={}, headers=self.headers)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def send(self, *, deepthink: bool, content: str = "Why is the sky blue?") -> httpx.Response:
        return self.stack.http.post(
            self.url(f"conversations/{self.conversation()}/messages"),
            json={"content": content, "deepthink": deepthink},
            headers=self.headers,
        )

    def turn(self, *, deepthink: bool) -> str:
        response = self.send(deepthink=deepthink)
        assert response.status_code == 202, response.text
        return str(response.json()["assistant_message"]["id"])

    def message(self, turn_id: str) -> dict[str, Any]:
        response = self.stack.http.get(self.url(f"messages/{turn_id}"), headers=self.headers)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def events(
        self, turn_id: str, *, after: str | None = None, stop: Callable[[list[dict[str, Any]]], bool] | None = None
    ) -> Stream:
        """The turn's events over SSE until the server ends the stream (or `stop` says enough)."""
        headers = {**self.headers, **({"Last-Event-ID": after} if after else {})}
        frames: list[dict[str, Any]] = []
        tail = ""
        with self.stack.http.stream(
            "GET", self.url(f"turns/{turn_id}/events"), headers=headers, timeout=120
        ) as response:
            assert response.status_code == 200, response.read()
            block: dict[str, str] = {}
            for line in response.iter_lines():
                tail = line
                if not line:
                    if "event" in block:
                        frames.append(
                            {"id": block.get("id"), "type": block["event"], "data": json.loads(block["data"])}
                        )
                        if stop is not None and stop(frames):
                            break
                    block = {}
                elif not line.startswith(":") and ":" in line:
                    name, _, value = line.partition(":")
                    block[name] = value.removeprefix(" ")
        return Stream(frames, tail)


@dataclass
class Stream:
    frames: list[dict[str, Any]]
    last_line: str

    @property
    def ended(self) -> str | None:
        return next((f["type"] for f in self.frames if f["type"] in ("done", "error")), None)

    def text(self, kind: str) -> str:
        return "".join(f["data"].get("delta", "") for f in self.frames if f["type"] == kind)


def until(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Waits for `condition`; returns the seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.1)
    return time.monotonic() - started


def record(fault: str, **measured: float | str) -> None:
    """One measured recovery, for docs/operations.md's table."""
    RECOVERY_LOG.parent.mkdir(parents=True, exist_ok=True)
    with RECOVERY_LOG.open("a") as out:
        out.write(json.dumps({"fault": fault, "at": time.strftime("%Y-%m-%dT%H:%M:%S"), **measured}) + "\n")


class Prober:
    """Hits the API from a thread while a fault lasts and keeps every status code: 503 is fine, 500 never."""

    def __init__(self, stack: FaultStack, user: User) -> None:
        self.stack, self.user = stack, user
        self.statuses: list[tuple[str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        client = httpx.Client(timeout=15)
        conversation: str | None = None
        rounds = 0
        while not self._stop.is_set():
            self._probe("readyz", lambda: client.get(f"{self.stack.base_url}/readyz"))
            self._probe("list", lambda: client.get(self.user.url("conversations"), headers=self.user.headers))
            self._probe("models", lambda: client.get(self.user.url("models"), headers=self.user.headers))
            if rounds % 4 == 0:  # a question now and then (each is a turn on the vLLM worker)
                if conversation is None:
                    with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
                        created = client.post(self.user.url("conversations"), json={}, headers=self.user.headers)
                        conversation = str(created.json()["id"])
                else:
                    url = self.user.url(f"conversations/{conversation}/messages")
                    body = {"content": "Hi", "deepthink": True, "parent_id": None}
                    self._probe(
                        "send", lambda url=url, body=body: client.post(url, json=body, headers=self.user.headers)
                    )
            rounds += 1
            self._stop.wait(0.3)
        client.close()

    def _probe(self, name: str, call: Callable[[], httpx.Response]) -> None:
        try:
            self.statuses.append((name, call().status_code))
        except httpx.HTTPError:
            self.statuses.append((name, 0))  # no answer at all (a connection refused or timed out)

    def __enter__(self) -> Prober:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def server_errors(self) -> list[tuple[str, int]]:
        return [(name, status) for name, status in self.statuses if status >= 500 and status != 503]


@pytest.fixture(scope="session")
def fault_stack() -> Iterator[FaultStack]:
    with contextlib.ExitStack() as servers:
        postgres = servers.enter_context(postgres_cluster())
        redis = servers.enter_context(redis_server(Path(tempfile.mkdtemp(prefix="whale-faults-redis-"))))
        log_dir = processes.REPO_ROOT / "var" / "faults" / "logs"
        settings = stack.StackSettings(
            engine="vllm",
            postgres_url=postgres.url,
            redis_url=redis.url,
            gpu_concurrency=8,
            log_dir=log_dir,
            backend_env={"WHALE_MAX_TOKENS": "256", "LOG_FORMAT": "text"},
            simulated_workers={"slow": SLOW_ENGINE},
            model_workers={"whale-chat": "slow"},
        )
        with stack.running_stack(settings) as running:
            fault_stack = FaultStack(running, redis, postgres)
            yield fault_stack
            fault_stack.http.close()


@pytest.fixture(scope="session")
def fault_user(fault_stack: FaultStack) -> User:
    return fault_stack.register()
