"""Django admin for users (found by email; the password only as a hash summary) and read-only email codes."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

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


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = WhaleUserChangeForm
    add_form = WhaleUserCreationForm
    list_display = ("email", "display_name", "email_verified", "is_active", "is_staff", "date_joined", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("email", "display_name")
    ordering = ("-date_joined",)
    readonly_fields = ("id", "email_verified_at", "last_login", "date_joined")
    filter_horizontal = ("groups", "user_permissions")
    fieldsets = (
        (None, {"fields": ("id", "email", "password")}),
        ("Profile", {"fields": ("display_name", "email_verified_at")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "usable_password", "password1", "password2")}),)
    actions = ["mark_email_verified"]

    @admin.display(boolean=True, description="Verified")
    def email_verified(self, obj: User) -> bool:
        return obj.email_verified

    @admin.action(description="Mark the email address as verified")
    def mark_email_verified(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        updated = queryset.filter(email_verified_at__isnull=True).update(email_verified_at=timezone.now())
        self.message_user(request, f"{updated} account(s) marked as verified.")


@admin.register(EmailCode)
class EmailCodeAdmin(admin.ModelAdmin):
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
