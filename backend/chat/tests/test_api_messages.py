from __future__ import annotations

import uuid

import pytest

from .factories import AssistantMessageFactory, ConversationFactory, add_turn

pytestmark = pytest.mark.django_db


def url(message_id: object) -> str:
    return f"/api/v1/messages/{message_id}"


@pytest.mark.parametrize("feedback", ["up", "down", "none"])
def test_feedback_on_an_answer_is_saved_and_the_message_returned(api, user, feedback):
    question, answer = add_turn(ConversationFactory.create(user=user))
    AssistantMessageFactory.create(conversation=answer.conversation, parent=question)
    response = api.patch(url(answer.id), {"feedback": feedback}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["feedback"] == feedback
    assert body["id"] == str(answer.id)
    assert (body["sibling_count"], body["sibling_index"]) == (2, 0)
    answer.refresh_from_db()
    assert answer.feedback == feedback


def test_feedback_on_a_user_message_is_a_400(api, user):
    question, _ = add_turn(ConversationFactory.create(user=user))
    response = api.patch(url(question.id), {"feedback": "up"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"feedback": ["Only assistant messages take feedback."]}


@pytest.mark.parametrize("body", [{}, {"feedback": "meh"}, {"feedback": None}, {"feedback": 1}, {"feedback": ["up"]}])
def test_invalid_feedback_is_a_400(api, user, body):
    _, answer = add_turn(ConversationFactory.create(user=user))
    response = api.patch(url(answer.id), body, format="json")
    assert response.status_code == 400
    assert "feedback" in response.json()["error"]["fields"]


def test_another_users_message_is_a_404(api, other_user):
    _, theirs = add_turn(ConversationFactory.create(user=other_user))
    for target in [theirs.id, uuid.uuid4(), "not-a-uuid"]:
        response = api.patch(url(target), {"feedback": "down"}, format="json")
        assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.feedback == "none"


def test_feedback_needs_an_account(anon, user):
    _, answer = add_turn(ConversationFactory.create(user=user))
    assert anon.patch(url(answer.id), {"feedback": "up"}, format="json").status_code == 401
