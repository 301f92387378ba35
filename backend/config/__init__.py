"""Django project configuration for the Whale backend."""

from __future__ import annotations

import sys
from pathlib import Path

# The backend imports the backend/worker wire contract (inference/protocol.py) from the repo root.
_REPO_ROOT = str(Path(__file__).resolve().parents[2])
if _REPO_ROOT not in sys.path:
    sys.path.append(_REPO_ROOT)

from .celery import app as celery_app  # noqa: E402

__all__ = ["celery_app"]
