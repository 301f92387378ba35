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
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


def _consuming(worker: GpuWorker) -> bool:
    """Celery logs `ready.` once it consumes from its queues (the heartbeat comes earlier, with the engine)."""
    return " ready." in worker.log_path.read_text(errors="replace")


@contextlib.contextmanager
def backend_worker(concurrency: int = 4) -> Iterator[Any]:
    """The backend's Celery worker (finalize, started, titles) on this run's backend queue, in this process."""
    # A production worker's Django fixup closes each task's database connection; this one is not
    # initialised like that, and an open connection would keep the test database from being dropped.
    task_postrun.connect(_close_connections, weak=False)
    try:
        with _started_worker(concurrency) as worker:
            yield worker
    finally:
        task_postrun.disconnect(_close_connections)


def _close_connections(**_: Any) -> None:
    db.connections.close_all()


@contextlib.contextmanager
def _started_worker(concurrency: int) -> Iterator[Any]:
    with start_worker(
        backend_celery,
        pool="threads",
        concurrency=concurrency,
        perform_ping_check=False,
        queues=[settings.WHALE_BACKEND_QUEUE],
        shutdown_timeout=30,
        loglevel="WARNING",
    ) as worker:
        yield worker
