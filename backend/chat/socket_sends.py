"""Sends over the user's WebSocket (/ws/events/): a turn that costs no HTTP request at all.

The socket's frames mirror the HTTP sends: `send` (with `conversation_id`, or null for a new chat's
first message) and `regenerate` answer `sent` with the 202 body, or `refused` with the status and the
one error shape, exactly as the HTTP endpoints would. The consumer then streams the turn's events on
the same socket (docs/api.md, "Sending over the user's socket")."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from django.conf import settings
from rest_framework import exceptions as drf
from turns import preparing

from accounts.authentication import raise_if_suspended
from accounts.models import User
from accounts.permissions import EMAIL_NOT_VERIFIED
from accounts.selectors import user_get, user_may_authenticate
from common.exceptions import exception_handler

from . import send_serializers as serializers
from . import sends
from .send_api import created_body

REQUEST_ID_MAX_CHARS = 64
FRAME_TYPES = ("send", "regenerate")


def _request_id(frame: dict[str, Any]) -> str | None:
    value = frame.get("request_id")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > REQUEST_ID_MAX_CHARS:
        raise drf.ValidationError({"request_id": [f"A string of at most {REQUEST_ID_MAX_CHARS} characters."]})
    return value


def _valid(serializer: serializers.serializers.Serializer) -> dict[str, Any]:
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _as_uuid(frame: dict[str, Any], name: str) -> Any:
    field = serializers.serializers.UUIDField()
    try:
        return field.to_internal_value(frame.get(name))  # type: ignore[arg-type]  # None is refused here too
    except drf.ValidationError as exc:
        raise drf.ValidationError({name: exc.detail}) from exc


def _created(user: User, frame: dict[str, Any]) -> sends.TurnCreated:
    body = {key: value for key, value in frame.items() if key not in ("type", "request_id", "conversation_id")}
    if frame["type"] == "regenerate":
        data = _valid(serializers.RegenerateRequest(data=body))
        options = preparing.turn_options_check(user=user, search=data.get("search"), file_ids=[])
        with preparing.turn_options(replace(options, regenerate=True)):
            return sends.turn_regenerate(
                user=user, message_id=_as_uuid(frame, "message_id"), deepthink=data.get("deepthink")
            )
    if frame.get("conversation_id") is None:
        data = _valid(serializers.FirstMessageRequest(data=body))
        with preparing.turn_options(_options(user, data)):
            return sends.turn_send_first(user=user, content=data["content"], deepthink=data["deepthink"])
    data = _valid(serializers.SendMessageRequest(data=body))
    kwargs = {"parent_id": data["parent_id"]} if "parent_id" in data else {}
    with preparing.turn_options(_options(user, data)):
        return sends.turn_send(
            user=user,
            conversation_id=_as_uuid(frame, "conversation_id"),
            content=data["content"],
            deepthink=data["deepthink"],
            **kwargs,
        )


def _options(user: User, data: dict[str, Any]) -> preparing.TurnOptions:
    """Search and files, checked (400, 404, 409) before anything is written, as on the HTTP send."""
    return preparing.turn_options_check(user=user, search=data.get("search"), file_ids=data.get("file_ids", []))


def _current_user(user_id: object, token_expires_at: float | None, now: float) -> User:
    """The socket's user as the HTTP send would see them now: the access token the socket opened with
    still valid, the account active and not suspended."""
    if token_expires_at is not None and now >= token_expires_at:
        raise drf.NotAuthenticated("The access token has expired: renew it and reconnect.")
    user = user_get(user_id=user_id)
    if user is None or not user_may_authenticate(user):
        raise_if_suspended(user_id)
        raise drf.NotAuthenticated()
    return user


def socket_send(
    user_id: object, frame: dict[str, Any], *, secure: bool, host: str, token_expires_at: float | None = None
) -> dict[str, Any]:
    """Runs one `send`/`regenerate` frame: the `sent` reply, or the `refused` one (never raises for a
    refusal the HTTP endpoint would answer with a 4xx or 503)."""
    request_id: str | None = None
    try:
        request_id = _request_id(frame)
        user = _current_user(user_id, token_expires_at, time.time())
        if settings.WHALE_REQUIRE_VERIFIED_EMAIL_TO_CHAT and not user.email_verified:
            raise drf.PermissionDenied(EMAIL_NOT_VERIFIED, code="email_not_verified")
        created = _created(user, frame)
    except Exception as exc:  # the HTTP exception handler decides; what it does not know re-raises
        response = exception_handler(exc, {})
        if response is None:
            raise
        reply: dict[str, Any] = {"type": "refused", "request_id": request_id, "status": response.status_code}
        reply.update(response.data)
        if response.has_header("Retry-After"):
            reply["retry_after"] = int(response["Retry-After"])
        return reply
    first = frame["type"] == "send" and frame.get("conversation_id") is None
    body = created_body(created, secure=secure, host=host, first=first)
    headers = created.admitted.headers() if created.admitted else {}
    return {"type": "sent", "request_id": request_id, **body, "rate_limit": headers}
