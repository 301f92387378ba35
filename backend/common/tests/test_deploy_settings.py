"""Production settings: refuse unsafe starts, and pass Django's deployment checklist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "WHALE_ENV"}}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args], cwd=BACKEND, env=environment, capture_output=True, text=True, timeout=120
    )


PRODUCTION = {
    "WHALE_ENV": "production",
    "DEBUG": "false",
    "SECRET_KEY": "f3a9c1e07b5d" * 5,
    "ALLOWED_HOSTS": "chat.example.com",
}


def test_production_passes_the_deployment_checklist_but_the_domain_wide_hsts_choices() -> None:
    done = _manage("check", "--deploy", **PRODUCTION)
    assert done.returncode == 0, done.stderr
    found = {line.split(")")[0].split("(")[-1] for line in done.stderr.splitlines() if "(security." in line}
    assert found == {"security.W005", "security.W021"}, done.stderr  # includeSubDomains and preload


def test_production_refuses_the_development_secret_key() -> None:
    done = _manage("check", **{**PRODUCTION, "SECRET_KEY": ""})
    assert done.returncode != 0
    assert "Refusing to start in production with the dev SECRET_KEY" in done.stderr
