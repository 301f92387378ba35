"""The worker's logs carry the request and turn ids of the turn they are about, and its metrics count turns."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import REGISTRY

from inference import logs, metrics
from inference.engines.simulated import SimulatedEngine
from inference.worker import WorkerRuntime

from .conftest import REDIS_URL, make_turn, read_events, redis_prefix


class JsonLines(logging.Handler):
    """Formats each record at once (the ids live in context variables of the logging thread)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logs.JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def json_lines() -> Iterator[JsonLines]:
    handler = JsonLines()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous)


class HeaderRecordingSender:
    """Records the Celery headers a real send would carry (logs.current_headers at the time of sending)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, str]]] = []

    def __call__(self, name: str, args: list[Any], queue: str) -> None:
        self.sent.append((name, logs.current_headers()))


def test_the_json_formatter_writes_one_object_with_the_ids_and_extra_fields() -> None:
    record = logging.LogRecord("whale.test", logging.INFO, __file__, 1, "turn %s", ("t1",), None)
    record.model = "whale-r1"
    with logs.log_context(request_id="req-1", turn_id="turn-1"):
        line = json.loads(logs.JsonFormatter().format(record))
    assert line["message"] == "turn t1"
    assert (line["level"], line["logger"], line["model"]) == ("INFO", "whale.test", "whale-r1")
    assert (line["request_id"], line["turn_id"]) == ("req-1", "turn-1")


def test_ids_that_are_not_plain_tokens_are_dropped() -> None:
    assert logs.clean_id("abc-123_x.y:z") == "abc-123_x.y:z"
    assert logs.clean_id('x"\n{"admin":true}') == ""
    assert logs.clean_id("a" * 129) == ""


def test_a_turn_on_the_worker_logs_and_reports_back_with_its_request_and_turn_ids(
    json_lines: JsonLines, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    sender = HeaderRecordingSender()
    runtime = WorkerRuntime(
        SimulatedEngine(first_token_delay=0, inter_token_delay=0.001, tokens=12, reasoning_tokens=4),
        queues=["gpu.obs"],
        concurrency=4,
        prefix=redis_prefix(),
        url=REDIS_URL,
        worker_id="test-worker-obs",
        send_task=sender,
    )
    before = REGISTRY.get_sample_value("whale_worker_turns_total", {"outcome": "done"}) or 0.0
    runtime.start()
    try:
        task = make_turn()
        task.origin_request_id = "req-from-the-app-42"
        runtime.run_turn(task.to_payload())
    finally:
        runtime.stop()

    import redis

    assert [t for t, _ in read_events(redis.Redis.from_url(REDIS_URL, decode_responses=True), task)][-1] == "done"
    finished = [line for line in json_lines.lines if line["message"] == f"turn {task.turn_id}: done"]
    assert finished, json_lines.lines
    assert finished[0]["request_id"] == "req-from-the-app-42"
    assert finished[0]["turn_id"] == task.turn_id
    expected = {logs.REQUEST_ID_HEADER: "req-from-the-app-42", logs.TURN_ID_HEADER: task.turn_id}
    assert ("whale.turn_started", expected) in sender.sent
    assert ("whale.finalize_turn", expected) in sender.sent
    assert REGISTRY.get_sample_value("whale_worker_turns_total", {"outcome": "done"}) == before + 1


def test_the_metrics_port_serves_the_worker_series() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    metrics.serve(
        port=port, addr="127.0.0.1", in_flight=lambda: 3, capacity=8, worker="w-1", model="m", engine="simulated"
    )
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert "whale_worker_turns_in_flight 3.0" in body
    assert "whale_worker_capacity 8.0" in body
    assert 'whale_worker_info{engine="simulated",model="m",worker="w-1"} 1.0' in body
