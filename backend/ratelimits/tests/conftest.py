from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User

from .factories import make_user


@pytest.fixture
def user(db: Any) -> User:
    return make_user("ada@example.com")


@pytest.fixture
def gpu_queue(_private_gpu_queue: str) -> str:
    return _private_gpu_queue
