"""Deleting an account removes it and everything that hangs off it, and nothing of anyone else."""

from __future__ import annotations

import pytest
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import EmailCode, User
from accounts.services import token_pair_issue
from chat.models import Conversation, Message, ShareLink

from .factories import PASSWORD, ConversationFactory, MessageFactory, ShareLinkFactory, UserFactory

pytestmark = pytest.mark.django_db


def _give_data(user: User) -> None:
    for _ in range(2):
        conversation = ConversationFactory(user=user)
        question = MessageFactory(conversation=conversation)
        answer = MessageFactory(conversation=conversation, parent=question, role=Message.Role.ASSISTANT)
        MessageFactory(conversation=conversation, parent=question, role=Message.Role.ASSISTANT)  # a regenerated branch
        follow_up = MessageFactory(conversation=conversation, parent=answer)
        conversation.current_message = follow_up
        conversation.save()
        ShareLinkFactory(conversation=conversation)
    EmailCode.objects.create(user=user, purpose="verify_email", code_hash="x", expires_at=user.date_joined)
    token_pair_issue(user=user)


def test_deleting_my_account_leaves_nothing_of_mine_behind(user: User, signed_in) -> None:
    other = UserFactory()
    _give_data(user)
    _give_data(other)
    client = signed_in(user)
    user_id = user.id
    conversation_ids = list(Conversation.objects.filter(user=user).values_list("id", flat=True))

    response = client.post("/api/v1/me/delete", {"password": PASSWORD}, format="json")

    assert response.status_code == 204
    assert not User.objects.filter(id=user_id).exists()
    assert not Conversation.objects.filter(user_id=user_id).exists()
    assert not Message.objects.filter(conversation_id__in=conversation_ids).exists()
    assert not ShareLink.objects.filter(user_id=user_id).exists()
    assert not ShareLink.objects.filter(conversation_id__in=conversation_ids).exists()
    assert not EmailCode.objects.filter(user_id=user_id).exists()
    assert not OutstandingToken.objects.filter(user_id=user_id).exists()
    assert not OutstandingToken.objects.filter(user__isnull=True).exists()
    # Every remaining row belongs to the other user.
    assert Conversation.objects.count() == 2 and set(Conversation.objects.values_list("user_id", flat=True)) == {
        other.id
    }
    assert Message.objects.count() == 8
    assert ShareLink.objects.count() == 2
    assert OutstandingToken.objects.filter(user=other).count() == 1


def test_a_wrong_password_deletes_nothing(user: User, signed_in) -> None:
    _give_data(user)

    response = signed_in(user).post("/api/v1/me/delete", {"password": "not-my-password"}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "wrong_password"
    assert error["message"] == "The password is not correct."
    assert error["fields"] == {"password": ["The password is not correct."]}
    assert User.objects.filter(id=user.id).exists()
    assert Message.objects.filter(conversation__user=user).count() == 8


def test_deleting_needs_the_password_field(user: User, signed_in) -> None:
    response = signed_in(user).post("/api/v1/me/delete", {}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"password": ["This field is required."]}
