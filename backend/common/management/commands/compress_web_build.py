"""`manage.py compress_web_build`: writes .br and .gz beside the web build's files (the image does it at build time)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from common.staticfiles import compress_web_build


class Command(BaseCommand):
    help = "Compress the web build (WEB_BUILD_DIR) once, so no process compresses it at startup."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("root", nargs="?", default=None, help="The build directory (default: WEB_BUILD_DIR).")

    def handle(self, *args: Any, **options: Any) -> None:
        root = Path(options["root"] or settings.WEB_BUILD_DIR)
        count = compress_web_build(root)
        self.stdout.write(f"compressed {count} files in {root}")
