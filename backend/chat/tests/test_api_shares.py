from __future__ import annotations

import uuid

import pytest

from chat.models import Message, ShareLink

from .conftest import client_for
from .factories import ConversationFactory, ShareLinkFactory, add_turn

pytestmark = pytest.mark.django_db


def share_url(conversation_id: object) -> str:
    return f"/api/v1/conversations/{conversation_id}/share"


def test_sharing_creates_a_link_with_its_urls(api, user):
    conversation = ConversationFactory.create(user=user, title="Sky")
    add_turn(conversation)
    response = api.post(share_url(conversation.id))
    assert response.status_code == 201
    body = response.json()
    token = body["token"]
    assert body["url"] == f"http://testserver/share/{token}"  # WHALE_PUBLIC_URL unset: from the request
    assert body["api_url"] == f"/api/v1/shared/{token}"
    assert body["conversation_id"] == str(conversation.id)
    assert body["title"] == "Sky"
    assert ShareLink.objects.get(id=body["id"]).user == user


def test_the_public_link_needs_no_account_and_shows_the_snapshot(api, anon, user):
    conversation = ConversationFactory.create(user=user, title="Sky")
    add_turn(conversation, answer="Scattering.")
    token = api.post(share_url(conversation.id)).json()["token"]

    response = anon.get(f"/api/v1/shared/{token}")
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Sky"
    assert body["created_at"]
    assert [(m["role"], m["content"]) for m in body["messages"]] == [
        ("user", "Why is the sky blue?"),
        ("assistant", "Scattering."),
    ]
    assert body["messages"][1]["reasoning_content"] == "Let me think."


def test_the_public_link_ignores_a_bad_authorization_header(anon, user):
    link = ShareLinkFactory.create(conversation__user=user)
    anon.credentials(HTTP_AUTHORIZATION="Bearer expired-or-garbage")
    assert anon.get(f"/api/v1/shared/{link.token}").status_code == 200


def test_later_messages_do_not_appear_in_a_shared_snapshot(api, anon, user):
    conversation = ConversationFactory.create(user=user)
    _, answer = add_turn(conversation)
    token = api.post(share_url(conversation.id)).json()["token"]
    add_turn(conversation, parent=answer, question="A private follow-up")
    api.patch(f"/api/v1/conversations/{conversation.id}", {"title": "Renamed"}, format="json")

    body = anon.get(f"/api/v1/shared/{token}").json()
    assert len(body["messages"]) == 2
    assert "A private follow-up" not in str(body)
    assert body["title"] == conversation.title


def test_an_unfinished_answer_is_left_out_of_a_snapshot(api, anon, user):
    conversation = ConversationFactory.create(user=user)
    add_turn(conversation, status=Message.Status.STREAMING, answer="half an ans")
    token = api.post(share_url(conversation.id)).json()["token"]
    assert [m["role"] for m in anon.get(f"/api/v1/shared/{token}").json()["messages"]] == ["user"]


def test_revoking_a_link_makes_it_a_404(api, anon, user):
    conversation = ConversationFactory.create(user=user)
    add_turn(conversation)
    link = api.post(share_url(conversation.id)).json()

    assert api.delete(f"/api/v1/shares/{link['id']}").status_code == 204
    response = anon.get(f"/api/v1/shared/{link['token']}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert api.get("/api/v1/shares").json()["results"] == []
    assert api.delete(f"/api/v1/shares/{link['id']}").status_code == 404


@pytest.mark.parametrize("token", ["unknown-token", "x" * 64, "x" * 65, "bad%00token", "a.b"])
def test_an_unknown_token_is_a_404(anon, token):
    response = anon.get(f"/api/v1/shared/{token}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_listing_shows_only_my_live_links_newest_first(api, user, other_user):
    first = ShareLinkFactory.create(conversation__user=user)
    second = ShareLinkFactory.create(conversation__user=user)
    ShareLinkFactory.create(conversation__user=user, revoked_at=second.created_at)
    ShareLinkFactory.create(conversation__user=other_user)
    response = api.get("/api/v1/shares")
    assert response.status_code == 200
    body = response.json()
    assert [s["id"] for s in body["results"]] == [str(second.id), str(first.id)]
    assert body["results"][0]["url"] == f"http://testserver/share/{second.token}"
    assert body["next"] is None


def test_share_links_page_through_with_a_cursor(api, user):
    conversation = ConversationFactory.create(user=user)
    links = [ShareLinkFactory.create(conversation=conversation) for _ in range(5)]
    first = api.get("/api/v1/shares", {"page_size": 3}).json()
    second = api.get(first["next"]).json()
    ids = [s["id"] for s in first["results"] + second["results"]]
    assert sorted(ids) == sorted(str(link.id) for link in links)
    assert second["next"] is None


def test_another_users_share_link_is_a_404(api, user, other_user):
    theirs = ShareLinkFactory.create(conversation__user=other_user)
    response = api.delete(f"/api/v1/shares/{theirs.id}")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert api.delete(f"/api/v1/shares/{uuid.uuid4()}").status_code == 404
    assert api.delete("/api/v1/shares/not-a-uuid").status_code == 404
    assert client_for(other_user).delete(f"/api/v1/shares/{theirs.id}").status_code == 204


def test_sharing_needs_an_account(anon, user):
    conversation = ConversationFactory.create(user=user)
    assert anon.post(share_url(conversation.id)).status_code == 401
    assert anon.get("/api/v1/shares").status_code == 401
    assert anon.delete(f"/api/v1/shares/{uuid.uuid4()}").status_code == 401


def test_a_snapshot_carries_each_answers_timings_and_usage(api, anon, user):
    from datetime import UTC, datetime, timedelta

    queued = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)
    conversation = ConversationFactory.create(user=user)
    add_turn(
        conversation,
        queued_at=queued,
        started_at=queued + timedelta(seconds=1),
        first_token_at=queued + timedelta(seconds=2),
        finished_at=queued + timedelta(seconds=14),
        prompt_tokens=12,
        completion_tokens=300,
        reasoning_tokens=240,
    )
    token = api.post(share_url(conversation.id)).json()["token"]

    question, answer = anon.get(f"/api/v1/shared/{token}").json()["messages"]

    assert answer["queued_at"] == "2026-11-01T12:00:00Z"
    assert answer["started_at"] == "2026-11-01T12:00:01Z"
    assert answer["first_token_at"] == "2026-11-01T12:00:02Z"
    assert answer["finished_at"] == "2026-11-01T12:00:14Z"
    assert answer["usage"] == {"prompt_tokens": 12, "completion_tokens": 300, "reasoning_tokens": 240}
    assert question["finished_at"] is None
    assert question["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "reasoning_tokens": 0}


def test_a_snapshot_saved_before_timings_were_kept_still_reads(anon, user):
    link = ShareLinkFactory.create(
        conversation__user=user,
        snapshot=[
            {"role": "assistant", "content": "Hi.", "reasoning_content": "", "created_at": "2026-01-01T00:00:00Z"}
        ],
    )

    message = anon.get(f"/api/v1/shared/{link.token}").json()["messages"][0]

    assert message["first_token_at"] is None and message["finished_at"] is None
    assert message["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "reasoning_tokens": 0}


def test_the_share_url_is_absolute_from_the_request_when_no_public_url_is_set(api, user, settings):
    settings.WHALE_PUBLIC_URL = ""
    conversation = ConversationFactory.create(user=user)
    add_turn(conversation)

    response = api.post(share_url(conversation.id), HTTP_HOST="localhost:8000", secure=True)

    assert response.json()["url"] == f"https://localhost:8000/share/{response.json()['token']}"


def test_the_share_url_uses_the_public_url_setting_in_every_answer(api, user, settings):
    settings.WHALE_PUBLIC_URL = "https://chat.example.com/"
    conversation = ConversationFactory.create(user=user)
    add_turn(conversation)

    token = api.post(share_url(conversation.id)).json()["token"]
    listed = api.get("/api/v1/shares").json()["results"]

    assert listed[0]["url"] == f"https://chat.example.com/share/{token}"
