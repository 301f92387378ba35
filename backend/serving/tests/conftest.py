"""Fixtures for serving tests: the GPU queue of this test run only (the root conftest's registry serves both models on it)."""

from __future__ import annotations

import pytest


@pytest.fixture
def gpu_queue(_private_gpu_queue: str) -> str:
    return _private_gpu_queue
