"""Celery tasks of accounts: sending the emails with one-time codes, off the request path."""

from __future__ import annotations

import smtplib
import sys

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

SUBJECTS = {
    "verify_email": "Your Whale verification code",
    "reset_password": "Your Whale password reset code",
}
# Development: the console backend's email lands among the worker's log lines; this line stands out.
CONSOLE_EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEV_LABELS = {"verify_email": "verification code", "reset_password": "password reset code"}
BODIES = {
    "verify_email": "Your code to verify this email address for Whale is {code}.\n\nIt expires in {minutes} minutes.",
    "reset_password": (
        "Your code to reset your Whale password is {code}.\n\nIt expires in {minutes} minutes. "
        "If you did not ask to reset your password, ignore this email: your password stays as it is."
    ),
}


# Sending from a worker keeps the request fast and the same length whether or not a mail goes out,
# so response times do not tell which addresses have accounts.
@shared_task(
    name="whale.accounts.send_email_code",
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=True,
    max_retries=5,
)
def send_email_code(*, email: str, purpose: str, code: str) -> None:
    minutes = max(1, settings.WHALE_EMAIL_CODE_TTL_SECONDS // 60)
    send_mail(
        subject=SUBJECTS[purpose],
        message=BODIES[purpose].format(code=code, minutes=minutes),
        from_email=None,
        recipient_list=[email],
    )
    if settings.EMAIL_BACKEND == CONSOLE_EMAIL_BACKEND:
        # Straight to the process's stderr (var/log/backend-worker.log under `make run`), past Celery's
        # redirect of stdout into JSON log records: `grep '==> ' var/log/backend-worker.log` finds it.
        stream = sys.__stderr__ or sys.stderr
        stream.write(f"==> {DEV_LABELS[purpose]} for {email}: {code}\n")
        stream.flush()
