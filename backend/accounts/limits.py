"""Redis counters that slow down password guessing (per account and per IP) and code-mail flooding."""

from __future__ import annotations

import hashlib
import ipaddress

from django.conf import settings
from django.http import HttpRequest

from common.errors import RateLimited
from common.redis import get_redis, key

# How many code emails (verification or reset) one account may be sent per hour, per purpose.
EMAIL_CODE_SENDS_PER_HOUR = 5
EMAIL_CODE_SEND_WINDOW_SECONDS = 60 * 60

TOO_MANY_ATTEMPTS_MESSAGE = "Too many failed attempts. Try again later."


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the X-Forwarded-For entry our trusted proxies appended.

    Behind a reverse proxy, either have it (or uvicorn's --proxy-headers) set REMOTE_ADDR, or set
    WHALE_TRUSTED_PROXY_COUNT to the number of proxies. X-Forwarded-For is ignored otherwise, because
    a client can write anything into it. IPv6 clients are counted per /64, the block one host gets.
    """
    raw = request.META.get("REMOTE_ADDR", "") or ""
    hops = settings.WHALE_TRUSTED_PROXY_COUNT
    if hops > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            raw = forwarded[-hops]
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False).network_address) + "/64"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def _account_key(email: str) -> str:
    # Hashed so Redis never holds the address itself.
    digest = hashlib.sha256(email.encode()).hexdigest()[:32]
    return key("accounts", "login-failures", "account", digest)


def _ip_key(ip: str) -> str:
    return key("accounts", "login-failures", "ip", ip)


def login_failures_check(*, email: str, ip: str) -> None:
    """Refuses the attempt (429 too_many_attempts) while the account or the IP is over its limit."""
    client = get_redis()
    limits = (
        (_account_key(email), settings.WHALE_LOGIN_MAX_FAILURES_PER_ACCOUNT),
        (_ip_key(ip), settings.WHALE_LOGIN_MAX_FAILURES_PER_IP),
    )
    pipe = client.pipeline(transaction=False)
    for redis_key, _limit in limits:
        pipe.get(redis_key)
        pipe.ttl(redis_key)
    results = pipe.execute()
    retry_after = 0
    for index, (_redis_key, limit) in enumerate(limits):
        count, ttl = results[2 * index], results[2 * index + 1]
        if count is not None and int(count) >= limit:
            retry_after = max(retry_after, ttl if ttl and ttl > 0 else settings.WHALE_LOGIN_LOCKOUT_SECONDS)
    if retry_after:
        raise RateLimited(TOO_MANY_ATTEMPTS_MESSAGE, retry_after=retry_after, code="too_many_attempts")


def login_failure_record(*, email: str, ip: str) -> None:
    """Counts one failed attempt; each failure restarts the lockout window of both counters."""
    lockout = settings.WHALE_LOGIN_LOCKOUT_SECONDS
    pipe = get_redis().pipeline(transaction=True)
    for redis_key in (_account_key(email), _ip_key(ip)):
        pipe.incr(redis_key)
        pipe.expire(redis_key, lockout)
    pipe.execute()


def login_failures_clear(*, email: str) -> None:
    """A successful sign-in forgives the account's failures (not the IP's: it may be guessing others)."""
    get_redis().delete(_account_key(email))


def email_code_send_allowed(*, user_id: object, purpose: str) -> int:
    """Counts one code email; returns 0 when it may be sent, else the seconds until it may."""
    redis_key = key("accounts", "email-code-sends", purpose, user_id)
    pipe = get_redis().pipeline(transaction=True)
    pipe.incr(redis_key)
    pipe.expire(redis_key, EMAIL_CODE_SEND_WINDOW_SECONDS, nx=True)
    pipe.ttl(redis_key)
    count, _set, ttl = pipe.execute()
    if int(count) > EMAIL_CODE_SENDS_PER_HOUR:
        return ttl if ttl and ttl > 0 else EMAIL_CODE_SEND_WINDOW_SECONDS
    return 0
