"""Exporting my data: a JSON file with my profile and every conversation, message and branch, and nothing else."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from chat.models import Message

from .factories import ConversationFactory, MessageFactory, ShareLinkFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_export_holds_every_branch_of_every_conversation(user: User, signed_in) -> None:
    conversation = ConversationFactory(user=user, title="Why is the sky blue?")
    question = MessageFactory(conversation=conversation, content="Why is the sky blue?")
    first = MessageFactory(
        conversation=conversation,
        parent=question,
        role=Message.Role.ASSISTANT,
        content="Rayleigh scattering.",
        reasoning_content="Short wavelengths scatter more.",
        prompt_tokens=7,
        completion_tokens=3,
        reasoning_tokens=5,
        feedback=Message.Feedback.UP,
    )
    second = MessageFactory(conversation=conversation, parent=question, role=Message.Role.ASSISTANT, content="Light.")
    conversation.current_message = second
    conversation.save()
    empty = ConversationFactory(user=user, title="Empty")
    ShareLinkFactory(conversation=conversation)

    response = signed_in(user).get("/api/v1/me/export")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="whale-export-')
    data = response.json()
    assert data["user"]["email"] == user.email
    assert [c["title"] for c in data["conversations"]] == ["Why is the sky blue?", "Empty"]
    exported = data["conversations"][0]
    assert exported["current_message_id"] == str(second.id)
    assert [m["id"] for m in exported["messages"]] == [str(question.id), str(first.id), str(second.id)]
    assert exported["messages"][0]["parent_id"] is None
    assert {m["parent_id"] for m in exported["messages"][1:]} == {str(question.id)}
    answer = exported["messages"][1]
    assert answer["content"] == "Rayleigh scattering."
    assert answer["reasoning_content"] == "Short wavelengths scatter more."
    assert answer["usage"] == {"prompt_tokens": 7, "completion_tokens": 3, "reasoning_tokens": 5}
    assert answer["feedback"] == "up"
    assert data["conversations"][1] | {"messages": []} == data["conversations"][1]
    assert data["conversations"][1]["id"] == str(empty.id)
    assert [link["conversation_id"] for link in data["share_links"]] == [str(conversation.id)]


def test_the_export_holds_nothing_of_other_users(user: User, signed_in) -> None:
    stranger = UserFactory()
    theirs = ConversationFactory(user=stranger, title="Secret plans")
    MessageFactory(conversation=theirs, content="top secret")
    ShareLinkFactory(conversation=theirs)
    ConversationFactory(user=user, title="Mine")

    response = signed_in(user).get("/api/v1/me/export")

    assert [c["title"] for c in response.json()["conversations"]] == ["Mine"]
    assert response.json()["share_links"] == []
    assert "top secret" not in response.content.decode()
    assert stranger.email not in response.content.decode()


def test_an_account_without_conversations_exports_an_empty_list(user: User, signed_in) -> None:
    data = signed_in(user).get("/api/v1/me/export").json()

    assert data["conversations"] == [] and data["share_links"] == []
    assert data["format_version"] == 1


def test_the_export_needs_authentication(api: APIClient) -> None:
    assert api.get("/api/v1/me/export").status_code == 401
