"""What the send tests share: an HTTP send, and the Celery messages waiting in this run's GPU queue."""

from __future__ import annotations

import json
from typing import Any

from rest_framework.test import APIClient

from chat.models import Conversation
from common.redis import get_redis


def queued_tasks(queue: str) -> list[dict[str, Any]]:
    """The Celery messages waiting in a queue (kombu's Redis transport keeps one list per priority step)."""
    from ratelimits.admission import PRIORITY_STEPS, priority_queue_name

    lists = [priority_queue_name(queue, step) for step in PRIORITY_STEPS]
    return [json.loads(raw) for name in lists for raw in get_redis().lrange(name, 0, -1)]


def clear_queue(queue: str) -> None:
    from ratelimits.admission import PRIORITY_STEPS, priority_queue_name

    get_redis().delete(*[priority_queue_name(queue, step) for step in PRIORITY_STEPS])


def task_payload(message: dict[str, Any]) -> dict[str, Any]:
    import base64

    body = json.loads(base64.b64decode(message["body"]))
    return body[0][0]


def send(api: APIClient, conversation: Conversation, **body: Any) -> Any:
    return api.post(f"/api/v1/conversations/{conversation.id}/messages", {"deepthink": True, **body}, format="json")
