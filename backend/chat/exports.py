"""Renders one conversation as a downloadable file: Markdown (the current branch) or JSON (every branch)."""

from __future__ import annotations

import json
from typing import Any

from django.utils import timezone
from django.utils.text import slugify
from rest_framework.utils.encoders import JSONEncoder

from .models import Conversation, Message
from .selectors import conversation_messages, message_branch
from .serializers import ConversationExportSerializer

UNTITLED = "Untitled conversation"


def export_filename(*, conversation: Conversation, extension: str) -> str:
    """An ASCII-only file name, safe inside a Content-Disposition header."""
    slug = slugify(conversation.title)[:60].strip("-") or "conversation"
    return f"whale-{slug}-{str(conversation.id)[:8]}.{extension}"


def conversation_markdown(*, conversation: Conversation) -> str:
    """The current branch, with each answer's reasoning folded into a <details> block."""
    stamp = timezone.now().strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"# {conversation.title or UNTITLED}", f"_Exported from Whale on {stamp}._"]
    for message in message_branch(conversation=conversation):
        parts.append(_markdown_message(message))
    return "\n\n".join(parts) + "\n"


def _markdown_message(message: Message) -> str:
    if message.role == Message.Role.USER:
        return f"## You\n\n{message.content}"
    heading = f"## Whale ({message.model})" if message.model else "## Whale"
    lines = [heading]
    if message.reasoning_content:
        lines.append(f"<details>\n<summary>Reasoning</summary>\n\n{message.reasoning_content}\n\n</details>")
    if message.content:
        lines.append(message.content)
    if message.status != Message.Status.DONE:
        lines.append(f"_({Message.Status(message.status).label.lower()})_")
    return "\n\n".join(lines)


def conversation_json(*, conversation: Conversation) -> dict[str, Any]:
    data = {
        "id": conversation.id,
        "title": conversation.title,
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
        "current_message_id": conversation.current_message_id,
        "exported_at": timezone.now(),
        "messages": conversation_messages(conversation=conversation),
    }
    return dict(ConversationExportSerializer(data).data)


def conversation_json_bytes(*, conversation: Conversation) -> bytes:
    return json.dumps(
        conversation_json(conversation=conversation), cls=JSONEncoder, ensure_ascii=False, indent=2
    ).encode()
