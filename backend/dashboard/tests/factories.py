"""Known data for the dashboard's tests: turns with exact token counts and timings."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from accounts.models import User
from chat.models import Conversation, Message


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def user(email: str) -> User:
    return User.objects.create_user(email=email, password="x-Good-pass-1")


def turn(
    owner: User,
    created_at: datetime,
    *,
    status: str = Message.Status.DONE,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    first_token_after: float | None = None,
    finished_after: float | None = None,
    model: str = "whale-r1",
) -> Message:
    """A question and its answer (the turn), queued at `created_at`."""
    conversation = Conversation.objects.create(user=owner, title=f"Private title of {owner.email}")
    question = Message.objects.create(
        conversation=conversation, role=Message.Role.USER, content="a private question", created_at=created_at
    )
    return Message.objects.create(
        conversation=conversation,
        parent=question,
        role=Message.Role.ASSISTANT,
        content="a private answer",
        model=model,
        status=status,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        created_at=created_at,
        queued_at=created_at,
        first_token_at=created_at + timedelta(seconds=first_token_after) if first_token_after is not None else None,
        finished_at=created_at + timedelta(seconds=finished_after) if finished_after is not None else None,
    )
