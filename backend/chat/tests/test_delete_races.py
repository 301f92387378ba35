"""A write racing a delete of the same object ends in 404, never a 500: sharing, renaming, rating,
sending and regenerating while the conversation is being deleted."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient
from turns import services as turn_services
from turns.tests.worker_double import run_turn

from chat import selectors, sends
from chat.models import Conversation, Message, ShareLink
from ratelimits.tests.factories import api_for, make_user, set_limits

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ada() -> Any:
    user = make_user("ada@example.com")
    set_limits(user)
    return user


def answered(user: Any) -> tuple[Conversation, Message]:
    """A conversation with one finished turn."""
    conversation = Conversation.objects.create(user=user, title="Sky")
    created = sends.turn_send(user=user, conversation_id=conversation.id, content="Why?", deepthink=False)
    run_turn(created.assistant_message.id, [], ["Because."])
    assert turn_services.turn_settle(turn_id=created.assistant_message.id)
    return conversation, Message.objects.get(id=created.assistant_message.id)


def delete_after(monkeypatch: Any, name: str, conversation: Conversation) -> None:
    """The view's lookup succeeds, then the conversation is deleted (and committed) before the write."""
    original = getattr(selectors, name)

    def looked_up_then_deleted(**kwargs: Any) -> Any:
        found = original(**kwargs)
        Conversation.objects.filter(id=conversation.id).delete()
        return found

    monkeypatch.setattr(selectors, name, looked_up_then_deleted)


def test_sharing_a_conversation_deleted_meanwhile_is_a_404(ada, monkeypatch) -> None:
    conversation, _ = answered(ada)
    delete_after(monkeypatch, "conversation_get", conversation)

    response = api_for(ada).post(f"/api/v1/conversations/{conversation.id}/share")

    assert response.status_code == 404, response.content
    assert response.json()["error"]["code"] == "not_found"
    assert not ShareLink.objects.exists()


def test_renaming_a_conversation_deleted_meanwhile_is_a_404(ada, monkeypatch) -> None:
    conversation, _ = answered(ada)
    delete_after(monkeypatch, "conversation_get", conversation)

    response = api_for(ada).patch(f"/api/v1/conversations/{conversation.id}", {"title": "New"}, format="json")

    assert response.status_code == 404, response.content


def test_rating_an_answer_whose_conversation_was_deleted_meanwhile_is_a_404(ada, monkeypatch) -> None:
    conversation, answer = answered(ada)
    delete_after(monkeypatch, "message_get", conversation)

    response = api_for(ada).patch(f"/api/v1/messages/{answer.id}", {"feedback": "up"}, format="json")

    assert response.status_code == 404, response.content


def test_deleting_a_conversation_deleted_meanwhile_is_a_204_or_404(ada, monkeypatch) -> None:
    conversation, _ = answered(ada)
    delete_after(monkeypatch, "conversation_get", conversation)

    response = api_for(ada).delete(f"/api/v1/conversations/{conversation.id}")

    assert response.status_code in (204, 404), response.content


# --- real concurrency: two threads, two database connections ---------------------------------------


def _in_thread(results: dict[str, Any], name: str, barrier: threading.Barrier, call: Callable[[], Any]) -> None:
    try:
        barrier.wait(5)
        results[name] = call()
    except BaseException as exc:  # a failed thread must fail the test, not vanish
        results[name] = exc
    finally:
        connection.close()


def race(write: Callable[[], Any], delete: Callable[[], Any]) -> tuple[Any, Any]:
    results: dict[str, Any] = {}
    barrier = threading.Barrier(2)
    threads = [
        threading.Thread(target=_in_thread, args=(results, "write", barrier, write)),
        threading.Thread(target=_in_thread, args=(results, "delete", barrier, delete)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for name in ("write", "delete"):
        if isinstance(results.get(name), BaseException):
            raise results[name]
    return results["write"], results["delete"]


WRITES: dict[str, tuple[Callable[[APIClient, Conversation, Message], Any], set[int]]] = {
    "share": (lambda api, c, m: api.post(f"/api/v1/conversations/{c.id}/share"), {201}),
    "rename": (lambda api, c, m: api.patch(f"/api/v1/conversations/{c.id}", {"title": "New"}, format="json"), {200}),
    "feedback": (lambda api, c, m: api.patch(f"/api/v1/messages/{m.id}", {"feedback": "up"}, format="json"), {200}),
    "send": (
        lambda api, c, m: api.post(f"/api/v1/conversations/{c.id}/messages", {"content": "And then?"}, format="json"),
        {202},
    ),
    "regenerate": (lambda api, c, m: api.post(f"/api/v1/messages/{m.id}/regenerate", {}, format="json"), {202}),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_write_racing_a_delete_ends_in_success_or_404(ada, write) -> None:
    call, ok = WRITES[write]
    outcomes = set()
    for _ in range(6):
        conversation, answer = answered(ada)
        writer, deleter = api_for(ada), api_for(ada)

        written, deleted = race(
            lambda c=conversation, m=answer, w=writer: call(w, c, m),
            lambda c=conversation, d=deleter: d.delete(f"/api/v1/conversations/{c.id}"),
        )

        assert written.status_code in ok | {404}, (write, written.status_code, written.content[:300])
        assert deleted.status_code in (204, 404), deleted.content[:300]
        outcomes.add(written.status_code)
        assert not Conversation.objects.filter(id=conversation.id).exists()
    assert not Message.objects.filter(conversation__user=ada).exists(), "nothing outlives its conversation"
