"""Staff manage keys in the admin: a new key's secret is shown once, and keys are revoked by an action."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.utils import timezone

from accounts.models import User
from partners.models import ApiKey
from partners.selectors import api_key_authenticate
from ratelimits.models import UsageDay
from ratelimits.selectors import tier_get

from .factories import make_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(db) -> Client:
    admin = User.objects.create_superuser(email="root@example.com", password="correct horse battery staple")
    client = Client()
    client.force_login(admin)
    return client


def test_adding_a_key_in_the_admin_shows_its_secret_once_with_the_chosen_tier(staff_client, user) -> None:
    tier = tier_get("pro")
    if tier.pk is None:  # a transactional test before this one flushed the seeded tiers
        tier.save()

    response = staff_client.post(
        "/admin/partners/apikey/add/",
        {"user": str(user.pk), "name": "Partner bot", "tier": str(tier.pk), "turns_per_day": "9"},
        follow=True,
    )

    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"] if "shown only this once" in str(m)]
    assert len(shown) == 1
    secret = shown[0].rsplit(" ", 1)[-1]
    key = api_key_authenticate(secret=secret)
    assert key is not None and key.name == "Partner bot" and key.user == user
    assert key.tier == tier and key.turns_per_day == 9
    assert ApiKey.objects.count() == 1


def test_the_revoke_action_stops_keys_at_once(staff_client, user) -> None:
    created = make_key(user)

    staff_client.post(
        "/admin/partners/apikey/",
        {"action": "revoke", "_selected_action": [str(created.key.pk)]},
    )

    assert api_key_authenticate(secret=created.secret) is None
    entry = LogEntry.objects.get(object_id=str(created.key.pk))
    assert entry.change_message == "Revoked the key." and entry.user.is_staff


def test_a_keys_page_shows_its_usage_by_day(staff_client, user) -> None:
    key = make_key(user).key
    day = timezone.now().date() - dt.timedelta(days=1)
    UsageDay.objects.create(
        user=user, api_key_id=key.id, date=day, turns=2, errors=1, prompt_tokens=123, cached_tokens=96
    )
    UsageDay.objects.create(user=user, api_key_id=None, date=day, turns=9, prompt_tokens=987_654)

    page = staff_client.get(f"/admin/partners/apikey/{key.pk}/change/").content.decode()

    assert "Usage, last 30 days" in page and "cached tokens" in page
    assert f"<td>{day.isoformat()}</td><td>3</td><td>123</td><td>96</td>" in page
    # The app's usage is not the key's. (A 3-digit number also shows up inside the page's random UUIDs.)
    assert "987654" not in page
