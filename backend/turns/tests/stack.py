"""The live pipeline for tests: a real GPU worker process and a real backend Celery worker.

    with gpu_worker(queue, engine="vllm") as worker:       # `python -m inference.worker` in a subprocess
        ...
    with backend_worker():                                  # the backend's Celery worker, in this process
        ...

The GPU worker runs exactly as `make run` starts it (no Django settings, its own Celery app, the
demo model), on this test run's own queue and Redis prefix. The backend worker consumes this run's
backend queue in threads of the test process, so it sees the test database (use transactional_db).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django import db
from django.conf import settings

from common.redis import get_redis
from config.celery import app as backend_celery
from inference import protocol

REPO_ROOT = Path(__file__).resolve().parents[3]
DEMO_MODEL = REPO_ROOT / "inference" / "demo_model" / "whale-tiny-r1"
# vLLM on two CPU cores shared with other work starts in about 30 s; allow for a slow machine.
START_TIMEOUT_SECONDS = 240


class GpuWorker:
    def __init__(self, process: subprocess.Popen[bytes], log_path: Path, queue: str) -> None:
        self.process = process
        self.log_path = log_path
        self.queue = queue

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def heartbeat(self) -> dict[str, str] | None:
        """This worker's latest heartbeat in Redis, if it has sent one."""
        client = get_redis()
        for key in client.scan_iter(match=protocol.worker_heartbeat_key(settings.WHALE_REDIS_PREFIX, "*")):
            fields: dict[str, str] = client.hgetall(key)  # type: ignore[assignment]
            if fields.get("worker_id", "").endswith(f"-{self.process.pid}"):
                return fields
        return None

    def kill(self) -> None:
        """SIGKILL, the way an out-of-memory killer or a lost node ends a worker: nothing gets to clean up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def gpu_worker_env(engine_env: dict[str, str] | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(
        REDIS_URL=settings.REDIS_URL,
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        WHALE_REDIS_PREFIX=settings.WHALE_REDIS_PREFIX,
        WHALE_MODEL_PATH=str(DEMO_MODEL),
        VLLM_CPU_KVCACHE_SPACE=env.get("VLLM_CPU_KVCACHE_SPACE", "1"),
        PYTHONUNBUFFERED="1",
    )
    env.update(engine_env or {})
    return env


@contextlib.contextmanager
def gpu_worker(
    queue: str, *, engine: str = "vllm", concurrency: int = 32, engine_env: dict[str, str] | None = None
) -> Iterator[GpuWorker]:
    """Starts `python -m inference.worker` on `queue` and waits for its first heartbeat."""
    log = tempfile.NamedTemporaryFile(prefix=f"whale-gpu-{engine}-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603 - our own module, with arguments we build
        [
            sys.executable,
            "-m",
            "inference.worker",
            f"--engine={engine}",
            f"--queues={queue}",
            f"--concurrency={concurrency}",
            "--loglevel=INFO",
        ],
        cwd=REPO_ROOT,
        env=gpu_worker_env(engine_env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the vLLM engine core child goes down with it
    )
    worker = GpuWorker(process, Path(log.name), queue)
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while worker.heartbeat() is None or not _consuming(worker):
            if process.poll() is not None:
                raise RuntimeError(f"the GPU worker exited with {process.returncode}:\n{worker.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the GPU worker did not start in {START_TIMEOUT_SECONDS} s:\n{worker.log_tail()}")
            time.sleep(0.5)
        with serving(queue):
            yield worker
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
        log.close()
        # A worker that was killed left what it had taken unacknowledged (kombu would hand it out again only
        # after its visibility timeout, an hour): nobody will run it in this test run.
        forget_unacked(queue)


def _consuming(worker: GpuWorker) -> bool:
    """Celery logs `ready.` once it consumes from its queues (the heartbeat comes earlier, with the engine)."""
    return " ready." in worker.log_path.read_text(errors="replace")


@contextlib.contextmanager
def backend_worker(concurrency: int = 4, *, also: tuple[str, ...] = ()) -> Iterator[Any]:
    """The backend's Celery worker (finalize, started, titles) on this run's backend queue, in this process;
    `also` adds queues (the research queue: the prepare step of turns with Search or files)."""
    # A production worker's Django fixup closes each task's database connection; this one is not
    # initialised like that, and an open connection would keep the test database from being dropped.
    task_postrun.connect(_close_connections, weak=False)
    queues = [settings.WHALE_BACKEND_QUEUE, *also]
    try:
        with contextlib.ExitStack() as stack:
            worker = stack.enter_context(_started_worker(concurrency, queues))
            for queue in queues:
                stack.enter_context(serving(queue))
            yield worker
    finally:
        task_postrun.disconnect(_close_connections)


def _close_connections(**_: Any) -> None:
    db.connections.close_all()


@contextlib.contextmanager
def _started_worker(concurrency: int, queues: list[str]) -> Iterator[Any]:
    with start_worker(
        backend_celery,
        pool="threads",
        concurrency=concurrency,
        perform_ping_check=False,
        queues=queues,
        shutdown_timeout=30,
        loglevel="WARNING",
    ) as worker:
        yield worker


# --- quiet before the database flush -----------------------------------------------------------
# A test's turn leaves work behind it: a title the GPU worker is still generating, the backend's
# save of it, a "not committed yet" notice coming back in 250 ms. Run against the next test's
# database flush (TRUNCATE), such a write deadlocks it, and the next test starts with the last
# one's rows. Before a stack test's database is flushed, these wait until this run's queues are
# empty and nothing is delivered-but-unacknowledged (every worker acks late, after a task's own
# follow-up tasks are published, so "nothing queued and nothing unacked" means nothing in flight).
# Only queues that a worker of this process serves count: what waits in any other queue waits for
# nobody, and is dropped.
QUIET_TIMEOUT_SECONDS = 30.0
QUIET_FOR_SECONDS = 0.3


_PRIORITY_SEP = "\x06\x16"  # kombu's Redis transport: a queue's list for priority step N is f"{queue}{sep}{N}"


def _run_queue_keys() -> list[str]:
    """This run's Celery queues in Redis (kombu keeps one list per priority step of a queue)."""
    client = get_redis()
    prefix = settings.WHALE_REDIS_PREFIX
    keys = [settings.WHALE_BACKEND_QUEUE, *client.scan_iter(match=f"{prefix}:*", count=1000)]
    return [key for key in dict.fromkeys(keys) if client.type(key) == "list"]


def _ours(routing_key: str) -> bool:
    queue = routing_key.split(_PRIORITY_SEP)[0]
    return queue == settings.WHALE_BACKEND_QUEUE or queue.startswith(f"{settings.WHALE_REDIS_PREFIX}:")


UNACKED_KEY = "unacked"  # kombu's Redis transport: delivery tag -> [message, exchange, routing key]
UNACKED_INDEX_KEY = "unacked_index"


def _unacked_tags(queue: str | None = None) -> list[str]:
    """Delivery tags of this run's tasks that a worker took and has not acknowledged (of one queue, if given)."""
    tags = []
    for tag, raw in get_redis().hgetall(UNACKED_KEY).items():
        try:
            _message, _exchange, routing_key = json.loads(raw)
        except (ValueError, TypeError):
            continue
        if (routing_key == queue) if queue is not None else _ours(str(routing_key)):
            tags.append(tag)
    return tags


def forget_unacked(queue: str | None = None) -> None:
    """Drops the unacknowledged deliveries of a worker that is gone (SIGKILLed), so they are not in flight."""
    tags = _unacked_tags(queue)
    if tags:
        get_redis().pipeline().hdel(UNACKED_KEY, *tags).zrem(UNACKED_INDEX_KEY, *tags).execute()


# The queues the workers started here consume, while they run.
_served_queues: list[str] = []


@contextlib.contextmanager
def serving(queue: str) -> Iterator[None]:
    """Marks `queue` as consumed by a worker of this test process while the block runs."""
    _served_queues.append(queue)
    try:
        yield
    finally:
        _served_queues.remove(queue)


def run_tasks_in_flight() -> int:
    """Tasks of this test run that a worker is running or will run: delivered and not yet acknowledged,
    or waiting in a queue that a running worker consumes."""
    client = get_redis()
    served = set(_served_queues)
    queued = sum(int(client.llen(key)) for key in _run_queue_keys() if key.split(_PRIORITY_SEP)[0] in served)
    return queued + len(_unacked_tags())


def wait_until_quiet(timeout: float = QUIET_TIMEOUT_SECONDS) -> bool:
    """Waits until this run has had no task queued or in flight for a moment; False on timeout."""
    deadline = time.monotonic() + timeout
    quiet_since: float | None = None
    while time.monotonic() < deadline:
        if run_tasks_in_flight() == 0:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= QUIET_FOR_SECONDS:
                return True
        else:
            quiet_since = None
        time.sleep(0.05)
    return False


def purge_run_queues() -> None:
    """Drops whatever this run still has queued or undelivered (a notice for a turn whose test is over)."""
    client = get_redis()
    keys = _run_queue_keys()
    if keys:
        client.delete(*keys)
    forget_unacked()


@pytest.fixture
def quiet_before_flush(_django_db_helper: None) -> Iterator[None]:
    """Set up after the test database, so torn down before it is flushed: leftovers settle first."""
    yield
    wait_until_quiet()
    purge_run_queues()
