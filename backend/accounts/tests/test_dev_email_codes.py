"""In development (the console email backend) every emailed code is also printed on a line of its own."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts.tasks import send_email_code

CONSOLE = "django.core.mail.backends.console.EmailBackend"


@pytest.mark.parametrize(
    ("purpose", "line"),
    [
        ("verify_email", "==> verification code for ada@example.com: 123456"),
        ("reset_password", "==> password reset code for ada@example.com: 123456"),
    ],
)
def test_the_console_backend_prints_the_code_on_its_own_marked_line(settings, capfd, purpose, line) -> None:
    settings.EMAIL_BACKEND = CONSOLE

    send_email_code(email="ada@example.com", purpose=purpose, code="123456")

    out, err = capfd.readouterr()
    assert line in err.splitlines()
    assert "Subject: " in out, "the console backend still prints the whole email"


def test_a_real_mail_backend_prints_no_code(settings, capfd) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    send_email_code(email="ada@example.com", purpose="verify_email", code="123456")

    out, err = capfd.readouterr()
    assert "123456" not in out + err
    assert "123456" in mail.outbox[-1].body
