"""turns.models: a Turn's columns read, queried and written through the rows that point to it."""

from __future__ import annotations

import pytest

from accounts.models import User
from chat.models import Conversation, Message
from turns.models import Turn

pytestmark = pytest.mark.django_db


def _answer(user: User, **turn_columns: object) -> Message:
    conversation = Conversation.objects.create(user=user)
    question = Message.objects.create(conversation=conversation, role=Message.Role.USER, content="Why?")
    return Message.objects.create(
        conversation=conversation, parent=question, role=Message.Role.ASSISTANT, **turn_columns
    )


def test_creating_an_answer_with_the_turns_columns_creates_its_turn_with_the_same_id(user: User) -> None:
    answer = _answer(user, status="streaming", model="whale-r1", prompt_tokens=3)

    turn = Turn.objects.get(id=answer.id)
    assert answer.turn_id == turn.id and (turn.source, turn.user_id) == (Turn.Source.APP, user.id)
    assert (turn.status, turn.model, turn.prompt_tokens) == ("streaming", "whale-r1", 3)


def test_a_question_has_no_turn_and_reads_done_without_usage(user: User) -> None:
    question = _answer(user).parent
    assert question is not None and question.turn_id is None
    assert (question.status, question.model, question.prompt_tokens, question.finished_at) == ("done", "", 0, None)


def test_an_answer_is_filtered_ordered_and_updated_by_its_turns_columns(user: User) -> None:
    done, queued = _answer(user, status="done", model="b"), _answer(user, status="queued", model="a")

    assert list(Message.objects.filter(status="queued")) == [queued]
    assert list(Message.objects.exclude(role=Message.Role.USER).order_by("model").values_list("model", flat=True)) == [
        "a",
        "b",
    ]
    assert Message.objects.filter(id=done.id).values("status")[0] == {"status": "done"}

    assert Message.objects.filter(id=queued.id).update(status="cancelled", content="Partial.") == 1
    queued.refresh_from_db()
    assert (queued.status, queued.content) == ("cancelled", "Partial.")


def test_a_listed_answer_reads_its_turn_without_a_query_of_its_own(user: User, django_assert_num_queries) -> None:
    for _ in range(3):
        _answer(user, status="done")
    with django_assert_num_queries(1):
        assert {message.status for message in Message.objects.filter(role=Message.Role.ASSISTANT)} == {"done"}
