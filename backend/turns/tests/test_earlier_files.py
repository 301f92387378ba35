"""A follow-up keeps the earlier questions' files (turns/earlier_files.py): they go into the GPU task's prompt
again in the official file template, within the context, the oldest cut first and said so. Real Postgres,
Redis and extractor; the prepare step runs here as the research worker runs it (test_preparing.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from files.models import UploadedFile
from files.prompting import count_tokens, model_tokenizer
from files.tests.samples import text_pdf
from rest_framework.test import APIClient

from accounts.models import User
from chat.models import Conversation, Message
from common.redis import get_redis
from inference import protocol
from turns import services, streams
from turns.earlier_files import MESSAGE_FRAME_TOKENS, PROMPT_FRAME_TOKENS, earlier_file_ids, search_answer_room
from turns.tasks import prepare_turn

from .conftest import make_user
from .prepare_helpers import Published, ready_file

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("prepare_settings")]

REPORT = (
    "Whale quarterly report. Revenue grew by 41 percent in the third quarter, driven by the new "
    "humpback subscription plan. Costs stayed flat."
)
ANSWER = "Revenue grew by 41 percent."
FOLLOW_UP = "Summarise section 2 of it."
LONG_PAGES = [f"Chapter {n}. " + "The whale sings a long song under the sea. " * 40 for n in range(6)]


def send(api: APIClient, conversation: Conversation, content: str, **body: Any) -> Any:
    response = api.post(
        f"/api/v1/conversations/{conversation.id}/messages", {"content": content, **body}, format="json"
    )
    assert response.status_code == 202, response.content
    return response


def prepared(api: APIClient, conversation: Conversation, published: Published, content: str, **body: Any) -> dict:
    """Sends, runs the queued prepare step, and returns the GPU task it queued."""
    published.tasks.clear()
    send(api, conversation, content, **body)
    assert not published.gpu_tasks, "a turn with files in its branch waits for its prepare step"
    (payload,) = published.prepare_tasks
    prepare_turn(payload)
    (task,) = published.gpu_tasks
    return task


def answered(api: APIClient, conversation: Conversation, published: Published, user: User, content: str, **body: Any):
    """A question and its answer, as if the GPU task had run (stopped, with the answer's text saved)."""
    task = prepared(api, conversation, published, content, **body)
    services.turn_cancel(user=user, turn_id=task["turn_id"])
    Message.objects.filter(id=task["turn_id"]).update(content=ANSWER)
    return task


def notices_of(turn_id: str) -> list[dict[str, Any]]:
    entries = get_redis().xrange(streams.keys_for(turn_id).events)
    events = [protocol.decode_event(fields) for _, fields in entries]  # type: ignore[arg-type,union-attr]
    return [data["notice"] for kind, data in events if kind == "notice"]


def test_a_follow_up_without_files_sends_the_earlier_questions_file_again(api, conversation, user, published) -> None:
    report = ready_file(api, text_pdf([REPORT]), "report.pdf")
    answered(api, conversation, published, user, "How much did revenue grow?", file_ids=[str(report.id)])

    task = prepared(api, conversation, published, FOLLOW_UP)

    first, answer, follow_up = task["messages"]
    assert first == {
        "role": "user",
        "content": f"[file name]: report.pdf\n[file content begin]\n{report.text}\n[file content end]\n"
        "How much did revenue grow?",
    }
    assert "Revenue grew by 41 percent" in first["content"]
    assert answer == {"role": "assistant", "content": ANSWER}
    assert follow_up == {"role": "user", "content": FOLLOW_UP}
    assert notices_of(task["turn_id"]) == [] and Message.objects.get(id=task["turn_id"]).notices == []


def test_a_long_earlier_file_is_cut_before_a_newer_one_and_the_answer_says_how_much_was_read(
    api, conversation, user, published, settings
) -> None:
    settings.WHALE_MODEL_CONTEXT_TOKENS = 1024  # no worker reports one here; the demo model's size
    settings.WHALE_MAX_TOKENS = 256
    book = ready_file(api, text_pdf(LONG_PAGES), "book.pdf")
    answered(api, conversation, published, user, "What does the whale do?", file_ids=[str(book.id)])
    report = ready_file(api, text_pdf([REPORT]), "report.pdf")
    answered(api, conversation, published, user, "Revenue?", file_ids=[str(report.id)])

    task = prepared(api, conversation, published, FOLLOW_UP)

    book_turn, _, report_turn, _, follow_up = (message["content"] for message in task["messages"])
    assert report_turn == f"[file name]: report.pdf\n[file content begin]\n{report.text}\n[file content end]\nRevenue?"
    assert book_turn.startswith("[file name]: book.pdf\n[file content begin]\nChapter 0.")
    assert "Chapter 5." not in book_turn and book_turn.endswith("[file content end]\nWhat does the whale do?")
    assert follow_up == FOLLOW_UP
    (notice,) = notices_of(task["turn_id"])
    assert notice["code"] == "file_truncated" and notice["file_id"] == str(book.id) and 0 < notice["percent"] < 100
    assert notice["message"] == f"Read the first {notice['percent']}% of book.pdf"
    assert Message.objects.get(id=task["turn_id"]).notices == [notice]
    tokenizer = model_tokenizer()
    used = sum(count_tokens(tokenizer, message["content"]) + MESSAGE_FRAME_TOKENS for message in task["messages"])
    assert used <= 1024 - 256 - PROMPT_FRAME_TOKENS  # within the context, the answer's room left free


def test_another_users_file_never_reaches_the_prompt(api, conversation, user, published) -> None:
    theirs = UploadedFile.objects.create(
        owner=make_user(), name="theirs.txt", size=3, mime="text/plain", kind="text", sha256="0" * 64, blob="x/1",
        status=UploadedFile.Status.READY, text="The other user's secret plan.",
    )  # fmt: skip
    report = ready_file(api, text_pdf([REPORT]), "report.pdf")
    first = answered(api, conversation, published, user, "Revenue?", file_ids=[str(report.id)])
    # A row no send writes (a send refuses another user's file): the owner check is what keeps it out.
    Message.objects.get(id=first["turn_id"]).parent.attachments.add(theirs)

    task = prepared(api, conversation, published, FOLLOW_UP)

    assert "secret" not in json.dumps(task["messages"]) and "theirs.txt" not in json.dumps(task["messages"])
    assert "Revenue grew by 41 percent" in task["messages"][0]["content"]


def test_a_branch_whose_only_earlier_file_is_another_users_goes_straight_to_the_gpu_queue(
    api, conversation, user, published
) -> None:
    theirs = UploadedFile.objects.create(
        owner=make_user(), name="theirs.txt", size=3, mime="text/plain", kind="text", sha256="0" * 64, blob="x/2",
        status=UploadedFile.Status.READY, text="The other user's secret plan.",
    )  # fmt: skip
    send(api, conversation, "Hello?")
    (task,) = published.gpu_tasks
    services.turn_cancel(user=user, turn_id=task["turn_id"])
    Message.objects.filter(id=task["turn_id"]).update(content=ANSWER)
    Message.objects.get(id=task["turn_id"]).parent.attachments.add(theirs)
    published.tasks.clear()

    send(api, conversation, FOLLOW_UP)

    assert not published.prepare_tasks
    (task,) = published.gpu_tasks
    assert "secret" not in json.dumps(task["messages"])


def test_a_follow_up_in_a_branch_without_files_asks_for_no_files(api, conversation, user, published) -> None:
    send(api, conversation, "Hello?")
    (task,) = published.gpu_tasks
    services.turn_cancel(user=user, turn_id=task["turn_id"])
    published.tasks.clear()

    with CaptureQueriesContext(connection) as queries:
        send(api, conversation, FOLLOW_UP)

    assert not published.prepare_tasks and len(published.gpu_tasks) == 1
    assert not [query for query in queries if UploadedFile._meta.db_table in query["sql"]]


def test_earlier_questions_read_without_the_tree_are_asked_for_their_files(api, conversation, user) -> None:
    """Without the tree's `has_files` (a question read on its own), the files are asked for, not assumed away."""
    report = ready_file(api, text_pdf([REPORT]), "report.pdf")
    question = Message.objects.create(conversation=conversation, role=Message.Role.USER, content="Q")
    question.attachments.add(report)
    bare = Message.objects.create(conversation=conversation, role=Message.Role.USER, content="Q2")

    assert earlier_file_ids(questions=[Message.objects.get(id=question.id), bare], user_id=user.id) == [
        [str(report.id)],
        [],
    ]


def test_a_file_sent_again_with_the_follow_up_is_in_the_prompt_once_with_the_follow_up(
    api, conversation, user, published
) -> None:
    report = ready_file(api, text_pdf([REPORT]), "report.pdf")
    answered(api, conversation, published, user, "Revenue?", file_ids=[str(report.id)])

    task = prepared(api, conversation, published, "Costs?", file_ids=[str(report.id)])

    assert task["messages"][0] == {"role": "user", "content": "Revenue?"}
    assert task["messages"][-1]["content"].startswith("[file name]: report.pdf\n[file content begin]\n")
    assert json.dumps(task["messages"]).count("humpback subscription plan") == 1


def test_a_follow_up_to_a_search_turn_keeps_the_earlier_answer(
    api, conversation, user, fake_internet, published
) -> None:
    answered(api, conversation, published, user, "Why is the sky blue?", search=True)
    published.tasks.clear()

    send(api, conversation, FOLLOW_UP)

    assert not published.prepare_tasks  # nothing to read again: the sources live in the answer
    (task,) = published.gpu_tasks
    assert task["messages"] == [
        {"role": "user", "content": "Why is the sky blue?"},
        {"role": "assistant", "content": ANSWER},
        {"role": "user", "content": FOLLOW_UP},
    ]


@pytest.mark.parametrize(
    ("context", "max_tokens", "asked", "expected"),
    [
        (32768, 4096, 100, 4096),  # room for the pages and the whole answer: unchanged
        (2048, 512, 40, 256),  # the demo model: the answer gives way, down to its floor
        (3500, 512, 40, 512 - (3000 - (3500 - 512 - 32 - 40))),  # a little short: only what is missing
        (2048, 128, 40, 128),  # already below the floor: kept as asked
    ],
)
def test_a_search_turn_gives_up_answer_room_for_its_pages_down_to_a_floor(
    settings: Any, context: int, max_tokens: int, asked: int, expected: int
) -> None:
    settings.WHALE_SEARCH_BUDGET_TOKENS = 3000
    room = search_answer_room(context=context, max_tokens=max_tokens, plan_context=None, asked_tokens=asked)
    assert room == expected
