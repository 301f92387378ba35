"""What the tests on the embedded database share: the environment of `make run` on a SQLite file (the other
settings this test run's, so Redis and the queues are its own), and a backend command run in it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BACKEND_DIR = Path(__file__).resolve().parents[2]


def sqlite_env(database: Path, queue: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("WHALE_TEST_")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{database}",
        DEBUG="true",
        WHALE_ENV="development",
        WHALE_VAR_DIR=str(database.parent),
        REDIS_URL=settings.REDIS_URL,
        WHALE_REDIS_PREFIX=settings.WHALE_REDIS_PREFIX,
        WHALE_BACKEND_QUEUE=settings.WHALE_BACKEND_QUEUE,
        CHANNELS_PREFIX=f"{settings.WHALE_REDIS_PREFIX}:asgi",
        WHALE_MODELS_JSON=json.dumps(
            {
                "whale-r1": {"display_name": "DeepThink (R1)", "queue": queue, "reasoning": True},
                "whale-chat": {"display_name": "Chat", "queue": queue, "reasoning": False},
            }
        ),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def run_python(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, *args], cwd=BACKEND_DIR, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout
