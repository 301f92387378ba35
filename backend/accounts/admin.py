"""Django admin (unfold theme) for users: search, usage, tier, suspend and reinstate, delete; email codes read-only.

Every change here leaves a trace: Django's admin history for form edits and deletions, and the
audit log (common.audit, kept by the dashboard: who, when) for suspensions and reinstatements.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from unfold.admin import ModelAdmin, StackedInline
from unfold.forms import AdminPasswordChangeForm, UserChangeForm

from . import services
from .hooks import account_usage
from .models import EmailCode, User


class WhaleUserChangeForm(UserChangeForm):
    # The password field is Django's ReadOnlyPasswordHashField: a summary, never the hash as editable text;
    # it links to the admin's own set-password form.
    class Meta:
        model = User
        fields = "__all__"


class WhaleUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


def _user_limit_inline() -> list[type[Any]]:
    """The user's tier and overrides (the ratelimits app), when it is installed."""
    try:
        from ratelimits.models import UserLimit
    except ImportError:
        return []

    class UserLimitInline(StackedInline):
        model = UserLimit
        extra = 0
        max_num = 1
        can_delete = True
        verbose_name = "Tier and limit overrides"
        verbose_name_plural = "Tier and limit overrides"

    return [UserLimitInline]


@admin.register(User)
class UserAdmin(DjangoUserAdmin, ModelAdmin):
    form = WhaleUserChangeForm
    add_form = WhaleUserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = (
        "email",
        "display_name",
        "email_verified",
        "is_active",
        "suspended",
        "is_staff",
        "date_joined",
        "last_login",
    )
    list_filter = ("is_active", "is_staff", "is_superuser", ("suspended_at", admin.EmptyFieldListFilter))
    search_fields = ("email", "display_name")
    ordering = ("-date_joined",)
    readonly_fields = (
        "id",
        "email_verified_at",
        "last_login",
        "date_joined",
        "suspended_at",
        "conversations_count",
        "turns_count",
        "tokens_used",
    )
    filter_horizontal = ("groups", "user_permissions")
    fieldsets = (
        (None, {"fields": ("id", "email", "password")}),
        ("Profile", {"fields": ("display_name", "email_verified_at")}),
        ("Usage", {"fields": ("conversations_count", "turns_count", "tokens_used")}),
        ("Suspension", {"fields": ("suspended_at", "suspended_reason")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "usable_password", "password1", "password2")}),)
    actions = ["suspend_users", "reinstate_users", "mark_email_verified"]
    inlines = _user_limit_inline()

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list[type[Any]]:
        # A new user starts on the default tier; the tier is set on the user's page.
        return list(super().get_inlines(request, obj)) if obj is not None else []

    @admin.display(boolean=True, description="Verified")
    def email_verified(self, obj: User) -> bool:
        return obj.email_verified

    @admin.display(boolean=True, description="Suspended", ordering="suspended_at")
    def suspended(self, obj: User) -> bool:
        return obj.is_suspended

    @admin.display(description="Conversations")
    def conversations_count(self, obj: User) -> int:
        return obj.conversations.count() if obj.pk else 0

    @admin.display(description="Answers (turns), all time")
    def turns_count(self, obj: User) -> str:
        usage = account_usage(user=obj)
        return f"{usage.turns} ({usage.failed} failed)"

    @admin.display(description="Tokens in / out, all time")
    def tokens_used(self, obj: User) -> str:
        usage = account_usage(user=obj)
        return f"{usage.tokens_in} / {usage.tokens_out}"

    @admin.action(description="Suspend: refuse sign-in, tokens and API keys at once")
    def suspend_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        suspended = 0
        for user in queryset.filter(suspended_at__isnull=True):
            if user.pk == request.user.pk:
                self.message_user(request, "You cannot suspend your own account.", messages.ERROR)
                continue
            services.user_suspend_by_staff(actor=request.user, user=user, reason=user.suspended_reason)  # type: ignore[arg-type]
            suspended += 1
        self.message_user(request, f"{suspended} account(s) suspended.")

    @admin.action(description="Reinstate suspended accounts")
    def reinstate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        reinstated = 0
        for user in queryset.filter(suspended_at__isnull=False):
            services.user_reinstate_by_staff(actor=request.user, user=user)  # type: ignore[arg-type]
            reinstated += 1
        self.message_user(request, f"{reinstated} account(s) reinstated.")

    @admin.action(description="Mark the email address as verified")
    def mark_email_verified(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        pending = list(queryset.filter(email_verified_at__isnull=True))
        User.objects.filter(pk__in=[user.pk for user in pending]).update(email_verified_at=timezone.now())
        if pending:
            LogEntry.objects.log_actions(
                user_id=request.user.pk,  # type: ignore[arg-type]
                queryset=pending,
                action_flag=CHANGE,
                change_message="Marked email verified",
            )
        self.message_user(request, f"{len(pending)} account(s) marked as verified.")

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        with transaction.atomic():
            # Refresh tokens outlive users by default (SET_NULL); they hold the user id, so they go too.
            OutstandingToken.objects.filter(user=obj).delete()
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        with transaction.atomic():
            OutstandingToken.objects.filter(user__in=queryset).delete()
            super().delete_queryset(request, queryset)


@admin.register(EmailCode)
class EmailCodeAdmin(ModelAdmin):
    """Read-only: codes are issued and used by the app; only their hash is stored and it is not shown."""

    list_display = ("user", "purpose", "created_at", "expires_at", "used_at", "attempts")
    list_filter = ("purpose",)
    search_fields = ("user__email",)
    list_select_related = ("user",)
    fields = ("id", "user", "purpose", "attempts", "created_at", "expires_at", "used_at")
    readonly_fields = fields
    ordering = ("-created_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: EmailCode | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: EmailCode | None = None) -> bool:
        return False
