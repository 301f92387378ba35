"""Safe fetching: public addresses only (checked on every redirect), bounded size and time, no cookies."""

from __future__ import annotations

import dataclasses
import ipaddress
from typing import Any
from urllib.parse import quote

import pytest

from research import fetching
from research.fetching import FetchPolicy, FetchRefused, address_allowed, fetch_client, fetch_page

from .fake_internet import FakeInternet

PUBLIC_NAME = "news.example"  # a public host name the tests' DNS answers with the fake internet's address


@pytest.fixture
def public_dns(monkeypatch: pytest.MonkeyPatch, fake_internet: FakeInternet) -> str:
    """Makes news.example resolve, as a public host would, to the fake internet; everything else resolves as usual."""
    real = fetching.resolve_checked

    async def resolve(host: str, port: int, *, allow_loopback: bool) -> Any:
        if host == PUBLIC_NAME:
            return ipaddress.ip_address("127.0.0.1")
        return await real(host, port, allow_loopback=allow_loopback)

    monkeypatch.setattr(fetching, "resolve_checked", resolve)
    return f"http://{PUBLIC_NAME}:{fake_internet.port}"


def strict(**changes: Any) -> FetchPolicy:
    return dataclasses.replace(FetchPolicy.from_settings(), allow_loopback=False, **changes)


async def fetch(url: str, policy: FetchPolicy | None = None) -> fetching.FetchedPage:
    async with fetch_client() as client:
        return await fetch_page(client, url, policy=policy)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "::1",
        "::ffff:127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "fe80::1",
        "fd00:ec2::254",
        "100.100.100.200",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 - an address refused, not bound
        "224.0.0.1",
        "192.0.2.1",
    ],
)
def test_private_loopback_link_local_and_metadata_addresses_are_refused(address: str) -> None:
    assert not address_allowed(ipaddress.ip_address(address), allow_loopback=False)


def test_public_addresses_are_allowed_and_loopback_only_with_the_allowance() -> None:
    assert address_allowed(ipaddress.ip_address("93.184.215.14"), allow_loopback=False)
    assert address_allowed(ipaddress.ip_address("2606:4700::1111"), allow_loopback=False)
    assert address_allowed(ipaddress.ip_address("127.0.0.1"), allow_loopback=True)
    assert address_allowed(ipaddress.ip_address("::ffff:127.0.0.1"), allow_loopback=True)
    assert not address_allowed(ipaddress.ip_address("169.254.169.254"), allow_loopback=True)
    assert not address_allowed(ipaddress.ip_address("10.0.0.1"), allow_loopback=True)


async def test_loopback_is_refused_without_the_allowance(fake_internet: FakeInternet) -> None:
    for url in (fake_internet.page("/articles/sky"), f"http://localhost:{fake_internet.port}/articles/sky"):
        with pytest.raises(FetchRefused) as refused:
            await fetch(url, strict())
        assert refused.value.reason == "blocked_address"
    assert fake_internet.requests == []


async def test_a_public_page_is_read_without_the_allowance(public_dns: str, fake_internet: FakeInternet) -> None:
    page = await fetch(f"{public_dns}/articles/sky", strict())

    assert page.content_type == "text/html"
    assert b"inverse fourth power" in page.body
    assert page.url == f"{public_dns}/articles/sky"
    _, headers = fake_internet.requests[-1]
    assert headers["host"] == f"{PUBLIC_NAME}:{fake_internet.port}"  # sent to the checked address, named as asked


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/articles/sky", "http://169.254.169.254/latest/meta-data/"])
async def test_a_redirect_to_loopback_or_the_metadata_address_is_refused(
    public_dns: str, fake_internet: FakeInternet, target: str
) -> None:
    location = quote(target.format(port=fake_internet.port), safe="")

    with pytest.raises(FetchRefused) as refused:
        await fetch(f"{public_dns}/redirect?to={location}", strict())

    assert refused.value.reason == "blocked_address"
    assert [path for path, _ in fake_internet.requests] == ["/redirect"]  # the target was never asked


async def test_a_redirect_to_a_public_page_is_followed(public_dns: str) -> None:
    page = await fetch(f"{public_dns}/redirect?to=%2Farticles%2Focean", strict())
    assert page.url == f"{public_dns}/articles/ocean"
    assert b"absorbs red light" in page.body


async def test_redirects_are_bounded(fake_internet: FakeInternet) -> None:
    with pytest.raises(FetchRefused) as refused:
        await fetch(fake_internet.page("/loop"))
    assert refused.value.reason == "too_many_redirects"
    assert len(fake_internet.requests) == FetchPolicy.from_settings().max_redirects + 1


async def test_a_50_mb_page_is_cut_at_the_limit(fake_internet: FakeInternet) -> None:
    policy = dataclasses.replace(FetchPolicy.from_settings(), max_bytes=1024 * 1024)

    page = await fetch(fake_internet.page("/huge?mb=50"), policy)

    assert page.truncated
    assert len(page.body) == 1024 * 1024
    assert page.body.startswith(b"<html><body><article><p>Rayleigh scattering")


async def test_a_small_page_is_not_marked_cut(fake_internet: FakeInternet) -> None:
    page = await fetch(fake_internet.page("/articles/sky"))
    assert not page.truncated


async def test_a_page_that_drips_slowly_times_out(fake_internet: FakeInternet) -> None:
    policy = dataclasses.replace(FetchPolicy.from_settings(), total_timeout=0.5)
    with pytest.raises(FetchRefused) as refused:
        await fetch(fake_internet.page("/drip"), policy)
    assert refused.value.reason == "timeout"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/file.html", "bad_scheme"),
        ("file:///etc/passwd", "bad_scheme"),
        ("http://user:secret@example.com/", "credentials_in_url"),
        ("http:///nohost", "bad_url"),
        ("http://name.invalid/", "unresolvable"),
    ],
)
async def test_urls_that_are_not_plain_public_http_are_refused(url: str, reason: str) -> None:
    with pytest.raises(FetchRefused) as refused:
        await fetch(url)
    assert refused.value.reason == reason


async def test_other_content_types_and_error_statuses_are_refused(fake_internet: FakeInternet) -> None:
    with pytest.raises(FetchRefused) as refused:
        await fetch(fake_internet.page("/image.png"))
    assert refused.value.reason == "content_type"
    with pytest.raises(FetchRefused) as refused:
        await fetch(fake_internet.page("/missing"))
    assert refused.value.reason == "http_status"


async def test_no_cookie_is_kept_or_sent_and_the_user_agent_is_honest(
    fake_internet: FakeInternet, settings: Any
) -> None:
    async with fetch_client() as client:
        await fetch_page(client, fake_internet.page("/articles/sky"))  # answers with Set-Cookie
        await fetch_page(client, fake_internet.page("/articles/ocean"))
        assert len(client.cookies.jar) == 0
    _, headers = fake_internet.requests[-1]
    assert "cookie" not in headers
    assert "authorization" not in headers
    assert headers["user-agent"] == settings.WHALE_FETCH_USER_AGENT
    assert headers["user-agent"].startswith("WhaleBot/")
