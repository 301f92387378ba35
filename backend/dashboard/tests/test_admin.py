"""The admin: staff see the dashboard with the right numbers, others are kept out, private reads and
suspensions leave an audit trail."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from turns.tests.conftest import access_token

from accounts.models import User
from dashboard.models import AuditEvent, ModelSetting
from serving.registry import model_list

from .factories import at, turn, user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> User:
    return User.objects.create_superuser(email="staff@example.com", password="x-Good-pass-1")


@pytest.fixture
def staff_client(client: Client, staff: User) -> Client:
    client.force_login(staff)
    return client


@pytest.fixture
def known_turns() -> User:
    today = timezone.now().astimezone(UTC).date()
    ada = user("ada@example.com")
    turn(ada, at(today, 0, 5), prompt_tokens=40, completion_tokens=2, first_token_after=1, finished_after=2)
    turn(
        ada,
        at(today - timedelta(days=2), 0, 5),
        prompt_tokens=60,
        completion_tokens=8,
        first_token_after=1,
        finished_after=2,
    )
    return ada


def test_the_admin_home_is_the_dashboard_with_the_numbers_of_the_range(staff_client: Client, known_turns: User) -> None:
    week = staff_client.get("/admin/", {"days": "7"})
    today = staff_client.get("/admin/", {"days": "1"})

    assert week.status_code == 200
    html = week.content.decode()
    assert 'id="whale-dashboard"' in html
    assert '<p class="font-semibold text-3xl" data-metric="turns">2</p>' in html
    assert 'data-metric="tokens">100 / 10</p>' in html
    assert "ada@example.com" in html
    assert html.count('class="chart"') == 8
    assert 'data-metric="tokens">40 / 2</p>' in today.content.decode()


def test_the_dashboard_json_matches_the_data_for_staff(staff_client: Client, known_turns: User) -> None:
    response = staff_client.get("/admin/dashboard.json", {"days": "7"})

    assert response.status_code == 200
    body = response.json()
    assert (body["totals"]["turns"], body["totals"]["tokens_in"], body["totals"]["tokens_out"]) == (2, 100, 10)
    assert body["top_users"][0]["email"] == "ada@example.com"


def test_the_dashboard_shows_the_prefix_cache_hit_rate_per_day(staff_client: Client, known_turns: User) -> None:
    from ratelimits.models import UsageDay

    UsageDay.objects.create(
        user=known_turns, date=timezone.now().date(), prompt_tokens=200, cached_tokens=112, api_key_id=None
    )

    html = staff_client.get("/admin/", {"days": "7"}).content.decode()
    body = staff_client.get("/admin/dashboard.json", {"days": "7"}).json()

    assert "Prefix cache hit rate per day" in html
    assert 'data-metric="cache_hit_rate">Cached / prompt tokens in the range: app 56%, partner API -</p>' in html
    assert f"<tr><td>{timezone.now().date()}</td><td>56% (112 / 200)</td><td>-</td></tr>" in html
    assert body["cache_hits"]["app"]["hit_rate"] == 0.56
    assert body["cache_hits_daily"][-1]["app"] == {"prompt_tokens": 200, "cached_tokens": 112, "hit_rate": 0.56}


def test_non_staff_are_kept_out_of_the_dashboard(client: Client) -> None:
    assert client.get("/admin/dashboard.json").status_code == 401
    client.force_login(user("mallory@example.com"))

    assert client.get("/admin/dashboard.json").status_code == 403
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_nonsense_range_shows_the_default_range(staff_client: Client) -> None:
    response = staff_client.get("/admin/", {"days": "-5'"})
    assert response.status_code == 200
    assert 'aria-current="true"' in response.content.decode()


def test_reading_a_conversation_in_the_admin_is_audited(staff_client: Client, staff: User, known_turns: User) -> None:
    conversation = known_turns.conversations.first()
    assert conversation is not None

    listing = staff_client.get("/admin/chat/conversation/")
    assert listing.status_code == 200
    assert "Private title" not in listing.content.decode()
    assert not AuditEvent.objects.exists()

    page = staff_client.get(f"/admin/chat/conversation/{conversation.id}/change/")

    assert page.status_code == 200
    event = AuditEvent.objects.get()
    assert (event.actor, event.actor_email, event.action) == (staff, staff.email, "conversation.viewed")
    assert (event.object_type, event.object_id) == ("chat.conversation", str(conversation.id))
    assert timezone.now() - event.created_at < timedelta(seconds=30)


def test_reading_a_message_in_the_admin_is_audited(staff_client: Client, known_turns: User) -> None:
    message = known_turns.conversations.first().messages.first()

    assert staff_client.get(f"/admin/chat/message/{message.id}/change/").status_code == 200

    assert AuditEvent.objects.get().action == "message.viewed"


def test_suspending_and_reinstating_from_the_admin_is_logged_with_who_and_when(
    staff_client: Client, staff: User
) -> None:
    target = user("spammer@example.com")
    User.objects.filter(pk=target.pk).update(suspended_reason="sends spam")

    response = staff_client.post(
        "/admin/accounts/user/", {"action": "suspend_users", "_selected_action": [str(target.pk)]}
    )

    assert response.status_code == 302
    target.refresh_from_db()
    assert target.is_suspended and not target.is_active
    suspended = AuditEvent.objects.get(action="user.suspended")
    assert (suspended.actor, suspended.object_id, suspended.detail) == (staff, str(target.pk), {"reason": "sends spam"})
    assert LogEntry.objects.filter(
        user=staff, object_id=str(target.pk), change_message__startswith="Suspended"
    ).exists()

    staff_client.post("/admin/accounts/user/", {"action": "reinstate_users", "_selected_action": [str(target.pk)]})

    target.refresh_from_db()
    assert not target.is_suspended and target.is_active
    assert AuditEvent.objects.filter(action="user.reinstated", actor=staff, object_id=str(target.pk)).exists()


def test_staff_cannot_suspend_themselves(staff_client: Client, staff: User) -> None:
    staff_client.post("/admin/accounts/user/", {"action": "suspend_users", "_selected_action": [str(staff.pk)]})
    staff.refresh_from_db()
    assert not staff.is_suspended


def test_the_user_page_shows_usage_and_conversation_count(staff_client: Client, known_turns: User) -> None:
    html = staff_client.get(f"/admin/accounts/user/{known_turns.pk}/change/").content.decode()
    assert "2 (0 failed)" in html
    assert "100 / 10" in html


def test_the_audit_log_is_read_only(staff_client: Client) -> None:
    assert staff_client.get("/admin/dashboard/auditevent/").status_code == 200
    assert staff_client.get("/admin/dashboard/auditevent/add/").status_code == 403


def test_staff_can_disable_a_model_and_clients_stop_seeing_it(staff_client: Client, staff: User) -> None:

    assert staff_client.get("/admin/dashboard/modelsetting/").status_code == 200
    r1 = ModelSetting.objects.get(name="whale-r1")

    staff_client.post("/admin/dashboard/modelsetting/", {"action": "disable_models", "_selected_action": [str(r1.pk)]})

    assert {spec.name: spec.enabled for spec in model_list()} == {"whale-r1": False, "whale-chat": True}
    assert LogEntry.objects.filter(user=staff, object_id=str(r1.pk), change_message="Disabled").exists()
    ada = user("ada@example.com")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(ada)}")
    assert [entry["id"] for entry in api.get("/api/v1/models").json()["data"]] == ["whale-chat"]
