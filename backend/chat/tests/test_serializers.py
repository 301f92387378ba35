"""chat.serializers: MessageSerializer's written-out fields give exactly what DRF's generic walk over them gives."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.utils import timezone
from files.models import UploadedFile
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from chat.models import Conversation, Message
from chat.serializers import MessageSerializer

from .factories import UserFactory

pytestmark = pytest.mark.django_db


def _generic(message: Message, context: dict[str, Any]) -> Any:
    """What DRF's ModelSerializer makes of the declared fields, field by field."""
    return serializers.ModelSerializer.to_representation(MessageSerializer(message, context=context), message)


def _messages() -> list[Message]:
    user = UserFactory()
    conversation = Conversation.objects.create(user=user)
    question = Message.objects.create(conversation=conversation, role=Message.Role.USER, content="Read this, 天空")
    file = UploadedFile.objects.create(
        owner=user, name="report.pdf", size=12, mime="application/pdf", kind=UploadedFile.Kind.PDF,
        sha256="0" * 64, blob=uuid.uuid4().hex, status=UploadedFile.Status.READY, pages=3, truncated=True,
    )  # fmt: skip
    question.attachments.add(file)
    now = timezone.now()
    done = Message.objects.create(
        conversation=conversation, role=Message.Role.ASSISTANT, parent=question, model="whale-r1", deepthink=True,
        search=True, status=Message.Status.DONE, content="Blue [citation:1].", reasoning_content="Hmm.",
        sources=[{"n": 1, "title": "Sky", "url": "https://example.com/", "site": "example.com", "snippet": "Blue."}],
        notices=[{"code": "file_truncated", "message": "Read the first 40% of report.pdf", "percent": 40}],
        prompt_tokens=12, completion_tokens=30, reasoning_tokens=4, finish_reason="stop", feedback="up",
        queued_at=now, started_at=now, first_token_at=now, finished_at=now,
    )  # fmt: skip
    failed = Message.objects.create(
        conversation=conversation, role=Message.Role.ASSISTANT, parent=question, model="whale-r1",
        status=Message.Status.FAILED, error="The server generating this answer stopped.", finish_reason="error",
    )  # fmt: skip
    queued = Message.objects.create(
        conversation=conversation, role=Message.Role.ASSISTANT, parent=question, model="whale-chat"
    )
    return [question, done, failed, queued]


def test_every_kind_of_message_reads_as_drfs_generic_walk_over_its_fields_gives() -> None:
    messages = _messages()
    answers = [message.id for message in messages[1:]]
    for message in Message.objects.filter(id__in=[m.id for m in messages]):
        context = {"sibling_ids": {messages[0].id: [messages[0].id], **{a: answers for a in answers}}}
        fast = MessageSerializer(message, context=context).data
        generic = _generic(message, context)

        assert fast == generic, message.role
        assert list(fast) == list(generic)  # the same keys in the same order
        assert JSONRenderer().render(fast) == JSONRenderer().render(generic)


def test_a_messages_files_and_siblings_are_in_its_body() -> None:
    question, done, _, _ = _messages()
    body = MessageSerializer(done, context={"sibling_ids": {done.id: [uuid.uuid4(), done.id]}}).data

    assert (body["sibling_count"], body["sibling_index"], body["parent_id"]) == (2, 1, str(question.id))
    assert body["usage"] == {"prompt_tokens": 12, "completion_tokens": 30, "reasoning_tokens": 4}
    assert body["created_at"].endswith("Z")
    files = MessageSerializer(question, context={"sibling_ids": {question.id: [question.id]}}).data["files"]
    assert [(file["name"], file["pages"], file["truncated"]) for file in files] == [("report.pdf", 3, True)]
