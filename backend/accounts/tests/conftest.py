"""Fixtures for accounts tests: an API client, signed-in clients, mail sent in-process on commit."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import token_pair_issue
from config.celery import app as celery_app

from .factories import UserFactory


@pytest.fixture(autouse=True)
def _celery_runs_in_process() -> Iterator[None]:
    """Code emails go through a Celery task; run it in the test process so the outbox sees it."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db: None) -> User:
    return UserFactory()


@pytest.fixture
def signed_in(api: APIClient) -> Callable[[User], APIClient]:
    def sign_in(user: User) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_issue(user=user).access}")
        return client

    return sign_in


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """Runs a request and then its on-commit callbacks (the test transaction itself never commits)."""

    def run(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


def last_code(to: str) -> str:
    """The 6-digit code in the newest email sent to `to`."""
    messages = [message for message in mail.outbox if to in message.to]
    assert messages, f"no email was sent to {to}"
    match = re.search(r"\b(\d{6})\b", messages[-1].body)
    assert match, messages[-1].body
    return match.group(1)


def bearer(access: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {access}"}
