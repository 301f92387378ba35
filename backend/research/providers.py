"""Search providers behind one small interface: SearXNG's JSON API (self-hosted), Brave Search, Tavily."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from django.conf import settings

MAX_RESULT_TEXT = 1000  # characters of a result's snippet kept


@dataclass(frozen=True)
class SearchHit:
    url: str
    title: str
    snippet: str


class ProviderError(Exception):
    """The provider could not answer (timeout, HTTP error, unreadable body); `reason` labels the metric."""

    def __init__(self, provider: str, reason: str, detail: str = "") -> None:
        super().__init__(f"{provider}: {reason} {detail}".strip())
        self.provider = provider
        self.reason = reason


class SearchProvider(Protocol):
    name: str

    async def search(self, client: httpx.AsyncClient, query: str, *, count: int) -> list[SearchHit]: ...


def _hits(items: Any, *, url_key: str, title_key: str, snippet_key: str, count: int) -> list[SearchHit]:
    hits: list[SearchHit] = []
    if not isinstance(items, list):
        return hits
    for item in items:
        if not isinstance(item, dict):
            continue
        url = item.get(url_key)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            continue
        title = item.get(title_key) if isinstance(item.get(title_key), str) else ""
        snippet = item.get(snippet_key) if isinstance(item.get(snippet_key), str) else ""
        hits.append(SearchHit(url=url, title=str(title)[:300], snippet=str(snippet)[:MAX_RESULT_TEXT]))
        if len(hits) >= count:
            break
    return hits


async def _get_json(provider: str, client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = await client.request(method, url, timeout=settings.WHALE_SEARCH_TIMEOUT_SECONDS, **kwargs)
    except httpx.TimeoutException as exc:
        raise ProviderError(provider, "timeout") from exc
    except httpx.HTTPError as exc:
        raise ProviderError(provider, "unreachable", type(exc).__name__) from exc
    if response.status_code != 200:
        raise ProviderError(provider, "http_error", str(response.status_code))
    try:
        body = response.json()
    except ValueError as exc:
        raise ProviderError(provider, "bad_response", "not JSON") from exc
    if not isinstance(body, dict):
        raise ProviderError(provider, "bad_response", "not an object")
    return body


class SearxngProvider:
    """SearXNG's JSON API (`/search?format=json`; the instance must list json under search.formats)."""

    name = "searxng"

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    async def search(self, client: httpx.AsyncClient, query: str, *, count: int) -> list[SearchHit]:
        params = {"q": query, "format": "json", "pageno": "1", "safesearch": "1"}
        body = await _get_json(self.name, client, "GET", f"{self.base_url}/search", params=params)
        return _hits(body.get("results"), url_key="url", title_key="title", snippet_key="content", count=count)


class BraveProvider:
    """Brave Search's Web Search API, by subscription token."""

    name = "brave"

    def __init__(self, url: str, api_key: str) -> None:
        self.url = url
        self.api_key = api_key

    async def search(self, client: httpx.AsyncClient, query: str, *, count: int) -> list[SearchHit]:
        headers = {"X-Subscription-Token": self.api_key, "Accept": "application/json"}
        params = {"q": query, "count": str(min(count, 20))}
        body = await _get_json(self.name, client, "GET", self.url, params=params, headers=headers)
        web = body.get("web")
        if not isinstance(web, dict):
            return []
        return _hits(web.get("results"), url_key="url", title_key="title", snippet_key="description", count=count)


class TavilyProvider:
    """Tavily's search API, by API key (sent as a bearer token)."""

    name = "tavily"

    def __init__(self, url: str, api_key: str) -> None:
        self.url = url
        self.api_key = api_key

    async def search(self, client: httpx.AsyncClient, query: str, *, count: int) -> list[SearchHit]:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        payload = {"query": query, "max_results": min(count, 20), "search_depth": "basic"}
        body = await _get_json(self.name, client, "POST", self.url, json=payload, headers=headers)
        return _hits(body.get("results"), url_key="url", title_key="title", snippet_key="content", count=count)


def provider_from_settings() -> SearchProvider | None:
    """The configured provider, or None when Search is off (WHALE_SEARCH_PROVIDER=none or a missing key)."""
    name = settings.WHALE_SEARCH_PROVIDER
    if name == "searxng" and settings.WHALE_SEARXNG_URL:
        return SearxngProvider(settings.WHALE_SEARXNG_URL)
    if name == "brave" and settings.WHALE_BRAVE_API_KEY:
        return BraveProvider(settings.WHALE_BRAVE_URL, settings.WHALE_BRAVE_API_KEY)
    if name == "tavily" and settings.WHALE_TAVILY_API_KEY:
        return TavilyProvider(settings.WHALE_TAVILY_URL, settings.WHALE_TAVILY_API_KEY)
    return None


def search_capabilities() -> dict[str, Any]:
    """What clients learn about Search: whether the toggle shows, and which provider answers."""
    provider = provider_from_settings()
    return {"search": provider is not None, "search_provider": provider.name if provider else None}
