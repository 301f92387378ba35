from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat.models import Message
from chat.selectors import (
    conversation_get,
    conversation_list,
    conversation_thread,
    message_branch,
    message_get,
    message_sibling_ids,
    message_tree,
    share_link_get,
    share_link_get_public,
)
from common.errors import NotFound

from .factories import AssistantMessageFactory, ConversationFactory, MessageFactory, ShareLinkFactory, add_turn

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(not settings.DATABASE_IS_POSTGRES, reason="Postgres full-text search")
sqlite_only = pytest.mark.skipif(settings.DATABASE_IS_POSTGRES, reason="the SQLite fallback")


def test_conversation_get_returns_the_users_own_conversation(user):
    conversation = ConversationFactory.create(user=user)
    assert conversation_get(user=user, conversation_id=conversation.id) == conversation
    assert conversation_get(user=user, conversation_id=str(conversation.id)) == conversation


@pytest.mark.parametrize("conversation_id", ["not-a-uuid", "", None, str(uuid.uuid4())])
def test_conversation_get_is_not_found_for_malformed_or_unknown_ids(user, conversation_id):
    with pytest.raises(NotFound):
        conversation_get(user=user, conversation_id=conversation_id)


def test_conversation_get_hides_another_users_conversation(user, other_user):
    conversation = ConversationFactory.create(user=other_user)
    with pytest.raises(NotFound):
        conversation_get(user=user, conversation_id=conversation.id)


def test_message_get_hides_another_users_message(user, other_user):
    mine = MessageFactory.create(conversation__user=user)
    theirs = MessageFactory.create(conversation__user=other_user)
    assert message_get(user=user, message_id=mine.id) == mine
    with pytest.raises(NotFound):
        message_get(user=user, message_id=theirs.id)
    with pytest.raises(NotFound):
        message_get(user=user, message_id="garbage")


def test_message_branch_walks_from_the_root_to_the_current_message(user):
    conversation = ConversationFactory.create(user=user)
    q1, a1 = add_turn(conversation)
    q2, a2 = add_turn(conversation, parent=a1)
    assert message_branch(conversation=conversation) == [q1, a1, q2, a2]


def test_message_branch_stops_at_a_given_leaf(user):
    conversation = ConversationFactory.create(user=user)
    q1, a1 = add_turn(conversation)
    add_turn(conversation, parent=a1)
    assert message_branch(conversation=conversation, leaf=q1) == [q1]
    assert message_branch(conversation=conversation, leaf=a1) == [q1, a1]


def test_message_branch_rejects_a_leaf_from_another_conversation(user):
    conversation = ConversationFactory.create(user=user)
    add_turn(conversation)
    stranger = MessageFactory.create(conversation__user=user)
    with pytest.raises(NotFound):
        message_branch(conversation=conversation, leaf=stranger)


def test_message_branch_is_empty_for_an_empty_conversation(user):
    assert message_branch(conversation=ConversationFactory.create(user=user)) == []


def test_message_branch_without_a_current_message_follows_the_newest_messages(user):
    conversation = ConversationFactory.create(user=user)
    q1, _ = add_turn(conversation)
    q2, a2 = add_turn(conversation, parent=q1.parent, make_current=False)
    conversation.current_message = None
    conversation.save()
    assert message_branch(conversation=conversation) == [q2, a2]


def test_message_branch_reads_the_tree_in_one_query(user):
    conversation = ConversationFactory.create(user=user)
    parent = None
    for _ in range(10):
        _, parent = add_turn(conversation, parent=parent)
    with CaptureQueriesContext(connection) as queries:
        branch = message_branch(conversation=conversation)
    assert len(branch) == 20
    assert len(queries) == 1


def test_a_sends_tree_reads_every_message_but_not_the_reasoning(user):
    conversation = ConversationFactory.create(user=user)
    question, answer = add_turn(conversation)
    Message.objects.filter(id=answer.id).update(reasoning_content="A long think. " * 1000)

    with CaptureQueriesContext(connection) as queries:
        tree = message_tree(conversation=conversation, for_prompt=True)
    read = tree.by_id[answer.id]
    assert (read.content, read.status, tree.by_id[question.id].content) == (
        answer.content,
        answer.status,
        question.content,
    )
    assert len(queries) == 1 and "reasoning_content" not in queries[0]["sql"]
    assert "reasoning_content" in message_tree(conversation=conversation).by_id[answer.id].__dict__


def test_conversation_thread_gives_each_message_its_siblings_oldest_first(user):
    conversation = ConversationFactory.create(user=user)
    q1, a1 = add_turn(conversation)
    a1b = AssistantMessageFactory.create(conversation=conversation, parent=q1)
    q_edit, _ = add_turn(conversation, question="Edited question")  # a second root: an edit of q1
    conversation.current_message = a1b
    conversation.save()

    thread = conversation_thread(conversation=conversation)

    assert thread.messages == [q1, a1b]
    assert thread.sibling_ids[q1.id] == [q1.id, q_edit.id]
    assert thread.sibling_ids[a1b.id] == [a1.id, a1b.id]
    assert message_sibling_ids(message=a1b) == [a1.id, a1b.id]
    assert message_sibling_ids(message=q1) == [q1.id, q_edit.id]


def test_conversation_list_is_newest_updated_first_and_hides_archived_ones(user, other_user):
    old = ConversationFactory.create(user=user)
    new = ConversationFactory.create(user=user)
    archived = ConversationFactory.create(user=user, archived_at=new.created_at)
    ConversationFactory.create(user=other_user)

    assert list(conversation_list(user=user)) == [new, old]
    assert list(conversation_list(user=user, archived=True)) == [archived]


def test_conversation_list_filters_pinned_ones(user):
    plain = ConversationFactory.create(user=user)
    pinned = ConversationFactory.create(user=user, pinned_at=plain.created_at)
    assert list(conversation_list(user=user, pinned=True)) == [pinned]
    assert list(conversation_list(user=user, pinned=False)) == [plain]
    assert list(conversation_list(user=user, pinned=None)) == [pinned, plain]


def test_conversation_list_marks_conversations_with_a_message_in_flight(user):
    idle = ConversationFactory.create(user=user)
    add_turn(idle)
    busy = ConversationFactory.create(user=user)
    add_turn(busy, status=Message.Status.STREAMING)
    queued = ConversationFactory.create(user=user)
    add_turn(queued, status=Message.Status.QUEUED)
    flags = {c.id: getattr(c, "is_generating", None) for c in conversation_list(user=user)}
    assert flags == {idle.id: False, busy.id: True, queued.id: True}


def test_conversation_list_search_matches_title_prefixes(user):
    wanted = ConversationFactory.create(user=user, title="Python packaging tips")
    ConversationFactory.create(user=user, title="Cooking")
    assert list(conversation_list(user=user, q="pyth")) == [wanted]
    assert list(conversation_list(user=user, q="  ")) == list(conversation_list(user=user))


def test_conversation_list_search_finds_message_text_of_the_users_own_conversations(user, other_user):
    wanted = ConversationFactory.create(user=user, title="Untitled")
    add_turn(wanted, question="How do whales sleep?", answer="They rest one half of the brain at a time.")
    ConversationFactory.create(user=user, title="Other")
    theirs = ConversationFactory.create(user=other_user)
    add_turn(theirs, question="How do whales sleep?")
    assert list(conversation_list(user=user, q="whales")) == [wanted]


@postgres_only
def test_conversation_list_search_uses_postgres_full_text_search_with_stemming(user):
    wanted = ConversationFactory.create(user=user, title="Untitled")
    add_turn(wanted, question="I keep running into merge conflicts", answer="Rebase often.")
    ConversationFactory.create(user=user, title="Runtime errors")
    # "runs" and "running" share the stem "run"; websearch syntax ("-word", quotes) is accepted as typed.
    assert list(conversation_list(user=user, q="runs conflict")) == [wanted]
    assert list(conversation_list(user=user, q='"merge conflicts" -pizza')) == [wanted]
    assert list(conversation_list(user=user, q="or ) ( & | ! :*")) == []


@sqlite_only
def test_conversation_list_search_falls_back_to_contains_on_sqlite(user):
    wanted = ConversationFactory.create(user=user, title="Untitled")
    add_turn(wanted, question="I keep running into merge conflicts")
    assert list(conversation_list(user=user, q="MERGE CONF")) == [wanted]


def test_share_link_selectors_hide_revoked_and_foreign_links(user, other_user):
    mine = ShareLinkFactory.create(conversation__user=user)
    theirs = ShareLinkFactory.create(conversation__user=other_user)
    assert share_link_get(user=user, share_link_id=mine.id) == mine
    with pytest.raises(NotFound):
        share_link_get(user=user, share_link_id=theirs.id)
    assert share_link_get_public(token=theirs.token) == theirs
    with pytest.raises(NotFound):
        share_link_get_public(token="no-such-token")
    with pytest.raises(NotFound):
        share_link_get_public(token="x\x00y")
