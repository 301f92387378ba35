"""The backend's Celery tasks that GPU workers send back (by name), and the periodic reaper."""

from __future__ import annotations

from celery import shared_task

from inference import protocol

from . import services


@shared_task(name=protocol.TASK_TURN_STARTED, ignore_result=True)
def turn_started(turn_id: str, started_at: str | None = None) -> None:
    services.turn_mark_started(turn_id=turn_id, started_at=started_at)


@shared_task(name=protocol.TASK_FINALIZE_TURN, ignore_result=True)
def finalize_turn(turn_id: str) -> None:
    services.turn_finalize(turn_id=turn_id)


@shared_task(name=protocol.TASK_SAVE_TITLE, ignore_result=True)
def save_title(conversation_id: str, user_id: str, title: str) -> None:
    services.conversation_title_save(conversation_id=conversation_id, user_id=user_id, title=title)


@shared_task(name="whale.reap_turns", ignore_result=True)
def reap_turns() -> int:
    return services.turns_reap()
