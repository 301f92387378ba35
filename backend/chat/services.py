"""Writes for conversations, branch switching, message feedback and share links."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from turns.models import Turn

from accounts.models import User
from common import events
from common.errors import NotFound, ValidationFailed

from .models import Conversation, Message, ShareLink
from .selectors import message_branch, message_tree, running_answer_ids

SHARE_TOKEN_BYTES = 24


@transaction.atomic
def conversation_create(*, user: User, title: str = "") -> Conversation:
    now = timezone.now()
    conversation = Conversation.objects.create(user=user, title=title.strip(), created_at=now, updated_at=now)
    _announce(conversation, events.CONVERSATION_CREATED)
    return conversation


def _lock(conversation: Conversation) -> None:
    """Locks the conversation's row until the transaction ends; NotFound when it was deleted meanwhile.

    Every write that adds to a conversation or changes it takes this lock first, and so does the
    delete: a write and a delete of the same conversation never interleave."""
    if not Conversation.objects.select_for_update().filter(pk=conversation.pk).values_list("pk", flat=True):
        raise NotFound("Conversation not found.")


def _announce(conversation: Conversation, event_type: str) -> None:
    """Tells the user's other tabs and devices (after commit)."""
    events.user_event_publish(
        user_id=conversation.user_id,
        event_type=event_type,
        payload={
            "conversation_id": str(conversation.id),
            "title": conversation.title,
            "pinned": conversation.pinned_at is not None,
            "archived": conversation.archived_at is not None,
        },
    )


@transaction.atomic
def conversation_update(
    *,
    conversation: Conversation,
    title: str | None = None,
    pinned: bool | None = None,
    archived: bool | None = None,
    current_message_id: uuid.UUID | None = None,
) -> Conversation:
    """Renames, pins, archives or switches branch; None leaves a field as it is.

    These do not move the conversation in the list: `updated_at` tracks new messages
    (conversation_touch), not housekeeping.
    """
    _lock(conversation)
    changed: list[str] = []
    if title is not None:
        conversation.title = title.strip()
        changed.append("title")
    if pinned is not None and pinned != (conversation.pinned_at is not None):
        conversation.pinned_at = timezone.now() if pinned else None
        changed.append("pinned_at")
    if archived is not None and archived != (conversation.archived_at is not None):
        conversation.archived_at = timezone.now() if archived else None
        changed.append("archived_at")
    if current_message_id is not None:
        tree = message_tree(conversation=conversation)
        target = tree.by_id.get(current_message_id)
        if target is None:
            raise ValidationFailed(fields={"current_message_id": ["Not a message of this conversation."]})
        # Switching to a message shows the branch below it that was most recently written.
        conversation.current_message = tree.newest_leaf_under(target)
        changed.append("current_message")
    if changed:
        conversation.save(update_fields=changed)
        _announce(conversation, events.CONVERSATION_UPDATED)
    return conversation


def conversation_title_save(*, conversation_id: uuid.UUID | str, user_id: uuid.UUID | str, title: str) -> bool:
    """A title the model wrote for the conversation (the worker's `whale.save_title`), if it is still its owner's."""
    title = " ".join(title.split())[:200]
    if not title:
        return False
    updated = Conversation.objects.filter(id=conversation_id, user_id=user_id).update(title=title)
    if updated:
        events.user_event_publish(
            user_id=user_id,
            event_type=events.CONVERSATION_UPDATED,
            payload={"conversation_id": str(conversation_id), "title": title},
        )
    return bool(updated)


@transaction.atomic
def conversation_delete(*, conversation: Conversation) -> None:
    """Deletes the conversation with every message and share link, and stops an answer still generating."""
    from turns.services import turns_cancel

    user_id, conversation_id = conversation.user_id, str(conversation.id)
    # Locked first, so a write holding the lock (a send, a share) lands before the delete gathers the
    # rows to delete, and one that comes after finds nothing (404) instead of a row it cannot point at.
    _lock(conversation)
    running = running_answer_ids(conversation=conversation)
    Turn.objects.filter(message__conversation=conversation).delete()  # with its answers; the rest below
    conversation.delete()
    if running:
        transaction.on_commit(lambda: turns_cancel(turn_ids=running), robust=True)
    events.user_event_publish(
        user_id=user_id, event_type=events.CONVERSATION_DELETED, payload={"conversation_id": conversation_id}
    )


def conversation_touch(*, conversation: Conversation) -> None:
    """Marks new activity: the conversation moves to the top of the list."""
    now = timezone.now()
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=now)
    conversation.updated_at = now


@transaction.atomic
def message_set_feedback(*, message: Message, feedback: str) -> Message:
    if message.role != Message.Role.ASSISTANT:
        raise ValidationFailed(fields={"feedback": ["Only assistant messages take feedback."]})
    if feedback not in Message.Feedback.values:
        raise ValidationFailed(fields={"feedback": [f"Must be one of {', '.join(Message.Feedback.values)}."]})
    # An update that finds no row: the message (its conversation) was deleted since it was looked up.
    if not Message.objects.filter(pk=message.pk).update(feedback=feedback):
        raise NotFound("Message not found.")
    message.feedback = feedback
    return message


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def share_snapshot(*, conversation: Conversation) -> list[dict[str, Any]]:
    """The finished messages of the current branch, as they are now (later edits do not change it), with each
    answer's timings and usage (the shared page shows "Thought for N seconds")."""
    return [
        {
            "role": message.role,
            "content": message.content,
            "reasoning_content": message.reasoning_content,
            "created_at": _iso(message.created_at),
            "queued_at": _iso(message.queued_at),
            "started_at": _iso(message.started_at),
            "first_token_at": _iso(message.first_token_at),
            "finished_at": _iso(message.finished_at),
            "usage": {
                "prompt_tokens": message.prompt_tokens,
                "completion_tokens": message.completion_tokens,
                "reasoning_tokens": message.reasoning_tokens,
            },
            "search": message.search,
            "sources": message.sources,
            "notices": message.notices,
            # A snapshot is public: the files' names and sizes, never their text or a link to them.
            "files": [
                {"name": file.name, "size": file.size, "mime": file.mime, "kind": file.kind, "pages": file.pages}
                for file in message.attachments.all()
            ],
        }
        for message in message_branch(conversation=conversation)
        if message.status == Message.Status.DONE
    ]


@transaction.atomic
def share_link_create(*, user: User, conversation: Conversation) -> ShareLink:
    if conversation.user_id != user.id:  # callers fetch through conversation_get; this is a backstop
        raise ValidationFailed("Not your conversation.")
    _lock(conversation)
    return ShareLink.objects.create(
        token=secrets.token_urlsafe(SHARE_TOKEN_BYTES),
        user=user,
        conversation=conversation,
        title=conversation.title,
        snapshot=share_snapshot(conversation=conversation),
    )


@transaction.atomic
def share_link_revoke(*, share_link: ShareLink) -> None:
    if share_link.revoked_at is None:
        share_link.revoked_at = timezone.now()
        share_link.save(update_fields=["revoked_at"])
