"""turns.selectors: a user's own app answer by id."""

from __future__ import annotations

import pytest

from accounts.models import User
from chat.models import Conversation, Message
from common.errors import NotFound
from turns.selectors import turn_get

from .factories import app_turn, partner_turn

pytestmark = pytest.mark.django_db


def test_the_users_own_answer_is_found_as_its_turn(user: User) -> None:
    turn_id = app_turn(user)
    turn = turn_get(user=user, turn_id=turn_id)
    assert turn.id == turn_id and turn.user_id == user.pk


def test_another_users_answer_is_not_found(user: User, other_user: User) -> None:
    with pytest.raises(NotFound):
        turn_get(user=other_user, turn_id=app_turn(user))


def test_a_question_is_not_a_turn(user: User) -> None:
    question = Message.objects.create(conversation=Conversation.objects.create(user=user), role=Message.Role.USER)
    with pytest.raises(NotFound):
        turn_get(user=user, turn_id=question.id)


def test_a_partners_completion_is_not_an_app_turn_even_for_its_owner(user: User) -> None:
    with pytest.raises(NotFound):
        turn_get(user=user, turn_id=partner_turn(user))
