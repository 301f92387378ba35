"""common.db: writes of several tables in one statement (the send's), built from the models' own fields."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from turns.models import Turn
from turns.tests.conftest import make_user

from chat.models import Conversation, Message
from common.db import execute_together, insert_rows, quoted_column, update_row

pytestmark = pytest.mark.django_db


def test_rows_that_point_to_each_other_are_written_in_one_statement() -> None:
    user = make_user()
    conversation = Conversation.objects.create(user=user)
    turn = Turn(id=uuid.uuid4(), source=Turn.Source.APP, user=user, model="whale-r1", queued_at=timezone.now())
    question = Message(conversation=conversation, role=Message.Role.USER, content="Hi?", created_at=timezone.now())
    answer = Message(id=turn.id, turn=turn, conversation=conversation, parent=question, role=Message.Role.ASSISTANT)
    conversation.current_message = answer
    conversation.title = "Hi?"

    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        execute_together(
            [
                insert_rows([turn]),
                insert_rows([question, answer]),
                update_row(conversation, ["current_message", "title"]),
            ]
        )

    assert len([query for query in queries if not query["sql"].startswith(("SAVEPOINT", "RELEASE"))]) == 1
    saved = Message.objects.get(id=answer.id)
    assert (saved.parent_id, saved.status, saved.model, saved.notices) == (question.id, "queued", "whale-r1", [])
    assert Message.objects.get(id=question.id).content == "Hi?"
    conversation.refresh_from_db()
    assert (conversation.current_message_id, conversation.title) == (answer.id, "Hi?")
    assert not (turn._state.adding or question._state.adding or answer._state.adding)  # saved, as after bulk_create


@pytest.mark.django_db(transaction=True)
def test_a_row_pointing_to_one_that_does_not_exist_fails_at_commit_and_writes_nothing() -> None:
    conversation = Conversation.objects.create(user=make_user())
    orphan = Message(conversation=conversation, role=Message.Role.USER, content="Hi?", parent_id=uuid.uuid4())

    with pytest.raises(Exception, match=r"foreign key|FOREIGN KEY"), transaction.atomic():
        execute_together([insert_rows([orphan]), update_row(conversation, ["title"])])

    assert not Message.objects.filter(conversation=conversation).exists()


def test_a_columns_quoted_name_is_its_database_column() -> None:
    assert quoted_column(Message, "conversation") == connection.ops.quote_name("conversation_id")
