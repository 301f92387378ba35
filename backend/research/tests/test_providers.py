"""Search providers against the fake internet, the provider chosen from settings, and the capabilities clients see."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from research.providers import (
    BraveProvider,
    ProviderError,
    SearxngProvider,
    TavilyProvider,
    provider_from_settings,
    search_capabilities,
)

from .fake_internet import FakeInternet


async def test_searxng_results_become_hits_and_junk_entries_are_dropped(fake_internet: FakeInternet) -> None:
    fake_internet.results = [
        {"url": fake_internet.page("/articles/sky"), "title": "Sky", "content": "Rayleigh"},
        {"url": "javascript:alert(1)", "title": "Bad", "content": ""},
        {"title": "No URL"},
        "not an object",
        {"url": fake_internet.page("/articles/ocean"), "title": None, "content": 5},
    ]
    async with httpx.AsyncClient() as client:
        hits = await SearxngProvider(fake_internet.url).search(client, "sky", count=10)

    assert [(hit.url, hit.title, hit.snippet) for hit in hits] == [
        (fake_internet.page("/articles/sky"), "Sky", "Rayleigh"),
        (fake_internet.page("/articles/ocean"), "", ""),
    ]
    path, _ = fake_internet.requests[-1]
    assert path == "/search"


async def test_searxng_counts_are_respected(fake_internet: FakeInternet) -> None:
    async with httpx.AsyncClient() as client:
        hits = await SearxngProvider(fake_internet.url).search(client, "sky", count=1)
    assert len(hits) == 1


@pytest.mark.parametrize(
    ("mode", "reason"), [("slow", "timeout"), ("error", "http_error"), ("not_json", "bad_response")]
)
async def test_searxng_failures_are_provider_errors(
    fake_internet: FakeInternet, settings: Any, mode: str, reason: str
) -> None:
    settings.WHALE_SEARCH_TIMEOUT_SECONDS = 0.3
    fake_internet.search_mode = mode
    async with httpx.AsyncClient() as client:
        with pytest.raises(ProviderError) as failed:
            await SearxngProvider(fake_internet.url).search(client, "sky", count=5)
    assert (failed.value.provider, failed.value.reason) == ("searxng", reason)


async def test_brave_sends_its_token_and_reads_web_results(fake_internet: FakeInternet) -> None:
    async with httpx.AsyncClient() as client:
        hits = await BraveProvider(fake_internet.page("/brave/web/search"), "brave-key").search(client, "sky", count=2)
        with pytest.raises(ProviderError) as failed:
            await BraveProvider(fake_internet.page("/brave/web/search"), "wrong").search(client, "sky", count=2)
    assert [hit.url for hit in hits] == [fake_internet.page("/articles/sky"), fake_internet.page("/articles/ocean")]
    assert hits[0].snippet == "Rayleigh scattering..."
    assert failed.value.reason == "http_error"


async def test_tavily_sends_its_key_and_reads_results(fake_internet: FakeInternet) -> None:
    async with httpx.AsyncClient() as client:
        hits = await TavilyProvider(fake_internet.page("/tavily/search"), "tavily-key").search(client, "sky", count=3)
        with pytest.raises(ProviderError):
            await TavilyProvider(fake_internet.page("/tavily/search"), "wrong").search(client, "sky", count=3)
    assert len(hits) == 3
    assert hits[1].title == "Why the ocean looks blue"


def test_the_provider_comes_from_settings_and_a_hosted_one_needs_its_key(settings: Any) -> None:
    settings.WHALE_SEARCH_PROVIDER = "searxng"
    assert isinstance(provider_from_settings(), SearxngProvider)
    settings.WHALE_SEARCH_PROVIDER = "brave"
    settings.WHALE_BRAVE_API_KEY = ""
    assert provider_from_settings() is None
    settings.WHALE_BRAVE_API_KEY = "k"
    assert isinstance(provider_from_settings(), BraveProvider)
    settings.WHALE_SEARCH_PROVIDER = "tavily"
    settings.WHALE_TAVILY_API_KEY = "k"
    assert isinstance(provider_from_settings(), TavilyProvider)
    settings.WHALE_SEARCH_PROVIDER = "none"
    assert provider_from_settings() is None
    assert search_capabilities() == {"search": False, "search_provider": None}


@pytest.mark.django_db
def test_the_models_endpoint_tells_clients_whether_search_is_on(settings: Any) -> None:
    user = User.objects.create_user(email="searcher@example.com", password="a-long-password-1")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")

    def search_capabilities() -> dict[str, Any]:
        capabilities = client.get("/api/v1/models").json()["capabilities"]
        capabilities.pop("files")  # issue 17's part of the capabilities (turns/tests/test_api.py)
        return capabilities

    settings.WHALE_SEARCH_PROVIDER = "searxng"
    assert search_capabilities() == {"search": True, "search_provider": "searxng"}
    settings.WHALE_SEARCH_PROVIDER = "none"
    assert search_capabilities() == {"search": False, "search_provider": None}
