"""The app API's JWT authentication: simplejwt's, plus a clear 403 for a suspended account."""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from common.errors import PermissionDenied

from . import selectors

ACCOUNT_SUSPENDED = "This account is suspended. Contact support if you think this is a mistake."


class AccountSuspended(PermissionDenied):
    code = "account_suspended"
    default_message = ACCOUNT_SUSPENDED


def raise_if_suspended(user_id: object) -> None:
    user = selectors.user_get(user_id=user_id)
    if user is not None and user.is_suspended:
        raise AccountSuspended()


class WhaleJWTAuthentication(JWTAuthentication):
    """An access token of a suspended user is refused at once, though it has not expired."""

    def get_user(self, validated_token: Any) -> Any:
        try:
            user = super().get_user(validated_token)
        except AuthenticationFailed:
            raise_if_suspended(validated_token.get(jwt_settings.USER_ID_CLAIM))
            raise
        if not selectors.user_may_authenticate(user):
            raise_if_suspended(user.pk)
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        return user


class WhaleJWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of the class above: the same bearer JWT as simplejwt's."""

    target_class = "accounts.authentication.WhaleJWTAuthentication"
