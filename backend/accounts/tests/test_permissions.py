"""CanChat: signed-in users may chat; with the setting on, only those who verified their email."""

from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from accounts.permissions import CanChat

from .factories import UserFactory

pytestmark = pytest.mark.django_db


class ChatLikeView(APIView):
    permission_classes = [IsAuthenticated, CanChat]

    def post(self, request: Request) -> Response:
        return Response({"ok": True})


def _call(user=None):
    request = APIRequestFactory().post("/chat-like", {}, format="json")
    if user is not None:
        force_authenticate(request, user=user)
    return ChatLikeView.as_view()(request)


@override_settings(WHALE_REQUIRE_VERIFIED_EMAIL_TO_CHAT=True)
def test_an_unverified_user_cannot_chat_when_verification_is_required() -> None:
    response = _call(UserFactory(email_verified_at=None))

    assert response.status_code == 403
    assert response.data["error"]["code"] == "email_not_verified"


@override_settings(WHALE_REQUIRE_VERIFIED_EMAIL_TO_CHAT=True)
def test_a_verified_user_can_chat_when_verification_is_required() -> None:
    assert _call(UserFactory()).status_code == 200


@override_settings(WHALE_REQUIRE_VERIFIED_EMAIL_TO_CHAT=False)
def test_an_unverified_user_can_chat_when_verification_is_not_required() -> None:
    assert _call(UserFactory(email_verified_at=None)).status_code == 200


@override_settings(WHALE_REQUIRE_VERIFIED_EMAIL_TO_CHAT=True)
def test_an_anonymous_caller_is_asked_to_authenticate_not_to_verify() -> None:
    response = _call()

    assert response.status_code == 401
