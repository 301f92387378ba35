from __future__ import annotations

import pytest

from chat.models import Conversation, Message, ShareLink
from chat.services import (
    conversation_create,
    conversation_delete,
    conversation_touch,
    conversation_update,
    message_set_feedback,
    share_link_create,
    share_link_revoke,
)
from common.errors import ValidationFailed

from .factories import AssistantMessageFactory, ConversationFactory, MessageFactory, add_turn

pytestmark = pytest.mark.django_db


def test_conversation_create_trims_the_title(user):
    conversation = conversation_create(user=user, title="  Trip plans ")
    assert conversation.title == "Trip plans"
    assert conversation.user == user
    assert conversation.created_at == conversation.updated_at


def test_conversation_update_pins_archives_and_renames_without_moving_it_in_the_list(user):
    conversation = ConversationFactory.create(user=user)
    updated_at = conversation.updated_at

    conversation_update(conversation=conversation, title="New", pinned=True, archived=True)
    conversation.refresh_from_db()
    assert conversation.title == "New"
    assert conversation.pinned_at is not None
    assert conversation.archived_at is not None
    assert conversation.updated_at == updated_at

    pinned_at = conversation.pinned_at
    conversation_update(conversation=conversation, pinned=True)  # pinning again keeps the first time
    conversation_update(conversation=conversation, archived=False)
    conversation.refresh_from_db()
    assert conversation.pinned_at == pinned_at
    assert conversation.archived_at is None


def test_switching_to_a_message_follows_its_newest_descendants(user):
    conversation = ConversationFactory.create(user=user)
    q1, a1 = add_turn(conversation)
    _, a2 = add_turn(conversation, parent=a1)
    a1b = AssistantMessageFactory.create(conversation=conversation, parent=q1)  # a regeneration
    q3, a3 = add_turn(conversation, parent=a1b)
    _, a4 = add_turn(conversation, parent=a1b, question="An edit of q3")  # newest under a1b

    conversation_update(conversation=conversation, current_message_id=a1.id)
    assert conversation.current_message == a2

    conversation_update(conversation=conversation, current_message_id=a1b.id)
    assert conversation.current_message == a4

    conversation_update(conversation=conversation, current_message_id=q3.id)
    conversation.refresh_from_db()
    assert conversation.current_message == a3


def test_switching_to_a_message_of_another_conversation_is_invalid(user):
    conversation = ConversationFactory.create(user=user)
    add_turn(conversation)
    elsewhere = MessageFactory.create(conversation__user=user)
    with pytest.raises(ValidationFailed) as error:
        conversation_update(conversation=conversation, current_message_id=elsewhere.id)
    assert "current_message_id" in (error.value.fields or {})


def test_conversation_touch_moves_it_to_the_top(user):
    older = ConversationFactory.create(user=user)
    newer = ConversationFactory.create(user=user)
    conversation_touch(conversation=older)
    older.refresh_from_db()
    assert older.updated_at > newer.updated_at


def test_conversation_delete_removes_its_messages_and_share_links(user):
    conversation = ConversationFactory.create(user=user)
    add_turn(conversation)
    share_link_create(user=user, conversation=conversation)
    conversation_delete(conversation=conversation)
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()
    assert not ShareLink.objects.exists()


def test_feedback_is_only_for_assistant_messages(user):
    question, answer = add_turn(ConversationFactory.create(user=user))
    assert message_set_feedback(message=answer, feedback="up").feedback == "up"
    answer.refresh_from_db()
    assert answer.feedback == "up"
    with pytest.raises(ValidationFailed):
        message_set_feedback(message=question, feedback="up")
    with pytest.raises(ValidationFailed):
        message_set_feedback(message=answer, feedback="sideways")


def test_a_share_snapshot_holds_the_finished_messages_of_the_current_branch(user):
    conversation = ConversationFactory.create(user=user, title="Sky")
    q1, a1 = add_turn(conversation, answer="Scattering.")
    AssistantMessageFactory.create(conversation=conversation, parent=q1, content="Another take")  # not current
    add_turn(conversation, parent=a1, question="And sunsets?", status=Message.Status.STREAMING)

    share_link = share_link_create(user=user, conversation=conversation)

    assert share_link.title == "Sky"
    assert [m["content"] for m in share_link.snapshot] == ["Why is the sky blue?", "Scattering.", "And sunsets?"]
    assert set(share_link.snapshot[1]) == {
        "role",
        "content",
        "reasoning_content",
        "created_at",
        "queued_at",
        "started_at",
        "first_token_at",
        "finished_at",
        "usage",
        "search",  # issues 16 and 17: the contract's message fields
        "sources",
        "notices",
        "files",
    }
    assert share_link.snapshot[1]["reasoning_content"] == "Let me think."
    assert share_link.snapshot[0]["created_at"].endswith("Z")
    assert len(share_link.token) >= 32


def test_a_share_snapshot_does_not_change_when_the_conversation_does(user):
    conversation = ConversationFactory.create(user=user)
    _, a1 = add_turn(conversation)
    share_link = share_link_create(user=user, conversation=conversation)
    add_turn(conversation, parent=a1, question="Later question")
    a1.content = "Edited afterwards"
    a1.save()
    share_link.refresh_from_db()
    assert [m["content"] for m in share_link.snapshot] == ["Why is the sky blue?", "Rayleigh scattering."]


def test_each_share_gets_its_own_token(user):
    conversation = ConversationFactory.create(user=user)
    first = share_link_create(user=user, conversation=conversation)
    second = share_link_create(user=user, conversation=conversation)
    assert first.token != second.token


def test_sharing_someone_elses_conversation_is_refused(user, other_user):
    with pytest.raises(ValidationFailed):
        share_link_create(user=user, conversation=ConversationFactory.create(user=other_user))


def test_share_link_revoke_stamps_revoked_at_once(user):
    share_link = share_link_create(user=user, conversation=ConversationFactory.create(user=user))
    share_link_revoke(share_link=share_link)
    revoked_at = share_link.revoked_at
    assert revoked_at is not None
    share_link_revoke(share_link=share_link)
    share_link.refresh_from_db()
    assert share_link.revoked_at == revoked_at


def test_creating_updating_and_deleting_announce_it_to_the_users_devices(user, monkeypatch):
    published: list[tuple[object, str, dict]] = []
    monkeypatch.setattr(
        "common.events.user_event_publish",
        lambda *, user_id, event_type, payload: published.append((user_id, event_type, payload)),
    )
    conversation = conversation_create(user=user, title="Hi")
    conversation_update(conversation=conversation, pinned=True)
    conversation_update(conversation=conversation, pinned=True)  # no change, no event
    conversation_id = str(conversation.id)
    conversation_delete(conversation=conversation)
    assert [(u, t) for u, t, _ in published] == [
        (user.id, "conversation.created"),
        (user.id, "conversation.updated"),
        (user.id, "conversation.deleted"),
    ]
    assert published[1][2] == {"conversation_id": conversation_id, "title": "Hi", "pinned": True, "archived": False}
    assert published[2][2] == {"conversation_id": conversation_id}
