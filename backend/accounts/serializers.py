"""Request and response shapes of the accounts API; every input has a length limit."""

from __future__ import annotations

from rest_framework import serializers

from chat.models import Message

from .models import DISPLAY_NAME_MAX_LENGTH, EMAIL_MAX_LENGTH, User

PASSWORD_MAX_LENGTH = 128
# A JWT refresh token is a few hundred characters; anything far longer is not one.
TOKEN_MAX_LENGTH = 2048
CODE_PATTERN = r"^[0-9]{6}$"


class _StringsOnly:
    """DRF's CharField turns numbers into strings; the schema says string, so anything else is refused."""

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")  # type: ignore[attr-defined]
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictCharField(_StringsOnly, serializers.CharField):
    default_error_messages = {"invalid": "Not a valid string."}


class StrictEmailField(_StringsOnly, serializers.EmailField):
    pass


class StrictRegexField(_StringsOnly, serializers.RegexField):
    pass


def _email() -> serializers.EmailField:
    return StrictEmailField(max_length=EMAIL_MAX_LENGTH)


def _password(help_text: str = "") -> serializers.CharField:
    return StrictCharField(max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False, write_only=True, help_text=help_text)


def _code() -> serializers.RegexField:
    return StrictRegexField(
        CODE_PATTERN,
        max_length=6,
        min_length=6,
        error_messages={"invalid": "Enter the 6-digit code from the email."},
        help_text="The 6-digit code from the email.",
    )


# Requests


class RegisterSerializer(serializers.Serializer):
    email = _email()
    password = _password("Checked by the server's password rules (at least 8 characters, not too common).")
    display_name = StrictCharField(max_length=DISPLAY_NAME_MAX_LENGTH, required=False, allow_blank=True)


class LoginSerializer(serializers.Serializer):
    email = _email()
    password = _password()


class RefreshSerializer(serializers.Serializer):
    refresh = StrictCharField(
        max_length=TOKEN_MAX_LENGTH,
        required=False,
        help_text="The refresh token. Web clients (`X-Whale-Client: web`) may omit it; the cookie is used.",
    )


class VerifyEmailSerializer(serializers.Serializer):
    code = _code()


class PasswordResetSerializer(serializers.Serializer):
    email = _email()


class PasswordResetConfirmSerializer(serializers.Serializer):
    email = _email()
    code = _code()
    new_password = _password()


class PasswordChangeSerializer(serializers.Serializer):
    current_password = _password()
    new_password = _password()


class DeleteAccountSerializer(serializers.Serializer):
    password = _password("The current password, to confirm.")


class MeUpdateSerializer(serializers.Serializer):
    display_name = StrictCharField(max_length=DISPLAY_NAME_MAX_LENGTH, required=False, allow_blank=True)


# Responses


class UserSerializer(serializers.ModelSerializer):
    email_verified = serializers.BooleanField(read_only=True)

    class Meta:
        model = User
        fields = ("id", "email", "display_name", "email_verified", "date_joined", "is_staff")
        read_only_fields = fields


class UserEnvelope(serializers.Serializer):
    user = UserSerializer()


class TokenPairResponse(serializers.Serializer):
    access = serializers.CharField(help_text="Access token (JWT), about 15 minutes.")
    refresh = serializers.CharField(
        required=False,
        help_text="Refresh token (JWT); single use. Absent for web clients, which get the `whale_refresh` cookie.",
    )


class AuthResponse(TokenPairResponse):
    user = UserSerializer()


# The export file


class DataExportUsageSerializer(serializers.Serializer):
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    reasoning_tokens = serializers.IntegerField()


class DataExportMessageSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    parent_id = serializers.UUIDField(allow_null=True)
    role = serializers.ChoiceField(choices=Message.Role.choices)
    content = serializers.CharField(allow_blank=True)
    reasoning_content = serializers.CharField(allow_blank=True)
    model = serializers.CharField(allow_blank=True)
    deepthink = serializers.BooleanField()
    status = serializers.ChoiceField(choices=Message.Status.choices)
    error = serializers.CharField(allow_blank=True)
    finish_reason = serializers.CharField(allow_blank=True)
    usage = DataExportUsageSerializer()
    feedback = serializers.ChoiceField(choices=Message.Feedback.choices)
    created_at = serializers.DateTimeField()
    queued_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    first_token_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class DataExportConversationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    pinned_at = serializers.DateTimeField(allow_null=True)
    archived_at = serializers.DateTimeField(allow_null=True)
    current_message_id = serializers.UUIDField(allow_null=True)
    messages = DataExportMessageSerializer(many=True, help_text="Every message of every branch, oldest first.")


class DataExportShareLinkSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    conversation_id = serializers.UUIDField()
    title = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)


class DataExportSerializer(serializers.Serializer):
    format_version = serializers.IntegerField()
    exported_at = serializers.DateTimeField()
    user = UserSerializer()
    conversations = DataExportConversationSerializer(many=True)
    share_links = DataExportShareLinkSerializer(many=True)
    files = serializers.ListField(
        child=serializers.DictField(),
        default=list,
        help_text="Every file: {id, name, size, mime, kind, status, pages, truncated, conversation_id, "
        "message_id, created_at, text} (text: what was read from it).",
    )
