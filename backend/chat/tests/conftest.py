from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from chat.models import Conversation

from .factories import UserFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def user(db: None) -> User:
    return UserFactory.create()


@pytest.fixture
def other_user(db: None) -> User:
    return UserFactory.create()


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def api(user: User) -> APIClient:
    """A client signed in as `user` with a real access token."""
    return client_for(user)


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


# The app's send tests (test_sends, test_send_api, ...) send through the real turn machinery, as turns' tests do.
@pytest.fixture
def conversation(user: User) -> Conversation:
    return Conversation.objects.create(user=user)


@pytest.fixture
def gpu_queue(_private_gpu_queue: str) -> str:
    return _private_gpu_queue
