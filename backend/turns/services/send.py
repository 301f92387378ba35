"""Creating and queueing any turn's generation: the app's sends (chat/sends.py) and the partner API's completions come here
once their turn is admitted and written."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from common.errors import ServiceUnavailable
from config.celery import app as celery_app
from inference import logs, protocol
from ratelimits.services import Admitted
from serving.registry import ModelSpec

from .. import streams
from ..models import Turn
from ..stores import Id

logger = logging.getLogger(__name__)


def turn_create(
    *, turn_id: Id, source: str, user_id: Id, model: str, queued_at: datetime, api_key_id: Id | None = None
) -> Turn:
    """A new turn's record, `queued`, inside the send's transaction: the app's answer and a partner's completion
    then point to it (same id)."""
    turn = turn_new(
        turn_id=turn_id, source=source, user_id=user_id, model=model, queued_at=queued_at, api_key_id=api_key_id
    )
    turn.save(force_insert=True)
    return turn


def turn_new(
    *, turn_id: Id, source: str, user_id: Id, model: str, queued_at: datetime, api_key_id: Id | None = None
) -> Turn:
    """That record not written yet, for a caller that writes it together with its own rows."""
    return Turn(
        id=turn_id,
        source=source,
        user_id=user_id,
        api_key_id=api_key_id,
        model=model,
        status=Turn.Status.QUEUED,
        queued_at=queued_at,
    )


def turn_enqueue(
    *,
    turn_id: Id,
    conversation_id: Id | None,
    user_id: Id,
    spec: ModelSpec,
    messages: list[protocol.ChatMessage],
    admitted: Admitted,
    sampling: protocol.SamplingSettings | None = None,
    task_fields: Mapping[str, Any] | None = None,
) -> int:
    """Publishes the `queued` event and the task (at the tier's priority); returns the queue position.
    The app runs it last inside the send transaction, so a Redis or broker failure rolls the whole
    turn back and the client gets a clean 503. The partner API queues its completions here too."""
    keys = streams.keys_for(turn_id)
    sampling = sampling or protocol.SamplingSettings()
    sampling.max_tokens = admitted.max_tokens
    task = protocol.TurnTask(
        turn_id=str(turn_id),
        conversation_id=str(conversation_id or ""),
        user_id=str(user_id),
        model=spec.name,
        reasoning=spec.reasoning,
        messages=messages,
        keys=keys,
        deadline=time.time() + settings.WHALE_TURN_DEADLINE_SECONDS,
        sampling=sampling,
        finalize_queue=settings.WHALE_BACKEND_QUEUE,
        origin_request_id=logs.request_id_var.get(),
        **(task_fields or {}),  # the partner API's tools, raw prompt, ...: TurnTask fields
    )
    try:
        # Counted at admission, a moment ago; the beat task corrects it while the turn waits.
        position = admitted.position
        streams.queued_write(turn_id, position, admitted.fallback, on_gpu_queue=True)
        with logs.log_context(turn_id=task.turn_id):
            celery_app.send_task(
                protocol.TASK_GENERATE_TURN,
                args=[task.to_payload()],
                # Not Celery's default repr of the payload in the headers: a copy of the conversation's text,
                # built on every send, that workers would log. The turn id says which turn it is.
                argsrepr=f"(turn {task.turn_id})",
                kwargsrepr="{}",
                task_id=task.turn_id,  # admission finds a waiting turn's place in the queue by it
                queue=spec.queue,
                priority=admitted.priority,
                retry=False,
                headers=logs.current_headers(),  # the ids, for the worker's log lines (inference/logs.py)
            )
            logger.info("turn queued", extra={"model": spec.name, "queue": spec.queue, "position": position})
    except (RedisError, KombuError, OSError) as exc:
        logger.warning("could not queue turn %s: %s", turn_id, exc)
        raise ServiceUnavailable(
            "The chat service cannot take new messages right now. Your message was not sent; try again shortly.",
            code="queue_unavailable",
        ) from exc
    return position
