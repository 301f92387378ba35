"""Turns through the API across the services: what an account's or a conversation's deletion stops, and a first
answer's title. Each service's own tests are in its file: test_send, test_settle, test_cancel, test_reap."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from chat.models import Conversation
from chat.services import conversation_title_save
from common.redis import get_redis
from inference import protocol
from turns import services, streams

from .conftest import access_token
from .send_helpers import clear_queue, queued_tasks, send, task_payload
from .worker_double import run_turn

pytestmark = pytest.mark.django_db


def test_deleting_a_conversation_stops_its_running_answer_and_no_other(
    api, conversation, other_user, django_capture_on_commit_callbacks
) -> None:
    turn_id = send(api, conversation, content="q").json()["assistant_message"]["id"]
    bystander = APIClient()
    bystander.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(other_user)}")
    elsewhere = Conversation.objects.create(user=other_user)
    other_turn = send(bystander, elsewhere, content="q").json()["assistant_message"]["id"]

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/v1/conversations/{conversation.id}").status_code == 204

    assert get_redis().exists(streams.keys_for(turn_id).cancel), "the worker is told to stop"
    assert not get_redis().exists(streams.keys_for(other_turn).cancel)


def test_deleting_the_account_stops_its_running_answers(api, conversation, django_capture_on_commit_callbacks) -> None:
    turn_id = send(api, conversation, content="q").json()["assistant_message"]["id"]

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/me/delete", {"password": "correct horse battery staple"}, format="json")

    assert response.status_code == 204
    assert get_redis().exists(streams.keys_for(turn_id).cancel)


def test_the_first_answer_queues_a_title_and_the_title_is_saved(
    api, conversation, gpu_queue, django_capture_on_commit_callbacks
) -> None:
    turn_id = send(api, conversation, content="Why is the sky blue?").json()["assistant_message"]["id"]
    clear_queue(gpu_queue)
    run_turn(turn_id, [], ["Scattering."])
    with django_capture_on_commit_callbacks(execute=True):
        services.turn_settle(turn_id=turn_id)

    tasks = queued_tasks(gpu_queue)
    assert [t["headers"]["task"] for t in tasks] == [protocol.TASK_GENERATE_TITLE]
    assert task_payload(tasks[0])["conversation_id"] == str(conversation.id)

    assert conversation_title_save(
        conversation_id=conversation.id, user_id=conversation.user_id, title="  Blue   sky  "
    )
    conversation.refresh_from_db()
    assert conversation.title == "Blue sky"
