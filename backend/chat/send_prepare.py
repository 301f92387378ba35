"""The app's send hook for turns/preparing.py: attaches the question's files and queues the prepare step
instead of the GPU task when the question has Search, a URL or files (its own, or an earlier question's
in its branch)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.conf import settings
from django.utils import timezone
from files.models import UploadedFile
from research.pipeline import question_urls
from research.providers import provider_from_settings
from turns.earlier_files import earlier_file_ids
from turns.preparing import prepare_step_queue, ready_files, requested_options

from common.errors import Conflict
from inference import protocol
from ratelimits.services import Admitted

from .models import Conversation, Message


def _files_attach(
    *, question: Message, conversation: Conversation, file_ids: Sequence[uuid.UUID]
) -> list[UploadedFile]:
    """Attaches the files to the question (locked and checked again: one may have been deleted meanwhile).
    A file belongs to the conversation it was first sent in; another conversation's is refused."""
    if not file_ids:
        return []
    files = ready_files(user_id=conversation.user_id, file_ids=file_ids, lock=True)
    for file in files:
        if file.conversation_id not in (None, conversation.id):
            raise Conflict(
                f"{file.name} belongs to another conversation; upload it again here.",
                code="file_in_use",
                extra={"file_id": str(file.id)},
            )
    unattached = [file.id for file in files if file.message_id is None]
    if unattached:
        UploadedFile.objects.filter(id__in=unattached).update(
            message=question, conversation=conversation, updated_at=timezone.now()
        )
    question.attachments.add(*files)
    return files


def _searched_before(question: Message) -> bool:
    """On regenerate without `search`: whether the newest earlier answer to this question searched."""
    earlier = Message.objects.filter(parent=question, role=Message.Role.ASSISTANT).order_by("-created_at", "-id")
    return bool(earlier.values_list("search", flat=True).first())


def turn_prepare_queue(
    *,
    conversation: Conversation,
    assistant: Message,
    question: Message,
    messages: list[protocol.ChatMessage],
    admitted: Admitted,
    earlier: Sequence[Message] = (),
) -> int | None:
    """The hook in sends._enqueue: queues the prepare step when the turn needs one and returns the
    queue position; None when it does not (the caller queues the GPU task as before). `earlier` is the
    branch before the question: a follow-up to a question with files is prepared too, to send them again."""
    options = requested_options()
    file_ids: list[uuid.UUID] = []
    if options.regenerate:
        file_ids = list(question.attachments.order_by("created_at", "id").values_list("id", flat=True))
    else:
        attached = _files_attach(question=question, conversation=conversation, file_ids=options.file_ids)
        question.attached_files = attached  # type: ignore[attr-defined]  # the response shows them without a query
        file_ids = [file.id for file in attached]
    search = _searched_before(question) if options.search is None else options.search
    search = search and provider_from_settings() is not None
    urls = question_urls(question.content, limit=settings.WHALE_SEARCH_QUESTION_URLS)
    questions = [message for message in earlier if message.role == Message.Role.USER]
    history_file_ids = earlier_file_ids(questions=questions, user_id=conversation.user_id)
    if not (search or urls or file_ids or any(history_file_ids)):
        return None
    if search:
        Message.objects.filter(id=assistant.id).update(search=True)  # rolled back with the send if refused
        assistant.search = True
    return prepare_step_queue(
        turn_id=assistant.id,
        conversation_id=conversation.id,
        user_id=conversation.user_id,
        messages=messages,
        question=question.content,
        search=search,
        file_ids=file_ids,
        history_file_ids=history_file_ids,
        admitted=admitted,
    )
