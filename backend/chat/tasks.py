"""The chat app's Celery tasks that GPU workers send back by name: the title the model wrote."""

from __future__ import annotations

from celery import shared_task
from turns.tasks import OUTAGE_ERRORS, OUTAGE_MAX_RETRIES

from inference import protocol

from . import services


@shared_task(
    name=protocol.TASK_SAVE_TITLE,
    ignore_result=True,
    autoretry_for=OUTAGE_ERRORS,  # as the turn notices: a Postgres or Redis outage is retried
    retry_backoff=1,
    retry_backoff_max=10,
    retry_jitter=False,
    max_retries=OUTAGE_MAX_RETRIES,
)
def save_title(conversation_id: str, user_id: str, title: str) -> None:
    services.conversation_title_save(conversation_id=conversation_id, user_id=user_id, title=title)
