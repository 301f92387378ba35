"""The GPU worker's own minimal Celery app (no Django): consumes generation tasks and sends results back by name."""

from __future__ import annotations

import logging
import os
from typing import Any, Protocol

from celery import Celery

from inference import broker, logs, protocol

logger = logging.getLogger(__name__)


def broker_url() -> str:
    return os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


# Not the process-wide current app: in a shared test process the backend app owns shared_task.
app = Celery("whale-inference", broker=broker_url(), set_as_current=False)
app.conf.update(
    broker_transport=broker.transport_for(broker_url()),  # kombu's Redis transport, mended (inference/broker.py)
    broker_transport_options={"socket_connect_timeout": 2, "socket_timeout": 10},
    task_acks_late=True,  # a worker that dies mid-turn leaves the message for another; the lease makes that safe
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    result_backend=None,
    task_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    worker_send_task_events=False,
    task_default_queue="gpu.default",
)


class TaskHandler(Protocol):
    """What the tasks hand their payloads to: the worker process's runtime, with its one event loop."""

    def run_turn(self, payload: dict[str, Any]) -> None: ...

    def run_title(self, payload: dict[str, Any]) -> None: ...


_handler: TaskHandler | None = None


def bind_handler(handler: TaskHandler | None) -> None:
    global _handler
    _handler = handler


def _current_handler() -> TaskHandler:
    if _handler is None:
        raise RuntimeError("no engine in this process: start the worker with `python -m inference.worker`")
    return _handler


@app.task(name=protocol.TASK_GENERATE_TURN, ignore_result=True)
def generate_turn(payload: dict[str, Any]) -> None:
    _current_handler().run_turn(payload)


@app.task(name=protocol.TASK_GENERATE_TITLE, ignore_result=True)
def generate_title(payload: dict[str, Any]) -> None:
    _current_handler().run_title(payload)


def send_task(name: str, args: list[Any], queue: str) -> None:
    """Sends a task by name to another service's queue (the backend registers the receiving side)."""
    app.send_task(
        name,
        args=args,
        queue=queue,
        # Through a Redis restart (about 15 s of tries); the backend's reaper settles what still does not arrive.
        retry=True,
        retry_policy={"max_retries": 10, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 2},
        headers=logs.current_headers(),  # the request and turn ids, for the backend's log lines
    )
