"""Account writes: registration, emailed codes, sign-in, token rotation and revocation, passwords, deletion."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from common import audit, events
from common.errors import Conflict, NotAuthenticated, RateLimited, ValidationFailed

from . import limits, selectors
from .authentication import AccountSuspended
from .models import SUSPENDED_REASON_MAX_LENGTH, EmailCode, User, normalize_email
from .signals import account_deleting, account_suspended
from .tasks import send_email_code

logger = logging.getLogger(__name__)

CODE_DIGITS = 6
INVALID_CREDENTIALS = "The email or password is not correct."
INVALID_CODE = "This code is wrong or has expired. Ask for a new one."
INVALID_REFRESH = "This refresh token is invalid, expired or revoked. Sign in again."
WRONG_PASSWORD = "The password is not correct."  # noqa: S105 - a message, not a secret


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


@dataclass(frozen=True)
class SignedIn:
    user: User
    tokens: TokenPair


# Passwords


def _password_validate(*, password: str, user: User, field: str) -> None:
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(fields={field: list(exc.messages)}) from exc


def _password_confirm(*, user: User, password: str, ip: str, field: str) -> None:
    """Re-checks the password of a signed-in user; wrong guesses count towards the login lockout."""
    limits.login_failures_check(email=user.email, ip=ip)
    if not user.check_password(password):
        limits.login_failure_record(email=user.email, ip=ip)
        raise ValidationFailed(WRONG_PASSWORD, code="wrong_password", fields={field: [WRONG_PASSWORD]})


# Emailed codes


def _email_code_hash(*, code_id: object, code: str) -> str:
    # Keyed with SECRET_KEY: a leaked table alone does not let anyone try the million codes offline.
    return salted_hmac("whale.accounts.EmailCode", f"{code_id}:{code}", algorithm="sha256").hexdigest()


def _email_code_issue(*, user: User, purpose: str) -> None:
    """Replaces the user's pending code for this purpose and emails the new one once the transaction commits."""
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    now = timezone.now()
    EmailCode.objects.filter(user=user, purpose=purpose, used_at__isnull=True).delete()
    email_code = EmailCode(
        user=user,
        purpose=purpose,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.WHALE_EMAIL_CODE_TTL_SECONDS),
    )
    email_code.code_hash = _email_code_hash(code_id=email_code.id, code=code)
    email_code.save()
    email = user.email
    transaction.on_commit(lambda: send_email_code.delay(email=email, purpose=purpose, code=code), robust=True)


def _email_code_consume(*, user: User | None, purpose: str, code: str) -> bool:
    """True when `code` is the user's live code, which is then used up.

    Every try counts, in its own statement outside any transaction the caller rolls back, so
    WHALE_EMAIL_CODE_MAX_ATTEMPTS wrong tries kill the code even under concurrent guessing.
    """
    email_code = selectors.email_code_pending(user=user, purpose=purpose) if user is not None else None
    if email_code is None:
        _email_code_hash(code_id="none", code=code)  # the same work as a real check
        return False
    counted = EmailCode.objects.filter(pk=email_code.pk, attempts__lt=settings.WHALE_EMAIL_CODE_MAX_ATTEMPTS).update(
        attempts=F("attempts") + 1
    )
    matches = constant_time_compare(_email_code_hash(code_id=email_code.pk, code=code), email_code.code_hash)
    if not counted or not matches:
        return False
    return bool(EmailCode.objects.filter(pk=email_code.pk, used_at__isnull=True).update(used_at=timezone.now()))


def email_verification_send(*, user: User) -> None:
    """Emails a new verification code (nothing when already verified); 429 after too many in an hour."""
    if user.email_verified:
        return
    retry_after = limits.email_code_send_allowed(user_id=user.pk, purpose=EmailCode.Purpose.VERIFY_EMAIL)
    if retry_after:
        raise RateLimited(
            "Too many codes were sent. Try again later.", retry_after=retry_after, code="too_many_attempts"
        )
    with transaction.atomic():
        _email_code_issue(user=user, purpose=EmailCode.Purpose.VERIFY_EMAIL)


def email_verify(*, user: User, code: str) -> User:
    if user.email_verified:
        return user
    if not _email_code_consume(user=user, purpose=EmailCode.Purpose.VERIFY_EMAIL, code=code):
        raise ValidationFailed(INVALID_CODE, code="invalid_code", fields={"code": [INVALID_CODE]})
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at"])
    return user


# Tokens


def token_pair_issue(*, user: User) -> TokenPair:
    refresh = RefreshToken.for_user(user)
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def _refresh_token_parse(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)  # type: ignore[arg-type]  # checks signature, expiry and the blacklist
    except TokenError as exc:
        raise NotAuthenticated(INVALID_REFRESH, code="invalid_refresh_token") from exc


def token_refresh(*, refresh: str) -> TokenPair:
    """Trades a refresh token for a new pair; the old one is revoked, and only one caller may trade it."""
    old = _refresh_token_parse(refresh)
    user = selectors.user_get(user_id=old.get(jwt_settings.USER_ID_CLAIM))
    revoked_by_password_change = user is not None and old.get(jwt_settings.REVOKE_TOKEN_CLAIM) != (
        get_md5_hash_password(user.password)
    )
    if user is None or not user.is_active or revoked_by_password_change:
        raise NotAuthenticated(INVALID_REFRESH, code="invalid_refresh_token")
    with transaction.atomic():
        # simplejwt annotates blacklist() as returning the row; it returns get_or_create's (row, created).
        _blacklisted, created = cast("tuple[BlacklistedToken, bool]", old.blacklist())
        if not created:  # a concurrent refresh with the same token won
            raise NotAuthenticated(INVALID_REFRESH, code="invalid_refresh_token")
        return token_pair_issue(user=user)


def token_revoke(*, refresh: str) -> None:
    """Logs one session out. A token that is already unusable (expired, revoked, garbage) needs nothing."""
    try:
        token = RefreshToken(refresh)  # type: ignore[arg-type]
    except TokenError:
        return
    token.blacklist()


def tokens_revoke_all(*, user: User) -> None:
    """Revokes every refresh token of the user (their access tokens die by CHECK_REVOKE_TOKEN on a new password)."""
    live = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=token) for token in live], ignore_conflicts=True)


# Sign-up and sign-in


def user_register(*, email: str, password: str, display_name: str = "") -> SignedIn:
    email = normalize_email(email)
    display_name = display_name.strip()
    _password_validate(password=password, user=User(email=email, display_name=display_name), field="password")
    taken = Conflict(
        "An account with this email already exists.",
        code="email_taken",
        fields={"email": ["An account with this email already exists."]},
    )
    if User.objects.filter(email=email).exists():
        raise taken
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, display_name=display_name)
            limits.email_code_send_allowed(user_id=user.pk, purpose=EmailCode.Purpose.VERIFY_EMAIL)
            _email_code_issue(user=user, purpose=EmailCode.Purpose.VERIFY_EMAIL)
            tokens = token_pair_issue(user=user)
    except IntegrityError as exc:  # the same address registered concurrently
        raise taken from exc
    return SignedIn(user=user, tokens=tokens)


def user_login(*, email: str, password: str, ip: str) -> SignedIn:
    """Checks the credentials under the per-account and per-IP limits; unknown emails look like wrong passwords."""
    email = normalize_email(email)
    limits.login_failures_check(email=email, ip=ip)
    user = selectors.user_get_by_email(email=email)
    if user is None:
        User().set_password(password)  # run the hasher anyway, so timing does not tell unknown emails apart
        password_ok = False
    else:
        password_ok = user.check_password(password)
    if not password_ok or user is None:
        limits.login_failure_record(email=email, ip=ip)
        raise NotAuthenticated(INVALID_CREDENTIALS, code="invalid_credentials")
    # Only whoever knows the password learns why the account is refused.
    if user.is_suspended:
        raise AccountSuspended()
    if not selectors.user_may_authenticate(user):
        raise NotAuthenticated(INVALID_CREDENTIALS, code="invalid_credentials")
    limits.login_failures_clear(email=email)
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    return SignedIn(user=user, tokens=token_pair_issue(user=user))


# Password reset and change


def password_reset_request(*, email: str) -> None:
    """Emails a reset code when the address has an active account; says nothing either way."""
    user = selectors.user_get_by_email(email=normalize_email(email))
    if user is None or not user.is_active:
        return
    if limits.email_code_send_allowed(user_id=user.pk, purpose=EmailCode.Purpose.RESET_PASSWORD):
        return  # silently: a 429 here would tell that the account exists
    with transaction.atomic():
        _email_code_issue(user=user, purpose=EmailCode.Purpose.RESET_PASSWORD)


def password_reset_confirm(*, email: str, code: str, new_password: str) -> None:
    """Sets a new password with an emailed code and signs every session out; the code also proves the email."""
    email = normalize_email(email)
    user = selectors.user_get_by_email(email=email)
    # Validated against the address, not the account, so the answer is the same whether or not it exists.
    _password_validate(password=new_password, user=User(email=email), field="new_password")
    if user is None or not user.is_active:
        _email_code_consume(user=None, purpose=EmailCode.Purpose.RESET_PASSWORD, code=code)
        raise ValidationFailed(INVALID_CODE, code="invalid_code", fields={"code": [INVALID_CODE]})
    if not _email_code_consume(user=user, purpose=EmailCode.Purpose.RESET_PASSWORD, code=code):
        raise ValidationFailed(INVALID_CODE, code="invalid_code", fields={"code": [INVALID_CODE]})
    with transaction.atomic():
        user.set_password(new_password)
        if user.email_verified_at is None:
            user.email_verified_at = timezone.now()
        user.save(update_fields=["password", "email_verified_at"])
        tokens_revoke_all(user=user)
    limits.login_failures_clear(email=email)


def password_change(*, user: User, current_password: str, new_password: str, ip: str) -> TokenPair:
    """Changes the password, revokes every session (this one included) and returns a fresh pair for this one."""
    _password_confirm(user=user, password=current_password, ip=ip, field="current_password")
    _password_validate(password=new_password, user=user, field="new_password")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        tokens_revoke_all(user=user)
        return token_pair_issue(user=user)


# Profile and deletion


def user_update(*, user: User, display_name: str | None = None) -> User:
    if display_name is not None:
        user.display_name = display_name.strip()
        user.save(update_fields=["display_name"])
    return user


def user_delete(*, user: User, password: str, ip: str) -> None:
    """Deletes the account for good; the database cascade removes conversations, messages, share links, codes."""
    _password_confirm(user=user, password=password, ip=ip, field="password")
    with transaction.atomic():
        account_deleting.send(sender=User, user=user)  # turns asks the workers to drop the running answers
        # Tokens outlive users by default (SET_NULL); they hold the user id, so they go too.
        OutstandingToken.objects.filter(user=user).delete()
        user.delete()


# Suspension (staff only, from the admin)


def user_suspend(*, user: User, reason: str = "") -> User:
    """Refuses the account everywhere at once: sessions, access and refresh tokens, API keys, open sockets.

    is_active goes off with it, so Django's session backend and simplejwt's access-token check refuse the
    user on their next request; every refresh token is revoked; open event sockets are told and close.
    """
    with transaction.atomic():
        user.suspended_at = timezone.now()
        user.suspended_reason = reason.strip()[:SUSPENDED_REASON_MAX_LENGTH]
        user.is_active = False
        user.save(update_fields=["suspended_at", "suspended_reason", "is_active"])
        tokens_revoke_all(user=user)
        events.user_event_publish(user_id=user.pk, event_type=events.ACCOUNT_SUSPENDED, payload={})
        account_suspended.send(sender=User, user=user)  # turns stops the answers being generated
    return user


def user_reinstate(*, user: User) -> User:
    """Lifts a suspension; the user signs in again (their old refresh tokens stay revoked)."""
    user.suspended_at = None
    user.suspended_reason = ""
    user.is_active = True
    user.save(update_fields=["suspended_at", "suspended_reason", "is_active"])
    return user


def dev_admin_ensure(*, email: str, password: str) -> tuple[User, bool]:
    """Creates or updates the development superuser; returns it and whether it was created."""
    email = normalize_email(email)
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email=email).first()
        if user is None:
            return User.objects.create_superuser(email=email, password=password), True
        user.is_staff = user.is_superuser = user.is_active = True
        if user.email_verified_at is None:
            user.email_verified_at = timezone.now()
        if not user.check_password(password):
            user.set_password(password)
        user.save()
        return user, False


# Staff's actions from the admin: the same writes, plus a trace in the audit log (common.audit) and in
# Django's admin history of the user (its "History" page), in one transaction.


def _admin_log(*, actor: User, obj: User, message: str) -> None:
    LogEntry.objects.log_actions(
        user_id=actor.pk, queryset=[obj], action_flag=CHANGE, change_message=message, single_object=True
    )


@transaction.atomic
def user_suspend_by_staff(*, actor: User, user: User, reason: str = "") -> User:
    user_suspend(user=user, reason=reason)
    audit.staff_action_record(
        actor=actor, action=audit.USER_SUSPENDED, obj=user, detail={"reason": user.suspended_reason}
    )
    _admin_log(actor=actor, obj=user, message=f"Suspended: {user.suspended_reason or 'no reason given'}")
    return user


@transaction.atomic
def user_reinstate_by_staff(*, actor: User, user: User) -> User:
    user_reinstate(user=user)
    audit.staff_action_record(actor=actor, action=audit.USER_REINSTATED, obj=user)
    _admin_log(actor=actor, obj=user, message="Reinstated")
    return user
