"""A Celery worker with a task in flight survives its Redis broker being killed and restarted.

The reproduction of the defect behind inference/broker.py: Celery 5.7.0 with kombu 5.7.0's own
Redis transport stops with `Unrecoverable error: AttributeError("'NoneType' object has no
attribute 'hostname'")` from `_connparams`; with ours it reconnects, the running task finishes,
and the next task runs.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import processes
from bench.servers import RedisServer, redis_server

from .slow_app import app

pytestmark = pytest.mark.faults


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with redis_server(Path(tempfile.mkdtemp(prefix="whale-broker-loss-"))) as server:
        yield server


def _worker(redis: RedisServer, log_dir: Path, *, kombu_transport: bool) -> processes.Process:
    env = processes.base_env()
    env.update(WHALE_FAULTS_BROKER=redis.url, WHALE_FAULTS_KOMBU_TRANSPORT="1" if kombu_transport else "0")
    worker = processes.start(
        "slow-worker",
        [
            str(processes.VENV_BIN / "celery"),
            "-A",
            "tests.faults.slow_app",
            "worker",
            "--pool=threads",
            "--concurrency=2",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        cwd=processes.REPO_ROOT,
        log_dir=log_dir,
    )
    processes.wait_until(lambda: " ready." in _log(worker), processes=[worker], what="the worker", timeout=60)
    return worker


def _log(worker: processes.Process) -> str:
    return worker.log_path.read_text(errors="replace")


def _send(redis: RedisServer, seconds: float, tag: str) -> None:
    app.conf.broker_url = redis.url
    with app.connection_for_write(redis.url) as connection:
        app.send_task("whale.faults.sleep", args=[seconds, tag], connection=connection)


def _wait_for(condition, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _restart_mid_task(redis: RedisServer, worker: processes.Process) -> None:
    _send(redis, 4, "first")
    assert _wait_for(lambda: "task first started" in _log(worker), 30), _log(worker)
    redis.kill()
    time.sleep(1.0)
    redis.start()


def test_a_worker_rides_out_a_redis_restart_with_a_task_in_flight(redis: RedisServer, tmp_path: Path) -> None:
    worker = _worker(redis, tmp_path, kombu_transport=False)
    try:
        _restart_mid_task(redis, worker)

        assert _wait_for(lambda: "task first finished" in _log(worker), 30), _log(worker)
        _send(redis, 0.1, "second")
        assert _wait_for(lambda: "task second finished" in _log(worker), 30), worker.log_tail()
        assert worker.popen.poll() is None
        assert "Unrecoverable error" not in _log(worker)
    finally:
        worker.stop()


def test_with_kombus_own_transport_the_same_restart_stops_the_worker(redis: RedisServer, tmp_path: Path) -> None:
    """The defect itself. When this fails, kombu has fixed it: drop inference/broker.py and pin that release."""
    worker = _worker(redis, tmp_path, kombu_transport=True)
    try:
        _restart_mid_task(redis, worker)

        assert _wait_for(lambda: "Unrecoverable error" in _log(worker), 30), worker.log_tail()
        assert "'NoneType' object has no attribute 'hostname'" in _log(worker)
    finally:
        worker.stop()
