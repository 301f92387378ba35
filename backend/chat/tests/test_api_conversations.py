from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat.models import Conversation, Message

from .conftest import client_for
from .factories import AssistantMessageFactory, ConversationFactory, add_turn

pytestmark = pytest.mark.django_db

LIST = "/api/v1/conversations"


def detail(conversation_id: object) -> str:
    return f"/api/v1/conversations/{conversation_id}"


def test_signed_out_requests_get_a_401_in_the_error_shape(anon):
    response = anon.get(LIST)
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "not_authenticated", "message": "Authentication credentials were not provided."}
    }
    assert anon.get(detail(uuid.uuid4())).status_code == 401


def test_a_bad_token_is_a_401(anon):
    anon.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    response = anon.get(LIST)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_creating_a_conversation_returns_it_with_no_messages(api, user):
    response = api.post(LIST, {"title": "Trip plans"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["title"] == "Trip plans"
    assert body["pinned"] is False
    assert body["archived"] is False
    assert body["is_generating"] is False
    assert body["current_message_id"] is None
    assert body["messages"] == []
    assert Conversation.objects.get(id=body["id"]).user == user


def test_creating_a_conversation_without_a_body_works(api):
    response = api.post(LIST)
    assert response.status_code == 201
    assert response.json()["title"] == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x" * 201}, "title"),
        ({"title": 12}, "title"),
        ({"title": True}, "title"),
        ({"title": ["a"]}, "title"),
        ({"title": None}, "title"),
        ({"title": "nul\x00byte"}, "title"),
    ],
)
def test_creating_with_an_invalid_title_is_a_400_naming_the_field(api, body, field):
    response = api.post(LIST, body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"]
    assert field in error["fields"]


def test_a_title_with_a_lone_surrogate_is_a_400_not_a_database_error(api):
    response = api.post(LIST, '{"title": "lone \\ud800 surrogate"}', content_type="application/json")
    assert response.status_code == 400
    assert "title" in response.json()["error"]["fields"]


def test_a_non_object_body_is_a_400(api):
    response = api.post(LIST, ["title"], format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    response = api.post(LIST, "{not json", content_type="application/json")
    assert response.status_code == 400


def test_the_list_is_newest_updated_first_and_only_mine(api, user, other_user):
    old = ConversationFactory.create(user=user)
    new = ConversationFactory.create(user=user)
    ConversationFactory.create(user=other_user)
    response = api.get(LIST)
    assert response.status_code == 200
    body = response.json()
    assert [c["id"] for c in body["results"]] == [str(new.id), str(old.id)]
    assert body["next"] is None
    assert "messages" not in body["results"][0]


def test_cursor_pagination_pages_through_every_conversation_exactly_once(api, user):
    created = [ConversationFactory.create(user=user) for _ in range(30)]
    # Ties on updated_at must not lose or repeat anything either.
    Conversation.objects.filter(id__in=[c.id for c in created[10:16]]).update(updated_at=created[12].updated_at)
    seen: list[str] = []
    url: str | None = f"{LIST}?page_size=7"
    pages = 0
    while url:
        response = api.get(url)
        assert response.status_code == 200
        body = response.json()
        assert len(body["results"]) <= 7
        seen.extend(c["id"] for c in body["results"])
        url = body["next"]
        pages += 1
    assert pages == 5
    assert len(seen) == len(set(seen)) == 30
    assert set(seen) == {str(c.id) for c in created}
    updated = [Conversation.objects.get(id=i).updated_at for i in seen]
    assert updated == sorted(updated, reverse=True)


def test_page_size_is_capped_at_100_and_nonsense_is_ignored(api, user):
    Conversation.objects.bulk_create([Conversation(user=user, title=f"c{i}") for i in range(105)])
    assert len(api.get(f"{LIST}?page_size=1000").json()["results"]) == 100
    for weird in ["-1", "0", "abc", "1.5", ""]:
        response = api.get(f"{LIST}?page_size={weird}")
        assert response.status_code == 200, weird
        assert len(response.json()["results"]) == 20


@pytest.mark.parametrize("cursor", ["garbage", "cD1nYXJiYWdl", "bz0tMQ==", "cD0yMDI2LTEzLTQ1", "x" * 600, "\u00e9"])
def test_a_bad_cursor_is_a_400_not_a_500(api, user, cursor):
    # cD1nYXJiYWdl is "p=garbage": a position that is not a timestamp must not reach the database.
    ConversationFactory.create(user=user)
    response = api.get(LIST, {"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in response.json()["error"]["fields"]


@pytest.mark.parametrize("cursor", ["!!!", "cj0y", ""])
def test_a_cursor_that_decodes_to_nothing_harmful_is_just_a_page(api, user, cursor):
    ConversationFactory.create(user=user)
    assert api.get(LIST, {"cursor": cursor}).status_code == 200


def test_archived_conversations_are_hidden_unless_asked_for(api, user):
    visible = ConversationFactory.create(user=user)
    archived = ConversationFactory.create(user=user, archived_at=timezone.now())
    assert [c["id"] for c in api.get(LIST).json()["results"]] == [str(visible.id)]
    assert [c["id"] for c in api.get(f"{LIST}?archived=false").json()["results"]] == [str(visible.id)]
    listed = api.get(f"{LIST}?archived=true").json()["results"]
    assert [c["id"] for c in listed] == [str(archived.id)]
    assert listed[0]["archived"] is True


def test_the_pinned_filter(api, user):
    plain = ConversationFactory.create(user=user)
    pinned = ConversationFactory.create(user=user, pinned_at=timezone.now())
    assert [c["id"] for c in api.get(f"{LIST}?pinned=true").json()["results"]] == [str(pinned.id)]
    assert [c["id"] for c in api.get(f"{LIST}?pinned=false").json()["results"]] == [str(plain.id)]
    assert len(api.get(f"{LIST}?pinned=").json()["results"]) == 2


def test_invalid_filters_are_a_400(api):
    response = api.get(f"{LIST}?archived=maybe")
    assert response.status_code == 400
    assert "archived" in response.json()["error"]["fields"]
    response = api.get(LIST, {"q": "x" * 201})
    assert response.status_code == 400
    assert "q" in response.json()["error"]["fields"]


def test_search_finds_words_in_messages(api, user, other_user):
    wanted = ConversationFactory.create(user=user, title="Untitled")
    add_turn(wanted, question="Tell me about humpback whales")
    ConversationFactory.create(user=user, title="Groceries")
    add_turn(ConversationFactory.create(user=other_user), question="humpback whales")
    response = api.get(LIST, {"q": "humpback"})
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["results"]] == [str(wanted.id)]


@pytest.mark.skipif(not settings.DATABASE_IS_POSTGRES, reason="Postgres full-text search")
def test_search_with_postgres_uses_word_stems_and_web_search_syntax(api, user):
    wanted = ConversationFactory.create(user=user, title="Untitled")
    add_turn(wanted, question="My tests keep failing", answer="Check the fixtures.")
    # Every word must be in one message (or the title): "fails" and "test" are in the question.
    assert [c["id"] for c in api.get(LIST, {"q": "fails test"}).json()["results"]] == [str(wanted.id)]
    assert [c["id"] for c in api.get(LIST, {"q": "fixture"}).json()["results"]] == [str(wanted.id)]
    assert api.get(LIST, {"q": "fixture -check"}).json()["results"] == []
    assert api.get(LIST, {"q": "'\"():*&|!<->"}).status_code == 200


def test_the_list_shows_which_conversations_are_generating_with_a_fixed_number_of_queries(api, user):
    for index in range(12):
        conversation = ConversationFactory.create(user=user)
        add_turn(conversation, status=Message.Status.STREAMING if index % 2 else Message.Status.DONE)
    with CaptureQueriesContext(connection) as queries:
        body = api.get(LIST, {"page_size": 50}).json()
    assert sum(c["is_generating"] for c in body["results"]) == 6
    assert len(queries) <= 3  # the user, the page (with the Exists annotation), nothing per row


def test_reading_a_conversation_shows_the_current_branch_with_siblings(api, user):
    conversation = ConversationFactory.create(user=user, title="Sky")
    q1, a1 = add_turn(conversation)
    a1b = AssistantMessageFactory.create(conversation=conversation, parent=q1, content="Second answer")
    q2, a2 = add_turn(conversation, parent=a1b, question="Follow-up")

    with CaptureQueriesContext(connection) as queries:
        response = api.get(detail(conversation.id))
    assert response.status_code == 200
    assert len(queries) <= 3  # the user, the conversation, the messages

    body = response.json()
    assert body["title"] == "Sky"
    assert body["current_message_id"] == str(a2.id)
    assert [m["id"] for m in body["messages"]] == [str(q1.id), str(a1b.id), str(q2.id), str(a2.id)]
    answer = body["messages"][1]
    assert answer["parent_id"] == str(q1.id)
    assert (answer["sibling_count"], answer["sibling_index"]) == (2, 1)
    assert answer["sibling_ids"] == [str(a1.id), str(a1b.id)]
    assert body["messages"][0]["parent_id"] is None
    assert (body["messages"][0]["sibling_count"], body["messages"][0]["sibling_index"]) == (1, 0)


def test_a_message_has_the_documented_fields(api, user):
    conversation = ConversationFactory.create(user=user)
    add_turn(conversation)
    message = api.get(detail(conversation.id)).json()["messages"][1]
    assert set(message) == {
        "id", "parent_id", "role", "content", "reasoning_content", "model", "deepthink", "status", "error",
        "finish_reason", "usage", "feedback", "created_at", "queued_at", "started_at", "first_token_at",
        "finished_at", "sibling_count", "sibling_index", "sibling_ids",
        "search", "sources", "notices", "files",  # issues 16 and 17: the contract's message fields
    }  # fmt: skip
    assert message["usage"] == {"prompt_tokens": 12, "completion_tokens": 34, "reasoning_tokens": 5}
    assert message["role"] == "assistant"
    assert message["model"] == "whale-r1"
    assert message["created_at"].endswith("Z")


def test_is_generating_is_true_while_an_answer_streams(api, user):
    conversation = ConversationFactory.create(user=user)
    add_turn(conversation, status=Message.Status.QUEUED)
    assert api.get(detail(conversation.id)).json()["is_generating"] is True


def test_patch_renames_pins_and_archives(api, user):
    conversation = ConversationFactory.create(user=user)
    response = api.patch(detail(conversation.id), {"title": "Renamed", "pinned": True, "archived": True}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["title"], body["pinned"], body["archived"]) == ("Renamed", True, True)
    response = api.patch(detail(conversation.id), {"pinned": False, "archived": False}, format="json")
    assert (response.json()["pinned"], response.json()["archived"]) == (False, False)


def test_patch_ignores_unknown_fields(api, user):
    conversation = ConversationFactory.create(user=user, title="Same")
    response = api.patch(detail(conversation.id), {"colour": "blue", "user": "someone"}, format="json")
    assert response.status_code == 200
    assert response.json()["title"] == "Same"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x" * 201}, "title"),
        ({"pinned": "sometimes"}, "pinned"),
        ({"pinned": "true"}, "pinned"),
        ({"archived": 1}, "archived"),
        ({"title": 5}, "title"),
        ({"archived": [True]}, "archived"),
        ({"current_message_id": "not-a-uuid"}, "current_message_id"),
        ({"current_message_id": 5}, "current_message_id"),
    ],
)
def test_patch_with_wrong_types_is_a_400(api, user, body, field):
    conversation = ConversationFactory.create(user=user)
    response = api.patch(detail(conversation.id), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_switching_branch_shows_the_siblings_newest_descendants(api, user):
    conversation = ConversationFactory.create(user=user)
    q1, a1 = add_turn(conversation)
    q2, a2 = add_turn(conversation, parent=a1)
    q1b, a1b = add_turn(conversation, question="Edited first question")  # a sibling of q1

    response = api.patch(detail(conversation.id), {"current_message_id": str(q1.id)}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["current_message_id"] == str(a2.id)
    assert [m["id"] for m in body["messages"]] == [str(q1.id), str(a1.id), str(q2.id), str(a2.id)]
    assert (body["messages"][0]["sibling_index"], body["messages"][0]["sibling_count"]) == (0, 2)

    body = api.patch(detail(conversation.id), {"current_message_id": str(q1b.id)}, format="json").json()
    assert [m["id"] for m in body["messages"]] == [str(q1b.id), str(a1b.id)]
    assert body["messages"][0]["sibling_index"] == 1
    assert api.get(detail(conversation.id)).json()["current_message_id"] == str(a1b.id)


def test_switching_to_another_users_message_is_a_400_that_reveals_nothing(api, user, other_user):
    conversation = ConversationFactory.create(user=user)
    add_turn(conversation)
    _, theirs = add_turn(ConversationFactory.create(user=other_user))
    for message_id in [theirs.id, uuid.uuid4()]:
        response = api.patch(detail(conversation.id), {"current_message_id": str(message_id)}, format="json")
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {"current_message_id": ["Not a message of this conversation."]}


def test_delete_removes_the_conversation_and_its_messages(api, user):
    conversation = ConversationFactory.create(user=user)
    add_turn(conversation)
    assert api.delete(detail(conversation.id)).status_code == 204
    assert api.get(detail(conversation.id)).status_code == 404
    assert not Message.objects.exists()


def test_another_users_conversation_is_a_404_for_every_method(api, other_user):
    theirs = ConversationFactory.create(user=other_user, title="Private")
    add_turn(theirs)
    responses = [
        api.get(detail(theirs.id)),
        api.patch(detail(theirs.id), {"title": "Mine now"}, format="json"),
        api.delete(detail(theirs.id)),
        api.get(f"{detail(theirs.id)}/export"),
        api.post(f"{detail(theirs.id)}/share"),
    ]
    for response in responses:
        assert response.status_code == 404
        assert response.json() == {"error": {"code": "not_found", "message": "Conversation not found."}}
    theirs.refresh_from_db()
    assert theirs.title == "Private"
    assert client_for(other_user).get(detail(theirs.id)).status_code == 200


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "123", "0000"])
def test_a_malformed_id_is_a_404(api, bad_id):
    response = api.get(detail(bad_id))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
