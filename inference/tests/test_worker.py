"""The worker process: its Celery app, heartbeat, health check, and a real worker serving a turn end to end."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from inference import celery_app, heartbeat, protocol
from inference.engines.simulated import SimulatedEngine
from inference.worker import WorkerRuntime, check, flush_interval

from .conftest import REDIS_URL, RecordingSender, make_turn, read_events, redis_prefix

ROOT = Path(__file__).resolve().parents[2]


def queued_messages(sync_redis: Any, queue: str) -> list[tuple[str, list[Any]]]:
    """(task name, args) of the Celery messages waiting in a queue: kombu keeps them in a Redis list of that name."""
    messages = []
    for raw in reversed(sync_redis.lrange(queue, 0, -1)):
        message = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        messages.append((message["headers"]["task"], args))
    return messages


def test_the_worker_never_imports_django() -> None:
    # kombu peeks at django.utils.functional when Django is installed; settings, apps and models never load.
    code = (
        "import sys, inference.worker, inference.celery_app; "
        "loaded = [m for m in sys.modules if m.startswith(('django.conf', 'django.db', 'django.apps', 'config', 'turns'))]; "
        "assert not loaded, loaded"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=60)  # noqa: S603 - our own interpreter and code


def test_the_celery_app_serves_both_generation_tasks_safely() -> None:
    app = celery_app.app
    assert {protocol.TASK_GENERATE_TURN, protocol.TASK_GENERATE_TITLE} <= set(app.tasks)
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_ignore_result is True


def test_send_task_puts_a_message_on_the_backend_queue(sync_redis: Any) -> None:
    queue = f"{redis_prefix()}:backend"
    celery_app.send_task(protocol.TASK_FINALIZE_TURN, ["turn-1"], queue)
    assert queued_messages(sync_redis, queue) == [(protocol.TASK_FINALIZE_TURN, ["turn-1"])]


def test_the_runtime_beats_and_the_check_sees_it(sync_redis: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    prefix = redis_prefix()
    runtime = WorkerRuntime(
        SimulatedEngine(first_token_delay=0, inter_token_delay=0.001, tokens=20),
        queues=["gpu.a", "gpu.b"],
        concurrency=8,
        prefix=prefix,
        url=REDIS_URL,
        worker_id="test-worker-1",
        send_task=RecordingSender(),
    )
    runtime.start()
    try:
        deadline = time.monotonic() + 5
        while not sync_redis.exists(protocol.worker_heartbeat_key(prefix, "test-worker-1")):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        beat = sync_redis.hgetall(protocol.worker_heartbeat_key(prefix, "test-worker-1"))
        assert beat["queues"] == "gpu.a,gpu.b"
        assert (beat["engine"], beat["model"], beat["is_demo_fallback"], beat["capacity"]) == (
            "simulated",
            "simulated",
            "false",
            "8",
        )
        assert {"worker_id", "in_flight", "last_seen"} <= set(beat)
        assert (
            0
            < sync_redis.ttl(protocol.worker_heartbeat_key(prefix, "test-worker-1"))
            <= heartbeat.HEARTBEAT_TTL_SECONDS
        )
        assert "test-worker-1" in sync_redis.smembers(protocol.workers_index_key(prefix))
        assert check() == 0

        task = make_turn()
        runtime.run_turn(task.to_payload() | {"added_by_a_newer_backend": True})
        assert [t for t, _ in read_events(sync_redis, task)][-1] == "done"
    finally:
        runtime.stop()
    assert not sync_redis.exists(protocol.worker_heartbeat_key(prefix, "test-worker-1"))
    assert check() == 1


def test_a_real_worker_process_serves_a_turn_sent_through_celery(sync_redis: Any) -> None:
    prefix = redis_prefix()
    gpu_queue = f"{prefix}:gpu"
    env = os.environ | {
        "REDIS_URL": REDIS_URL,
        "WHALE_REDIS_PREFIX": prefix,
        "WHALE_SIM_INTER_TOKEN_SECONDS": "0.002",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    worker = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "inference.worker",
            "--engine",
            "simulated",
            "--queues",
            gpu_queue,
            "--concurrency",
            "4",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not heartbeat.fresh_local_workers(sync_redis, prefix):
            assert worker.poll() is None, worker.stderr.read() if worker.stderr else "worker exited"
            assert time.monotonic() < deadline, "no heartbeat from the worker"
            time.sleep(0.2)
        health = subprocess.run(
            [sys.executable, "-m", "inference.worker", "--check"], cwd=ROOT, env=env, capture_output=True, timeout=30
        )
        assert health.returncode == 0, health.stderr

        tasks = [make_turn(), make_turn(reasoning=False)]
        for task in tasks:
            celery_app.app.send_task(protocol.TASK_GENERATE_TURN, args=[task.to_payload()], queue=gpu_queue)
        title = protocol.TitleTask(
            conversation_id="c1",
            user_id="u1",
            model="whale-chat",
            messages=[{"role": "user", "content": "Hi there"}],
            save_queue=f"{prefix}:backend",
        )
        celery_app.app.send_task(protocol.TASK_GENERATE_TITLE, args=[title.to_payload()], queue=gpu_queue)

        deadline = time.monotonic() + 30
        while not all(read_events(sync_redis, t) and read_events(sync_redis, t)[-1][0] == "done" for t in tasks):
            assert time.monotonic() < deadline, "the worker did not finish the turns"
            time.sleep(0.1)
        deadline = time.monotonic() + 10
        while len(queued_messages(sync_redis, f"{prefix}:backend")) < 5:
            assert time.monotonic() < deadline, queued_messages(sync_redis, f"{prefix}:backend")
            time.sleep(0.1)
        sent = queued_messages(sync_redis, f"{prefix}:backend")
        for task in tasks:
            assert (protocol.TASK_FINALIZE_TURN, [task.turn_id]) in sent
            assert any(name == protocol.TASK_TURN_STARTED and args[0] == task.turn_id for name, args in sent)
        assert any(name == protocol.TASK_SAVE_TITLE and args[:2] == ["c1", "u1"] for name, args in sent)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    assert not heartbeat.fresh_local_workers(sync_redis, prefix)


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("", protocol.FLUSH_INTERVAL_SECONDS), ("80", 0.08), ("1", 0.01), ("99999", 1.0), ("soon", 0.05)],
)
def test_the_flush_interval_comes_from_the_environment_within_bounds(monkeypatch, raw, seconds) -> None:
    monkeypatch.setenv("WHALE_FLUSH_INTERVAL_MS", raw)
    assert flush_interval() == pytest.approx(seconds)


@pytest.mark.parametrize(("raw", "seconds"), [("", 3600), ("300", 300), ("5", 60), ("soon", 3600)])
def test_the_stream_ttl_comes_from_the_environment_with_a_floor(monkeypatch, raw, seconds) -> None:
    monkeypatch.setenv("WHALE_STREAM_TTL_SECONDS", raw)
    assert protocol._stream_ttl_seconds() == seconds


def test_the_longest_flush_interval_under_load_comes_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("WHALE_FLUSH_INTERVAL_MAX_MS", "120")
    assert flush_interval("WHALE_FLUSH_INTERVAL_MAX_MS", protocol.FLUSH_INTERVAL_MAX_SECONDS) == pytest.approx(0.12)
    monkeypatch.delenv("WHALE_FLUSH_INTERVAL_MAX_MS")
    assert flush_interval("WHALE_FLUSH_INTERVAL_MAX_MS", protocol.FLUSH_INTERVAL_MAX_SECONDS) == pytest.approx(0.2)
