"""DRF permissions other apps use: CanChat keeps unverified accounts out of chat when the setting asks."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from common.errors import PermissionDenied

EMAIL_NOT_VERIFIED = "Verify your email address to chat."


class CanChat(BasePermission):
    """Signed-in users may chat; with WHALE_REQUIRE_VERIFIED_EMAIL_TO_CHAT on, only verified ones (else 403)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False  # DRF answers 401 not_authenticated
        if settings.WHALE_REQUIRE_VERIFIED_EMAIL_TO_CHAT and not getattr(user, "email_verified", False):
            raise PermissionDenied(EMAIL_NOT_VERIFIED, code="email_not_verified")
        return True
