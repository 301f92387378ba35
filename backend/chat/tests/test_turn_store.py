"""chat.turn_store: an assistant Message as the row turns settles, cancels and reaps."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from turns.models import Turn
from turns.stores import SettledTurn
from turns.streams import TurnOutcome
from turns.tests.conftest import make_user
from turns.tests.factories import partner_turn
from turns.tests.sqlite_stack import run_python, sqlite_env

from chat.models import Conversation, Message
from chat.turn_store import AnswerStore

pytestmark = pytest.mark.django_db


def _answer(status: str = Message.Status.QUEUED) -> Message:
    conversation = Conversation.objects.create(user=make_user())
    return Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        status=status,
        model="whale-r1",
        deepthink=True,
        queued_at=timezone.now(),
    )


def _done(content: str = "Hi.") -> TurnOutcome:
    usage = {"prompt_tokens": 3, "completion_tokens": 5, "reasoning_tokens": 1}
    return TurnOutcome(content=content, terminal_type="done", terminal={"finish_reason": "stop", "usage": usage})


def test_settling_an_answer_saves_it_once_and_says_whose_it_was() -> None:
    answer = _answer()
    settled = AnswerStore().settle(answer.id, _done())

    assert isinstance(settled, SettledTurn)
    assert (settled.status, settled.prompt_tokens, settled.completion_tokens) == ("done", 3, 5)
    assert settled.user_id == str(answer.conversation.user_id) and settled.api_key_id is None
    assert settled.reasoning is True
    assert AnswerStore().settle(answer.id, _done("again")) is False
    assert Message.objects.get(id=answer.id).content == "Hi."


def test_an_id_that_is_no_answer_is_not_this_stores() -> None:
    assert AnswerStore().settle("00000000-0000-0000-0000-000000000000", _done()) is None


def test_only_queued_and_streaming_answers_are_active_and_only_a_queued_one_starts() -> None:
    queued, done = _answer(), _answer(Message.Status.DONE)
    active = {turn.id for turn in AnswerStore().active(user_id=queued.conversation.user_id)}
    assert active == {queued.id}
    assert done.id not in {turn.id for turn in AnswerStore().active()}

    started_at = timezone.now() - dt.timedelta(seconds=1)
    assert AnswerStore().mark_started(queued.id, started_at) is True
    assert AnswerStore().mark_started(queued.id, started_at) is False
    (turn,) = AnswerStore().active(user_id=queued.conversation.user_id)
    assert turn.streaming and turn.started_at == started_at


def test_a_started_answer_is_marked_in_one_statement_and_announced_to_its_user(
    monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from common import events

    answer = _answer()
    announced: list[tuple[str, dict[str, object]]] = []
    monkeypatch.setattr(events.publisher, "publish", lambda group, message: announced.append((group, message)))

    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        assert AnswerStore().mark_started(answer.id, timezone.now()) is True

    assert len(queries.captured_queries) == 1
    assert announced == [
        (
            f"user.{answer.conversation.user_id}",
            {
                "type": "user.event",
                "event": {
                    "type": "turn.started",
                    "conversation_id": str(answer.conversation_id),
                    "turn_id": str(answer.id),
                },
            },
        )
    ]


def test_a_settled_answer_records_how_much_of_its_prompt_came_from_the_prefix_cache() -> None:
    answer = _answer()
    usage = {"prompt_tokens": 40, "completion_tokens": 5, "reasoning_tokens": 1, "cached_tokens": 32}
    AnswerStore().settle(answer.id, TurnOutcome(content="Hi.", terminal_type="done", terminal={"usage": usage}))

    saved = Message.objects.get(id=answer.id)
    assert (saved.prompt_tokens, saved.cached_tokens) == (40, 32)  # this turn's hit rate: 80%


def test_a_partners_turn_is_not_an_answer_and_stays_queued() -> None:
    completion_id = partner_turn(make_user())

    assert AnswerStore().mark_started(completion_id, timezone.now()) is False
    assert AnswerStore().settle(completion_id, _done()) is None
    assert Turn.objects.get(id=completion_id).status == Turn.Status.QUEUED


def test_a_turn_left_behind_by_its_deleted_answer_is_not_this_stores() -> None:
    answer = _answer()
    Message.objects.filter(id=answer.id).delete()  # the turn row stays: nothing here deletes it

    assert AnswerStore().mark_started(answer.id, timezone.now()) is False
    assert AnswerStore().settle(answer.id, _done()) is None


def test_settling_writes_the_answers_turn_its_text_and_its_conversations_touch_in_one_statement() -> None:
    answer = _answer()
    touched_before = Conversation.objects.get(id=answer.conversation_id).updated_at
    with CaptureQueriesContext(connection) as queries:
        settled = AnswerStore().settle(answer.id, _done("Hello."))

    # the turn's conditional update by its id (no join to chat_message), the answer's text, the conversation's
    # touch, and what the settle needs back: one round trip
    statements = [query["sql"] for query in queries.captured_queries]
    assert len(statements) == 1 and "JOIN chat_message" not in statements[0].replace('"', "")
    assert isinstance(settled, SettledTurn) and settled.model == "whale-r1"
    assert settled.user_id == str(answer.conversation.user_id)
    assert (settled.status, settled.completion_tokens) == ("done", 5)
    assert settled.admitted_on == answer.queued_at.astimezone(dt.UTC).date()
    saved = Message.objects.select_related("turn").get(id=answer.id)
    assert (saved.content, saved.status) == ("Hello.", "done")
    assert Conversation.objects.get(id=answer.conversation_id).updated_at > touched_before


# On the embedded database of `make run` (SQLite, which has no data-modifying CTEs and no unique constraint with
# a null key as one subject), in a process of its own on a SQLite file: sends, started and ended notices and the
# day's usage, as the backend worker applies them.
ANSWERED_ON_SQLITE = """
import json
from accounts.models import User
from chat import sends
from chat.models import Conversation, Message
from ratelimits.models import UsageDay
from turns import services
from turns.tests.worker_double import run_turn

user = User.objects.create_user(email="ada@example.com", password="correct horse battery staple")
conversation = Conversation.objects.create(user=user)
for question, answer in (("Hi", "Hello."), ("Again?", "Hello again.")):
    created = sends.turn_send(user=user, conversation_id=conversation.id, content=question, deepthink=True)
    turn_id = str(created.assistant_message.id)
    started = services.turn_mark_started(turn_id=turn_id, started_at=None)
    run_turn(turn_id, ["Hmm."], [answer])
    print("SETTLED=" + json.dumps([started, services.turn_settle(turn_id=turn_id), services.turn_settle(turn_id=turn_id)]))
answers = Message.objects.filter(role="assistant").order_by("created_at")
print("ANSWERS=" + json.dumps([[a.status, a.content, a.started_at is not None] for a in answers]))
print("USAGE=" + json.dumps(list(UsageDay.objects.values_list("turns", "reasoning_turns"))))
"""


@pytest.mark.stack
def test_on_sqlite_answers_are_started_settled_once_and_counted(tmp_path, _private_gpu_queue) -> None:
    env = sqlite_env(tmp_path / "whale.sqlite3", _private_gpu_queue)
    run_python(["manage.py", "migrate", "--no-input", "-v", "0"], env)

    out = run_python(["manage.py", "shell", "-c", ANSWERED_ON_SQLITE], env)

    said = {
        key: json.loads(value) for key, _, value in (line.partition("=") for line in out.splitlines() if "=" in line)
    }
    assert [json.loads(line.partition("=")[2]) for line in out.splitlines() if line.startswith("SETTLED=")] == [
        [True, True, False],
        [True, True, False],
    ]
    assert said["ANSWERS"] == [["done", "Hello.", True], ["done", "Hello again.", True]]
    assert said["USAGE"] == [[2, 2]]  # one row for the day, both turns in it
