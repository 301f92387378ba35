"""chat.account_data: a user's chat data in the account export, and the usage on the admin's account page."""

from __future__ import annotations

import pytest
from turns.tests.conftest import make_user

from accounts.hooks import account_usage
from chat.account_data import user_conversations, user_share_links
from chat.models import Conversation, Message, ShareLink

pytestmark = pytest.mark.django_db


def test_the_admin_counts_a_users_answers_their_failures_and_tokens() -> None:
    user, other = make_user(), make_user()
    conversation = Conversation.objects.create(user=user)
    question = Message.objects.create(conversation=conversation, role=Message.Role.USER, content="q")
    for status, tokens in ((Message.Status.DONE, 5), (Message.Status.FAILED, 0)):
        Message.objects.create(
            conversation=conversation,
            parent=question,
            role=Message.Role.ASSISTANT,
            status=status,
            prompt_tokens=3,
            completion_tokens=tokens,
        )
    Message.objects.create(conversation=Conversation.objects.create(user=other), role=Message.Role.ASSISTANT)

    usage = account_usage(user=user)

    assert (usage.turns, usage.failed, usage.tokens_in, usage.tokens_out) == (2, 1, 6, 5)


def test_the_export_holds_every_message_under_its_conversation_and_the_share_links() -> None:
    user = make_user()
    conversation = Conversation.objects.create(user=user, title="t")
    Message.objects.create(conversation=conversation, role=Message.Role.USER, content="q")
    ShareLink.objects.create(token="tok", user=user, conversation=conversation)

    (exported,) = user_conversations(user)
    assert exported["id"] == conversation.id and [m["content"] for m in exported["messages"]] == ["q"]
    assert exported["messages"][0]["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "reasoning_tokens": 0}
    assert [link["conversation_id"] for link in user_share_links(user)] == [conversation.id]
