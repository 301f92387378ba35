"""One DRF exception handler that renders every error as {"error": {code, message, fields?}}."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from redis.exceptions import RedisError
from rest_framework import exceptions as drf
from rest_framework.response import Response

from .errors import ApplicationError, RequestTooLarge, error_body
from .metrics import rejection_observed

__all__ = ["error_body", "exception_handler"]

logger = logging.getLogger(__name__)


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        out: list[str] = []
        for key, value in detail.items():
            out.extend(f"{key}: {msg}" for msg in _flatten(value))
        return out
    if isinstance(detail, list):
        out = []
        for item in detail:
            out.extend(_flatten(item))
        return out
    return [str(detail)]


def _fields_from_detail(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(key): _flatten(value) for key, value in detail.items()}
    return {"non_field_errors": _flatten(detail)}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):  # over DATA_UPLOAD_MAX_MEMORY_SIZE: a clear 413, not a 500
        exc = RequestTooLarge(
            f"The request body is too large (at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024} KiB)."
        )
    if isinstance(exc, ApplicationError):
        rejection_observed(status=exc.status_code, code=exc.code, extra=exc.extra)
        return Response(
            error_body(exc.code, exc.message, exc.fields, **exc.extra), status=exc.status_code, headers=exc.headers
        )
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(error_body("invalid", "Some fields are invalid.", fields), status=400)
    if isinstance(exc, Http404):
        return Response(error_body("not_found", "Not found."), status=404)
    if isinstance(exc, DjangoPermissionDenied):
        return Response(error_body("permission_denied", "You do not have permission to do this."), status=403)
    if isinstance(exc, drf.ValidationError):
        return Response(error_body("invalid", "Some fields are invalid.", _fields_from_detail(exc.detail)), status=400)
    if isinstance(exc, drf.APIException):
        headers: dict[str, str] = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
        code = exc.get_codes()
        code_str = code if isinstance(code, str) else exc.default_code
        if isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
            code_str = "not_authenticated" if isinstance(exc, drf.NotAuthenticated) else "authentication_failed"
        detail = exc.detail
        message = str(detail) if not isinstance(detail, (dict, list)) else "; ".join(_flatten(detail))
        return Response(error_body(str(code_str), message), status=exc.status_code, headers=headers)
    if isinstance(exc, (OperationalError, InterfaceError, RedisError)):
        # The database or Redis is down (a restart, a failover) or every pooled connection is busy:
        # a brief outage or overload, not a bug. The client retries.
        logger.warning("%s unavailable: %s", "Redis" if isinstance(exc, RedisError) else "database", exc)
        return Response(
            error_body("service_unavailable", "The service is busy right now. Please try again in a moment."),
            status=503,
            headers={"Retry-After": "2"},
        )
    logger.exception("Unhandled error in API view", exc_info=exc)
    return Response(error_body("server_error", "Something went wrong on our side. Please try again."), status=500)
