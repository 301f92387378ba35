"""Authenticates the streaming endpoints (SSE and WebSocket) with the same access JWTs as the API."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError

from accounts.authentication import WhaleJWTAuthentication
from accounts.models import User
from accounts.selectors import user_may_authenticate

_jwt = JWTAuthentication()
# Our access tokens are a few hundred characters: a longer one is refused before it is decoded.
ACCESS_TOKEN_MAX_CHARS = 4096


def user_from_access_token(raw: str | None) -> User | None:
    """The active user a raw access token belongs to, or None for a missing, bad or revoked one."""
    if not raw or len(raw) > ACCESS_TOKEN_MAX_CHARS:
        return None
    try:
        validated = _jwt.get_validated_token(raw.encode())
        user: Any = _jwt.get_user(validated)
    except (InvalidToken, TokenError, AuthenticationFailed):
        return None
    if not user_may_authenticate(user):
        return None
    return user


def access_token_expiry(raw: str | None) -> float | None:
    """When a valid access token expires (epoch seconds), or None if it cannot be read."""
    if not raw or len(raw) > ACCESS_TOKEN_MAX_CHARS:
        return None
    try:
        exp = _jwt.get_validated_token(raw.encode()).get("exp")
    except (InvalidToken, TokenError):
        return None
    return float(exp) if isinstance(exp, (int, float)) else None


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class QueryTokenAuthentication(WhaleJWTAuthentication):
    """`?token=<access>` for the streaming endpoints only: browsers' EventSource cannot set headers."""

    def authenticate(self, request: Any) -> Any:
        raw = request.query_params.get("token") if hasattr(request, "query_params") else None
        if not raw:
            return None
        if len(raw) > ACCESS_TOKEN_MAX_CHARS:
            raise AuthenticationFailed("Given token not valid for any token type", code="token_not_valid")
        validated = self.get_validated_token(raw.encode())
        return self.get_user(validated), validated


class QueryTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "turns.auth.QueryTokenAuthentication"
    name = "queryToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "query", "name": "token"}
