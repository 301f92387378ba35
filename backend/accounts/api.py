"""HTTP endpoints of accounts under /api/v1/: auth (register, verify, login, tokens, reset) and /me."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from common.errors import NotAuthenticated
from common.schema import ErrorResponseSerializer, error_responses

from . import selectors, serializers, services
from .limits import client_ip
from .models import User

REFRESH_COOKIE = "whale_refresh"
REFRESH_COOKIE_PATH = "/api/v1/auth/"
WEB_CLIENT_HEADER = "X-Whale-Client"
AUTH_TAG = "auth"
ME_TAG = "me"

WEB_CLIENT_PARAMETER = OpenApiParameter(
    name=WEB_CLIENT_HEADER,
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "`web`: the refresh token travels in the HttpOnly `whale_refresh` cookie (path /api/v1/auth/) "
        "instead of the JSON body. Other values are ignored."
    ),
)


def _is_web(request: Request) -> bool:
    return request.headers.get(WEB_CLIENT_HEADER, "").strip().lower() == "web"


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _parse(serializer_class: type[Any], request: Request) -> dict[str, Any]:
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return dict(body.validated_data)


def _token_response(
    request: Request, tokens: services.TokenPair, *, user: User | None = None, status_code: int = 200
) -> Response:
    """The token pair in the body; for web clients the refresh token goes into the HttpOnly cookie instead."""
    body: dict[str, Any] = {"access": tokens.access, "refresh": tokens.refresh}
    if user is not None:
        body = {"user": serializers.UserSerializer(user).data, **body}
    web = _is_web(request)
    if web:
        del body["refresh"]
    response = Response(body, status=status_code)
    if web:
        response.set_cookie(
            REFRESH_COOKIE,
            tokens.refresh,
            max_age=int(jwt_settings.REFRESH_TOKEN_LIFETIME.total_seconds()),
            path=REFRESH_COOKIE_PATH,
            secure=not settings.DEBUG,
            httponly=True,
            samesite="Strict",
        )
    return response


def _clear_refresh_cookie(response: Response) -> Response:
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH, samesite="Strict")
    return response


def _refresh_token_from(request: Request) -> str:
    """The body's refresh token; for web clients the cookie's when the body has none; "" when neither."""
    token = _parse(serializers.RefreshSerializer, request).get("refresh")
    if not token and _is_web(request):
        cookie = request.COOKIES.get(REFRESH_COOKIE, "")
        if len(cookie) <= serializers.TOKEN_MAX_LENGTH:
            token = cookie
    return str(token or "")


class PublicView(APIView):
    """Endpoints used without an access token: a stale Authorization header must not get in the way."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]


class RegisterView(PublicView):
    @extend_schema(
        operation_id="auth_register",
        tags=[AUTH_TAG],
        summary="Create an account",
        description="Creates the account, signs it in and emails a 6-digit code to verify the address.",
        parameters=[WEB_CLIENT_PARAMETER],
        request=serializers.RegisterSerializer,
        responses={
            201: serializers.AuthResponse,
            **error_responses(400),
            409: OpenApiResponse(
                ErrorResponseSerializer, description="`email_taken`: the address already has an account."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = _parse(serializers.RegisterSerializer, request)
        signed_in = services.user_register(
            email=data["email"], password=data["password"], display_name=data.get("display_name", "")
        )
        return _token_response(request, signed_in.tokens, user=signed_in.user, status_code=status.HTTP_201_CREATED)


class LoginView(PublicView):
    @extend_schema(
        operation_id="auth_login",
        tags=[AUTH_TAG],
        summary="Sign in",
        description=(
            "A wrong password and an unknown email get the same `401 invalid_credentials`, whatever the account's "
            "state. The right password for a suspended account gets `403 account_suspended`. Too many failures for "
            "the account or from the IP get `429 too_many_attempts` with `Retry-After`, even with the right password."
        ),
        parameters=[WEB_CLIENT_PARAMETER],
        request=serializers.LoginSerializer,
        responses={200: serializers.AuthResponse, **error_responses(400, 401, 403, 429)},
    )
    def post(self, request: Request) -> Response:
        data = _parse(serializers.LoginSerializer, request)
        signed_in = services.user_login(email=data["email"], password=data["password"], ip=client_ip(request))
        return _token_response(request, signed_in.tokens, user=signed_in.user)


class RefreshView(PublicView):
    @extend_schema(
        operation_id="auth_refresh",
        tags=[AUTH_TAG],
        summary="Trade a refresh token for a new pair",
        description="Refresh tokens are single use: the one sent is revoked.",
        parameters=[WEB_CLIENT_PARAMETER],
        request=serializers.RefreshSerializer,
        responses={200: serializers.TokenPairResponse, **error_responses(400, 401)},
    )
    def post(self, request: Request) -> Response:
        refresh = _refresh_token_from(request)
        if not refresh:
            raise NotAuthenticated("No refresh token was sent.", code="invalid_refresh_token")
        tokens = services.token_refresh(refresh=refresh)
        return _token_response(request, tokens)


class LogoutView(PublicView):
    @extend_schema(
        operation_id="auth_logout",
        tags=[AUTH_TAG],
        summary="Sign out this session",
        description=(
            "Revokes the refresh token and clears the web cookie. Already revoked or missing tokens are fine."
        ),
        parameters=[WEB_CLIENT_PARAMETER],
        request=serializers.RefreshSerializer,
        responses={204: None, **error_responses(400)},
    )
    def post(self, request: Request) -> Response:
        refresh = _refresh_token_from(request)
        if refresh:  # without one there is nothing to revoke; the cookie is cleared all the same
            services.token_revoke(refresh=refresh)
        return _clear_refresh_cookie(Response(status=status.HTTP_204_NO_CONTENT))


class VerifyEmailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_verify_email",
        tags=[AUTH_TAG],
        summary="Verify the email address with the emailed code",
        description=(
            "`400 invalid_code` when the code is wrong, expired, used, or has had too many wrong tries "
            "(then ask for a new one)."
        ),
        request=serializers.VerifyEmailSerializer,
        responses={200: serializers.UserEnvelope, **error_responses(400, 401)},
    )
    def post(self, request: Request) -> Response:
        data = _parse(serializers.VerifyEmailSerializer, request)
        user = services.email_verify(user=_user(request), code=data["code"])
        return Response({"user": serializers.UserSerializer(user).data})


class VerifyEmailResendView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_verify_email_resend",
        tags=[AUTH_TAG],
        summary="Email a new verification code",
        description="Replaces the previous code. Nothing is sent when the address is already verified.",
        request=None,
        responses={202: None, **error_responses(401, 429)},
    )
    def post(self, request: Request) -> Response:
        services.email_verification_send(user=_user(request))
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetView(PublicView):
    @extend_schema(
        operation_id="auth_password_reset",
        tags=[AUTH_TAG],
        summary="Email a password reset code",
        description="Always 202: the answer never tells whether the address has an account.",
        request=serializers.PasswordResetSerializer,
        responses={202: None, **error_responses(400)},
    )
    def post(self, request: Request) -> Response:
        data = _parse(serializers.PasswordResetSerializer, request)
        services.password_reset_request(email=data["email"])
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(PublicView):
    @extend_schema(
        operation_id="auth_password_reset_confirm",
        tags=[AUTH_TAG],
        summary="Set a new password with the emailed code",
        description="Signs every session out. `400 invalid_code` for a wrong, expired or used code.",
        request=serializers.PasswordResetConfirmSerializer,
        responses={204: None, **error_responses(400)},
    )
    def post(self, request: Request) -> Response:
        data = _parse(serializers.PasswordResetConfirmSerializer, request)
        services.password_reset_confirm(email=data["email"], code=data["code"], new_password=data["new_password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="me_retrieve",
        tags=[ME_TAG],
        summary="The signed-in user",
        responses={200: serializers.UserSerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(serializers.UserSerializer(_user(request)).data)

    @extend_schema(
        operation_id="me_update",
        tags=[ME_TAG],
        summary="Change the display name",
        request=serializers.MeUpdateSerializer,
        responses={200: serializers.UserEnvelope, **error_responses(400, 401)},
    )
    def patch(self, request: Request) -> Response:
        data = _parse(serializers.MeUpdateSerializer, request)
        user = services.user_update(user=_user(request), display_name=data.get("display_name"))
        return Response({"user": serializers.UserSerializer(user).data})


class PasswordChangeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="me_password_change",
        tags=[ME_TAG],
        summary="Change the password",
        description=(
            "Needs the current password. Every session is signed out (their refresh and access tokens stop "
            "working); the answer carries a fresh pair for this one. Wrong current passwords count towards "
            "the sign-in limit."
        ),
        parameters=[WEB_CLIENT_PARAMETER],
        request=serializers.PasswordChangeSerializer,
        responses={200: serializers.TokenPairResponse, **error_responses(400, 401, 429)},
    )
    def post(self, request: Request) -> Response:
        data = _parse(serializers.PasswordChangeSerializer, request)
        tokens = services.password_change(
            user=_user(request),
            current_password=data["current_password"],
            new_password=data["new_password"],
            ip=client_ip(request),
        )
        return _token_response(request, tokens)


class DeleteAccountView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="me_delete",
        tags=[ME_TAG],
        summary="Delete the account for good",
        description=(
            "Needs the password (a wrong one: `400 wrong_password` with `error.fields.password`). Removes the "
            "account with every conversation, message and share link. This cannot be undone."
        ),
        request=serializers.DeleteAccountSerializer,
        responses={204: None, **error_responses(400, 401, 429)},
    )
    def post(self, request: Request) -> Response:
        data = _parse(serializers.DeleteAccountSerializer, request)
        services.user_delete(user=_user(request), password=data["password"], ip=client_ip(request))
        return _clear_refresh_cookie(Response(status=status.HTTP_204_NO_CONTENT))


class ExportView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="me_export",
        tags=[ME_TAG],
        summary="Download all my data",
        description=(
            "A JSON file (`Content-Disposition: attachment`) with the profile, every conversation with every "
            "message of every branch (linked by `parent_id`), and the share links."
        ),
        responses={
            200: OpenApiResponse(serializers.DataExportSerializer, description="The export file."),
            **error_responses(401),
        },
    )
    def get(self, request: Request) -> Response:
        export = selectors.user_export(user=_user(request))
        filename = f"whale-export-{timezone.now():%Y-%m-%d}.json"
        return Response(
            serializers.DataExportSerializer(export).data,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
