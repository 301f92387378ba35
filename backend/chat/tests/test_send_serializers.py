"""chat.send_serializers: what the send endpoints take (defaults, refusals) and the bodies they document,
checked against the bodies the endpoints really answer with."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import override_settings
from rest_framework import serializers as drf
from turns.tests.send_helpers import send

from accounts.models import User
from chat import send_serializers as serializers
from chat.models import Conversation
from ratelimits.tests.factories import set_limits

pytestmark = pytest.mark.django_db


def documented(serializer: drf.Serializer) -> set[str]:
    return set(serializer.fields)


def test_a_send_defaults_to_no_deepthink_no_search_no_files_and_keeps_the_branch() -> None:
    request = serializers.SendMessageRequest(data={"content": "  Hi  "})
    assert request.is_valid(), request.errors
    assert request.validated_data == {"content": "  Hi  ", "deepthink": False, "search": False, "file_ids": []}
    assert "parent_id" not in request.validated_data  # left out: continue the branch on screen


def test_a_send_may_start_a_new_first_question_with_a_null_parent() -> None:
    request = serializers.SendMessageRequest(data={"content": "Hi", "parent_id": None})
    assert request.is_valid(), request.errors
    assert request.validated_data["parent_id"] is None


@pytest.mark.parametrize(
    "data",
    [
        {"content": ""},
        {"content": "Hi", "parent_id": "not-a-uuid"},
        {"content": "Hi", "search": "true"},
        {"content": "Hi", "file_ids": ["not-a-uuid"]},
        {"content": "Hi", "file_ids": [str(uuid.uuid4())] * (serializers.FILE_IDS_PARSE_MAX + 1)},
    ],
)
def test_a_send_refuses_what_it_cannot_take(data: dict[str, Any]) -> None:
    assert not serializers.SendMessageRequest(data=data).is_valid()


@pytest.mark.parametrize("parent_id", [None, str(uuid.uuid4())])
def test_a_first_message_refuses_any_parent_even_a_null_one(parent_id: str | None) -> None:
    request = serializers.FirstMessageRequest(data={"content": "Hi", "parent_id": parent_id})
    assert not request.is_valid()
    assert request.errors == {"parent_id": ["A new conversation's first message has no parent."]}


def test_a_regenerate_left_empty_repeats_what_the_answer_it_replaces_did() -> None:
    request = serializers.RegenerateRequest(data={})
    assert request.is_valid(), request.errors
    assert request.validated_data == {"deepthink": None, "search": None}


def test_the_fallback_documents_its_from_field_though_from_is_a_python_keyword() -> None:
    assert documented(serializers.TurnFallback()) == {"from", "to", "reason"}


def test_a_sends_202_body_has_exactly_the_documented_fields(api: Any, conversation: Conversation) -> None:
    body = send(api, conversation, content="Why is the sky blue?").json()

    assert set(body) == documented(serializers.TurnCreatedResponse())
    assert set(body["stream"]) == documented(serializers.StreamLinks())
    response = serializers.TurnCreatedResponse()
    assert set(body["assistant_message"]) == documented(response.fields["assistant_message"])
    assert set(body["user_message"]) == documented(response.fields["user_message"])
    assert set(body["assistant_message"]["usage"]) == documented(response.fields["assistant_message"].fields["usage"])


def test_a_first_messages_202_body_adds_the_documented_conversation(api: Any) -> None:
    body = api.post("/api/v1/messages", {"content": "Hi"}, format="json").json()

    response = serializers.FirstMessageResponse()
    assert set(body) == documented(response)
    assert set(body["conversation"]) == documented(response.fields["conversation"])


@override_settings(WHALE_DEEPTHINK_FALLBACK=True)
def test_a_fallback_in_a_202_body_has_the_documented_shape(api: Any, user: User) -> None:
    set_limits(user, reasoning_turns_per_day=1)
    send(api, Conversation.objects.create(user=user), content="one")

    body = send(api, Conversation.objects.create(user=user), content="two").json()

    assert set(body["fallback"]) == documented(serializers.TurnFallback())


def test_a_cancels_202_body_is_the_documented_turn(api: Any, conversation: Conversation) -> None:
    turn_id = send(api, conversation, content="q").json()["assistant_message"]["id"]

    body = api.post(f"/api/v1/turns/{turn_id}/cancel").json()

    response = serializers.CancelResponse()
    assert set(body) == documented(response)
    assert set(body["turn"]) == documented(response.fields["turn"])
