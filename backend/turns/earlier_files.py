"""The files in a turn's prompt: the question's own, and the earlier questions' in the history, within the context.

A follow-up ("summarise section 2 of it") is answered from the files sent earlier in its branch: each
earlier question keeps its files' blocks in DeepSeek's official file template, as it had them when it
was asked. The budget is the model's context less the answer's room, counted with the model's
tokenizer. The newest turn comes first: the question's own files are fitted before any earlier file,
and the earlier questions are then fitted from the newest back, so the oldest files are the first cut.
A file cut to fit says so on the answer ("Read the first 40% of report.pdf"), as the question's own do.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from files.models import UploadedFile
from files.prompting import Included, count_tokens, files_fit

from inference import protocol

# Tokens of the chat template around the user turn (BOS, role markers, the think block) and a margin
# for tokens that merge differently once the parts are joined.
PROMPT_FRAME_TOKENS = 32
# The role markers around one earlier message.
MESSAGE_FRAME_TOKENS = 4
# The least a search turn keeps for its answer when the context is too small for the pages and a whole answer.
SEARCH_ANSWER_FLOOR_TOKENS = 256


def prompt_room(*, context: int, max_tokens: int, plan_context: int | None) -> int:
    """Tokens the whole prompt may take: the context less the answer's room and the template's frame."""
    room = context - max_tokens - PROMPT_FRAME_TOKENS
    if plan_context is not None:
        room = min(room, plan_context - PROMPT_FRAME_TOKENS)
    return room


def search_answer_room(*, context: int, max_tokens: int, plan_context: int | None, asked_tokens: int) -> int:
    """A search turn's answer room: its own `max_tokens`, unless the context then leaves the search prompt
    less than WHALE_SEARCH_BUDGET_TOKENS; then less, down to SEARCH_ANSWER_FLOOR_TOKENS. On a small context
    (the demo model's 2048) the official search template alone is about 1,450 tokens: with the whole answer
    room kept, no page would fit and every search would read "unavailable". `asked_tokens` are the
    history's and the question's."""
    room = prompt_room(context=context, max_tokens=max_tokens, plan_context=plan_context)
    short = settings.WHALE_SEARCH_BUDGET_TOKENS - (room - asked_tokens)
    if short <= 0:
        return max_tokens
    return max(min(max_tokens, SEARCH_ANSWER_FLOOR_TOKENS), max_tokens - short)


def message_tokens(tokenizer: Any, messages: Iterable[protocol.ChatMessage]) -> int:
    return sum(
        count_tokens(tokenizer, str(message.get("content") or "")) + MESSAGE_FRAME_TOKENS for message in messages
    )


def user_turn_budget(*, room: int, history: Sequence[protocol.ChatMessage], tokenizer: Any) -> int:
    """Tokens the built user turn may take: the room less the earlier turns (their text alone). When they
    leave too little, half the room: the worker drops the oldest rounds to fit (inference.prompting.build_prompt)."""
    return max(room - message_tokens(tokenizer, history), room // 2, 1)


def file_notices(
    files: Sequence[UploadedFile], included: Sequence[Included], *, only_cut: bool = False
) -> list[dict[str, Any]]:
    """One `file_truncated` notice per file the model did not see whole (cut to fit, or read in part).
    `only_cut`: only for the files cut to fit (an earlier file read in part said so when it was sent)."""
    notices = []
    for file, part in zip(files, included, strict=True):
        fraction = part.fraction
        if only_cut and fraction >= 1.0:
            continue
        if file.truncated and file.pages and file.pages_read:
            fraction *= min(1.0, file.pages_read / file.pages)
        if fraction >= 1.0 and not file.truncated:
            continue
        percent = min(99, int(fraction * 100))
        message = f"Read the first {percent}% of {file.name}" if percent else f"Could not fit {file.name} in"
        notices.append(
            {
                "code": "file_truncated",
                "file_id": str(file.id),
                "name": file.name,
                "percent": percent,
                "message": message,
            }
        )
    return notices


# --- at send time ------------------------------------------------------------------------------


def earlier_file_ids(*, questions: Sequence[Any], user_id: Any) -> list[list[str]]:
    """For each earlier question of the branch (oldest first), its files' ids: the owner's only, read.

    A question read with the message tree says whether it has files (`has_files`): a branch with none
    (most follow-ups) costs no query."""
    ids = [question.id for question in questions]
    by_question: dict[Any, list[str]] = {question_id: [] for question_id in ids}
    with_files = [question.id for question in questions if getattr(question, "has_files", True)]
    if not with_files:
        return [[] for _ in ids]
    rows = (
        UploadedFile.objects.filter(attached_to__in=with_files, owner_id=user_id, status=UploadedFile.Status.READY)
        .order_by("created_at", "id")
        .values_list("attached_to", "id")
    )
    for question_id, file_id in rows:
        by_question[question_id].append(str(file_id))
    return [by_question[question_id] for question_id in ids]


# --- in the prepare step -----------------------------------------------------------------------


def _files_of(*, user_id: str, file_ids: Iterable[str]) -> dict[str, UploadedFile]:
    rows = UploadedFile.objects.filter(id__in=set(file_ids), owner_id=uuid.UUID(user_id)).exclude(text="")
    return {str(file.id): file for file in rows}


def history_with_files(
    history: Sequence[protocol.ChatMessage],
    file_ids: Sequence[Sequence[str]],
    *,
    user_id: str,
    left: int,
    seen: Iterable[str],
    tokenizer: Any,
) -> tuple[list[protocol.ChatMessage], list[dict[str, Any]]]:
    """The earlier messages with each question's files in the official template, and the notices of the files
    cut to fit. `file_ids` has one list per user message of `history` (earlier_file_ids); `left` is the
    budget the messages' own text leaves; a file in `seen` (the question's own) or at a newer question is
    in the prompt already and is not repeated."""
    messages = list(history)
    questions = [index for index, message in enumerate(messages) if message.get("role") == "user"]
    files = _files_of(user_id=user_id, file_ids=[file_id for ids in file_ids for file_id in ids])
    included = set(seen)
    notices: list[dict[str, Any]] = []
    for index, ids in reversed(list(zip(questions, file_ids, strict=False))):
        turn_files = [files[file_id] for file_id in dict.fromkeys(ids) if file_id in files and file_id not in included]
        if not turn_files:
            continue
        included.update(str(file.id) for file in turn_files)
        question = str(messages[index].get("content") or "")
        parts = [Included(name=file.name, chars=0, total_chars=len(file.text)) for file in turn_files]
        if left > 0:
            question_tokens = count_tokens(tokenizer, question)
            fitted = files_fit(turn_files, question, left + question_tokens, tokenizer)
            if any(part.chars for part in fitted.included):
                parts = fitted.included
                messages[index] = {"role": "user", "content": fitted.text}
                left -= fitted.tokens - question_tokens
        notices.extend(file_notices(turn_files, parts, only_cut=True))
    return messages, notices
