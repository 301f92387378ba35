"""Fixtures of the research tests: the fake internet on 127.0.0.1 and settings that point at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .fake_internet import FakeInternet, serve


@pytest.fixture(scope="session")
def _fake_internet_server() -> Iterator[FakeInternet]:
    yield from serve()


@pytest.fixture
def fake_internet(_fake_internet_server: FakeInternet, settings: Any) -> Iterator[FakeInternet]:
    """The fake internet with SearXNG answering normally, and settings that search it and may fetch from it."""
    internet = _fake_internet_server
    internet.search_mode = "ok"
    internet.results = []
    internet.requests.clear()
    settings.WHALE_SEARCH_PROVIDER = "searxng"
    settings.WHALE_SEARXNG_URL = internet.url
    settings.WHALE_FETCH_ALLOW_LOOPBACK = True
    settings.WHALE_SEARCH_TIMEOUT_SECONDS = 1.0
    settings.WHALE_FETCH_TOTAL_TIMEOUT_SECONDS = 3.0
    settings.WHALE_FETCH_MAX_BYTES = 2 * 1024 * 1024
    settings.WHALE_SEARCH_TOKENIZER = ""
    yield internet
