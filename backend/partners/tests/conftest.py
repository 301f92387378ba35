from __future__ import annotations

from typing import Any

import pytest
from turns.tests.prepare_helpers import _internet, fake_internet, prepare_settings, published  # noqa: F401 (fixtures)

from accounts.models import User
from ratelimits.tests.factories import make_user


@pytest.fixture
def user(db: Any) -> User:
    return make_user("partner@example.com")


@pytest.fixture
def gpu_queue(_private_gpu_queue: str) -> str:
    return _private_gpu_queue
