"""Fetching pages for a search safely: public http(s) hosts only, checked again on every redirect, bounded.

The host is resolved first and every address it resolves to must be public (not private, loopback,
link-local, multicast, reserved or a cloud metadata address); the request then goes to that checked
address, with the original Host header and TLS server name, so a second DNS answer cannot point the
connection elsewhere (DNS rebinding). Redirects are followed by hand, each hop checked the same way.
Bodies are read as a stream and cut at a maximum size; cookies are never kept and no credentials sent.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from urllib.parse import urljoin

import certifi
import httpx
from django.conf import settings

ALLOWED_CONTENT_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
# Metadata services some clouds answer on addresses that ipaddress does not call private or link-local.
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("100.100.100.200"), ipaddress.ip_address("fd00:ec2::254")})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchRefused(Exception):
    """A page that is not read; `reason` is short and stable (metrics label, logs)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class FetchPolicy:
    allow_loopback: bool
    max_bytes: int
    max_redirects: int
    total_timeout: float
    user_agent: str

    @classmethod
    def from_settings(cls) -> FetchPolicy:
        return cls(
            allow_loopback=settings.WHALE_FETCH_ALLOW_LOOPBACK,
            max_bytes=settings.WHALE_FETCH_MAX_BYTES,
            max_redirects=settings.WHALE_FETCH_MAX_REDIRECTS,
            total_timeout=settings.WHALE_FETCH_TOTAL_TIMEOUT_SECONDS,
            user_agent=settings.WHALE_FETCH_USER_AGENT,
        )


@dataclass(frozen=True)
class FetchedPage:
    url: str  # the final URL, after redirects
    content_type: str
    body: bytes
    truncated: bool  # cut at the policy's max_bytes


def address_allowed(address: IPAddress, *, allow_loopback: bool) -> bool:
    """Public unicast addresses only; loopback only with the explicit allowance (tests, a local provider)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return allow_loopback
    if address in METADATA_ADDRESSES:
        return False
    return address.is_global and not address.is_multicast


def no_cookies() -> CookieJar:
    """A cookie jar that accepts none, so nothing a page sets is sent to the next one."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: loading the CA bundle costs about 30 ms of CPU a client."""
    return ssl.create_default_context(cafile=certifi.where())


def fetch_client(*, connections: int = 32) -> httpx.AsyncClient:
    """The client pages are fetched with: no redirects followed by httpx, no environment proxies or netrc."""
    return httpx.AsyncClient(
        verify=tls_context(),
        follow_redirects=False,
        trust_env=False,
        cookies=no_cookies(),
        timeout=httpx.Timeout(
            connect=settings.WHALE_FETCH_CONNECT_TIMEOUT_SECONDS,
            read=settings.WHALE_FETCH_READ_TIMEOUT_SECONDS,
            write=settings.WHALE_FETCH_READ_TIMEOUT_SECONDS,
            pool=settings.WHALE_FETCH_CONNECT_TIMEOUT_SECONDS,
        ),
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


async def resolve_checked(host: str, port: int, *, allow_loopback: bool) -> IPAddress:
    """The first address of `host`, after checking that every address it resolves to may be fetched."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchRefused("unresolvable", host) from exc
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        if not addresses:
            raise FetchRefused("unresolvable", host)
    for address in addresses:
        if not address_allowed(address, allow_loopback=allow_loopback):
            raise FetchRefused("blocked_address", f"{host} -> {address}")
    return addresses[0]


def _checked_url(raw: str) -> httpx.URL:
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise FetchRefused("bad_url") from exc
    if url.scheme not in ("http", "https"):
        raise FetchRefused("bad_scheme", url.scheme)
    if url.userinfo:
        raise FetchRefused("credentials_in_url")
    if not url.host:
        raise FetchRefused("bad_url")
    return url


async def _read_capped(response: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        room = max_bytes - size
        if len(chunk) >= room:
            chunks.append(chunk[:room])
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), False


async def _fetch(client: httpx.AsyncClient, raw_url: str, policy: FetchPolicy) -> FetchedPage:
    current = raw_url
    for _hop in range(policy.max_redirects + 1):
        url = _checked_url(current)
        port = url.port or (443 if url.scheme == "https" else 80)
        address = await resolve_checked(url.host, port, allow_loopback=policy.allow_loopback)
        host_header = f"[{url.host}]" if ":" in url.host else url.host
        if url.port is not None:
            host_header = f"{host_header}:{url.port}"
        target = url.copy_with(host=str(address))
        headers = {
            "Host": host_header,
            "User-Agent": policy.user_agent,
            "Accept": "text/html,application/xhtml+xml,text/plain;q=0.8",
        }
        extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
        async with client.stream("GET", target, headers=headers, extensions=extensions) as response:
            if response.is_redirect:
                location = response.headers.get("location")
                if not location:
                    raise FetchRefused("bad_redirect")
                current = urljoin(str(url), location)
                continue
            if response.status_code != 200:
                raise FetchRefused("http_status", str(response.status_code))
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type not in ALLOWED_CONTENT_TYPES:
                raise FetchRefused("content_type", content_type or "missing")
            body, truncated = await _read_capped(response, policy.max_bytes)
            return FetchedPage(url=str(url), content_type=content_type, body=body, truncated=truncated)
    raise FetchRefused("too_many_redirects")


async def fetch_page(client: httpx.AsyncClient, url: str, *, policy: FetchPolicy | None = None) -> FetchedPage:
    """One page, or FetchRefused: a bad or blocked URL, a timeout, an error status, a type we do not read."""
    policy = policy or FetchPolicy.from_settings()
    try:
        async with asyncio.timeout(policy.total_timeout):
            return await _fetch(client, url, policy)
    except TimeoutError as exc:
        raise FetchRefused("timeout") from exc
    except httpx.TimeoutException as exc:
        raise FetchRefused("timeout") from exc
    except httpx.HTTPError as exc:
        raise FetchRefused("network", type(exc).__name__) from exc
