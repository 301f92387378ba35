"""Fixtures for turn tests: users, conversations, and a GPU queue of this test run only."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from chat.models import Conversation

from .prepare_helpers import _internet, fake_internet, prepare_settings, published  # noqa: F401 (fixtures)


@pytest.fixture
def gpu_queue(_private_gpu_queue: str) -> str:
    return _private_gpu_queue


def make_user(email: str | None = None) -> User:
    """A new user; each gets its own email unless one is given, so no test depends on another's cleanup."""
    email = email or f"ada-{uuid.uuid4().hex[:12]}@example.com"
    return User.objects.create_user(email=email, password="correct horse battery staple")


def access_token(user: User) -> str:
    return str(RefreshToken.for_user(user).access_token)


@pytest.fixture
def user(db: Any) -> User:
    return make_user()


@pytest.fixture
def other_user(db: Any) -> User:
    return make_user("mallory@example.com")


@pytest.fixture
def api(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(user)}")
    return client


@pytest.fixture
def conversation(user: User) -> Conversation:
    return Conversation.objects.create(user=user)


def redis_prefix() -> str:
    return settings.WHALE_REDIS_PREFIX
