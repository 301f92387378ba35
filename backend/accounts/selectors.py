"""Account reads: users by id or email, pending email codes, and the full export of a user's data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone

from chat.models import Conversation, Message, ShareLink

from .models import EmailCode, User

EXPORT_FORMAT_VERSION = 1

_MESSAGE_FIELDS = (
    "id",
    "conversation_id",
    "parent_id",
    "role",
    "content",
    "reasoning_content",
    "model",
    "deepthink",
    "status",
    "error",
    "finish_reason",
    "prompt_tokens",
    "completion_tokens",
    "reasoning_tokens",
    "feedback",
    "created_at",
    "queued_at",
    "started_at",
    "first_token_at",
    "finished_at",
)


def user_get(*, user_id: object) -> User | None:
    try:
        return User.objects.filter(pk=str(user_id)).first()
    except (DjangoValidationError, ValueError, TypeError):  # not a UUID
        return None


def user_may_authenticate(user: object) -> bool:
    """The one check every authenticator makes: the account exists, is active and is not suspended.

    Suspension also clears is_active (accounts.services.user_suspend), so Django's session backend and
    simplejwt refuse a suspended account too; this check covers an account whose flags were edited apart.
    """
    return user is not None and bool(getattr(user, "is_active", False)) and getattr(user, "suspended_at", None) is None


def user_get_by_email(*, email: str) -> User | None:
    """`email` must already be normalised (accounts.models.normalize_email)."""
    return User.objects.filter(email=email).first()


def email_code_pending(*, user: User, purpose: str) -> EmailCode | None:
    return (
        EmailCode.objects.filter(user=user, purpose=purpose, used_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-created_at")
        .first()
    )


# Apps above accounts add their own part of the export when they start (files/apps.py adds "files"):
# accounts imports none of them.
ExportSection = Callable[[User], list[dict[str, Any]]]
_export_sections: dict[str, ExportSection] = {}


def export_section_register(name: str, reader: ExportSection) -> None:
    _export_sections[name] = reader


def user_export(*, user: User) -> dict[str, Any]:
    """Everything we hold about the user: the profile, every conversation with every message of every branch
    (a flat list, root first, linked by parent_id), and their share links."""
    conversations: list[dict[str, Any]] = []
    by_id: dict[Any, dict[str, Any]] = {}
    for conversation in Conversation.objects.filter(user=user).order_by("created_at", "id").iterator():
        entry = {
            "id": conversation.id,
            "title": conversation.title,
            "created_at": conversation.created_at,
            "updated_at": conversation.updated_at,
            "pinned_at": conversation.pinned_at,
            "archived_at": conversation.archived_at,
            "current_message_id": conversation.current_message_id,
            "messages": [],
        }
        conversations.append(entry)
        by_id[conversation.id] = entry
    messages = Message.objects.filter(conversation__user=user).order_by("created_at", "id").values(*_MESSAGE_FIELDS)
    for message in messages.iterator():
        message["usage"] = {
            "prompt_tokens": message.pop("prompt_tokens"),
            "completion_tokens": message.pop("completion_tokens"),
            "reasoning_tokens": message.pop("reasoning_tokens"),
        }
        by_id[message.pop("conversation_id")]["messages"].append(message)
    share_links = list(
        ShareLink.objects.filter(user=user)
        .order_by("created_at", "id")
        .values("id", "conversation_id", "title", "created_at", "revoked_at")
    )
    return {
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": timezone.now(),
        "user": user,
        "conversations": conversations,
        "share_links": share_links,
        **{name: reader(user) for name, reader in _export_sections.items()},
    }
