"""Limits a partner sets on its key for each of its own end users (`user` on /v1/, `metadata.user_id` on
/anthropic/v1/): requests per minute and tokens per day, on the same Redis counters as every limit.

An end user is a subject of its own, `key:<key id>:end:<hash of the name>`. Its tokens are reserved at
admission (its prompt plus the completion tokens granted, fewer when its day runs low) under the
reservation `<turn id>:end-user`, and settled to what the completion used when it is saved. A request
without an end user counts against the key only.
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from redis.exceptions import RedisError

from common.errors import RateLimited
from ratelimits import store
from ratelimits.services import MIN_COMPLETION_TOKENS, Admitted

from .models import ApiKey

logger = logging.getLogger(__name__)

END_USER_LIMIT_FIELDS = ("end_user_requests_per_minute", "end_user_tokens_per_day")
MESSAGES = {
    "requests_per_minute": "Too many requests this minute for this end user (`user`).",
    "tokens_per_day": "This end user (`user`) has used today's token allowance the key allows.",
}


def end_user_subject(*, api_key_id: object, end_user: str) -> str:
    digest = hashlib.sha256(end_user.encode()).hexdigest()[:32]
    return f"key:{api_key_id}:end:{digest}"


def _reservation_id(turn_id: object) -> str:
    return f"{turn_id}:end-user"


def has_end_user_limits(api_key: ApiKey) -> bool:
    return any(getattr(api_key, name) is not None for name in END_USER_LIMIT_FIELDS)


def end_user_admit(*, api_key: ApiKey, end_user: str, turn_id: object, admitted: Admitted) -> None:
    """Takes one request, and reserves tokens, for the end user; raises 429 `end_user_<limit>_exceeded`
    (with Retry-After) over a limit. Lowers `admitted.max_tokens` to what the end user has left.
    The caller gives the key's own admission back when this raises."""
    if not end_user or not has_end_user_limits(api_key):
        return
    tokens_per_day = api_key.end_user_tokens_per_day
    wanted = admitted.max_tokens
    try:
        taken = store.take(
            subject=end_user_subject(api_key_id=api_key.pk, end_user=end_user),
            limits={"requests_per_minute": api_key.end_user_requests_per_minute, "tokens_per_day": tokens_per_day},
            turn_id=_reservation_id(turn_id) if tokens_per_day is not None else None,
            prompt_tokens=admitted.prompt_tokens_estimate,
            max_completion_tokens=wanted,
            min_completion_tokens=min(MIN_COMPLETION_TOKENS, wanted),
            hold_seconds=settings.WHALE_TURN_DEADLINE_SECONDS,
            user_id=str(api_key.user_id),
            api_key_id=str(api_key.pk),
        )
    except RedisError:
        # The key's own admission reached Redis a moment ago; failing open here loses one request's count.
        logger.warning("end-user limits of key %s not checked", api_key.pk, exc_info=True)
        return
    if taken.refused:
        per_minute = taken.refused == "requests_per_minute"
        limit = f"end_user_{taken.refused}"
        raise RateLimited(
            MESSAGES.get(taken.refused, "An end-user limit was reached."),
            retry_after=taken.counters.seconds_to_next_minute if per_minute else taken.counters.seconds_to_next_day,
            code=f"{limit}_exceeded",
            extra={"limit": limit, "limit_value": getattr(api_key, limit)},
        )
    if tokens_per_day is not None:
        admitted.max_tokens = min(wanted, taken.granted_tokens)


def end_user_settle(*, turn_id: object, used_tokens: int) -> None:
    """Replaces the end user's reserved tokens by what the completion used (a no-op without a reservation).
    Runs after the completion is saved. Should Redis fail, or the completion's row be gone (its account was
    deleted while it ran), the reservation lapses with the turn's deadline and the end user's day keeps the
    reserved tokens: an overcount, never an undercount."""
    try:
        store.settle(turn_id=_reservation_id(turn_id), used_tokens=used_tokens)
    except RedisError:
        logger.warning("end-user usage of completion %s not settled", turn_id, exc_info=True)
