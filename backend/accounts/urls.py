"""URL routes of accounts, included under /api/v1/ (see docs/api.md, "Accounts")."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import api

urlpatterns: list[URLPattern] = [
    path("auth/register", api.RegisterView.as_view(), name="auth-register"),
    path("auth/verify-email", api.VerifyEmailView.as_view(), name="auth-verify-email"),
    path("auth/verify-email/resend", api.VerifyEmailResendView.as_view(), name="auth-verify-email-resend"),
    path("auth/login", api.LoginView.as_view(), name="auth-login"),
    path("auth/refresh", api.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", api.LogoutView.as_view(), name="auth-logout"),
    path("auth/password/reset", api.PasswordResetView.as_view(), name="auth-password-reset"),
    path("auth/password/reset/confirm", api.PasswordResetConfirmView.as_view(), name="auth-password-reset-confirm"),
    path("me", api.MeView.as_view(), name="me"),
    path("me/password", api.PasswordChangeView.as_view(), name="me-password"),
    path("me/delete", api.DeleteAccountView.as_view(), name="me-delete"),
    path("me/export", api.ExportView.as_view(), name="me-export"),
]
