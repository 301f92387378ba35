"""OpenAPI pieces every app shares: the one error body and a helper to declare error responses."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Invalid request; `error.fields` names the fields on validation errors.",
    401: "Missing, invalid or expired access token.",
    403: "Not allowed.",
    404: "Not found (also another user's object).",
    409: "Conflicts with the current state.",
    429: "Rate limited; see the `Retry-After` header and `error.retry_after`.",
    503: "Temporarily unavailable.",
}


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable error code, e.g. `invalid` or `not_found`.")
    message = serializers.CharField(help_text="Human-readable explanation.")
    # Serializer pops declared fields off the class, so this does not shadow Serializer.fields.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Messages per field; only on validation errors.",
    )
    retry_after = serializers.IntegerField(required=False, help_text="Seconds to wait; on 429 and 503.")
    limit = serializers.CharField(
        required=False,
        help_text="The limit that refused the request, e.g. `requests_per_minute` (429) or `max_message_chars` (400).",
    )
    limit_value = serializers.IntegerField(
        required=False, allow_null=True, help_text="That limit's value, e.g. 8000 characters or 20 requests."
    )


class ErrorResponseSerializer(serializers.Serializer):
    """The one error shape: {"error": {code, message, fields?, retry_after?, limit?, limit_value?}}."""

    error = ErrorDetailSerializer()

    class Meta:
        ref_name = "ErrorResponse"


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """Error responses for extend_schema(responses=...), all with the shared ErrorResponse body."""
    return {
        status: OpenApiResponse(ErrorResponseSerializer, description=ERROR_DESCRIPTIONS.get(status, "Error."))
        for status in statuses
    }
