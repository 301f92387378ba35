"""Django's own middlewares, run on the event loop under ASGI instead of one thread hop per method.

Under ASGI, Django's `MiddlewareMixin` calls every `process_request`, `process_view` and `process_response`
through `sync_to_async`: with the seven middlewares below that was 13 hand-offs to the one sync thread and
back per request, about half of uvicorn's CPU per chat turn (docs/profile.md). These methods do no I/O
(they read headers and cookies, set attributes and lazy objects), so here they run inline. The two that can
reach the database, the session's save and the messages' store, still go through the thread, and only
when a request used them (the admin, never the API).

`settings.MIDDLEWARE` keeps Django's names, so `check --deploy` sees them; the ASGI handler below loads the
inline subclass in each one's place (config/asgi.py). Under WSGI and Django's test clients nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import markcoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponseBase
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.security import SecurityMiddleware


class InlineOnLoop:
    """Mixed in before a Django `MiddlewareMixin` subclass whose methods do no I/O."""

    async_mode: bool
    get_response: Any

    def __init__(self, get_response: Any) -> None:
        super().__init__(get_response)  # type: ignore[call-arg]
        view = getattr(self, "process_view", None)
        if self.async_mode and view is not None and self.runs_inline():
            # Django's handler wraps a plain `process_view` in `sync_to_async`; a coroutine it awaits as is.
            async def process_view(*args: Any) -> Any:
                return view(*args)

            setattr(self, "process_view", markcoroutinefunction(process_view))  # noqa: B010 (typed per class)

    def response_needs_thread(self, request: HttpRequest) -> bool:
        """Whether `process_response` may touch the database for this request."""
        return False

    def runs_inline(self) -> bool:
        """Whether this configuration does no I/O outside `process_response` (else: Django's own hops)."""
        return True

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if not self.runs_inline():
            return await super().__acall__(request)  # type: ignore[misc]
        response = None
        if hasattr(self, "process_request"):
            response = self.process_request(request)
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            if self.response_needs_thread(request):
                response = await sync_to_async(self.process_response, thread_sensitive=True)(request, response)
            else:
                response = self.process_response(request, response)
        return response


class InlineSecurityMiddleware(InlineOnLoop, SecurityMiddleware):
    pass


class InlineSessionMiddleware(InlineOnLoop, SessionMiddleware):
    def response_needs_thread(self, request: HttpRequest) -> bool:
        # An untouched session is neither saved nor deleted: `process_response` only reads flags then.
        session = getattr(request, "session", None)
        return session is not None and session.accessed


class InlineCommonMiddleware(InlineOnLoop, CommonMiddleware):
    pass


class InlineCsrfViewMiddleware(InlineOnLoop, CsrfViewMiddleware):
    def runs_inline(self) -> bool:
        return not settings.CSRF_USE_SESSIONS  # the token in the session: reading it may query


class InlineAuthenticationMiddleware(InlineOnLoop, AuthenticationMiddleware):
    pass


class InlineMessageMiddleware(InlineOnLoop, MessageMiddleware):
    def response_needs_thread(self, request: HttpRequest) -> bool:
        # Storing messages writes the session (or a cookie); untouched storage stores nothing.
        storage = getattr(request, "_messages", None)
        return storage is not None and (storage.used or storage.added_new)


class InlineXFrameOptionsMiddleware(InlineOnLoop, XFrameOptionsMiddleware):
    pass


INLINE: dict[str, type] = {
    "django.middleware.security.SecurityMiddleware": InlineSecurityMiddleware,
    "django.contrib.sessions.middleware.SessionMiddleware": InlineSessionMiddleware,
    "django.middleware.common.CommonMiddleware": InlineCommonMiddleware,
    "django.middleware.csrf.CsrfViewMiddleware": InlineCsrfViewMiddleware,
    "django.contrib.auth.middleware.AuthenticationMiddleware": InlineAuthenticationMiddleware,
    "django.contrib.messages.middleware.MessageMiddleware": InlineMessageMiddleware,
    "django.middleware.clickjacking.XFrameOptionsMiddleware": InlineXFrameOptionsMiddleware,
}


class InlineMiddlewareASGIHandler(ASGIHandler):
    """Django's ASGI handler, building its chain from `settings.MIDDLEWARE` with the inline classes above."""

    def load_middleware(self, is_async: bool = False) -> None:
        # `load_middleware` imports each path with base.import_string: swap it for the one call, at start-up.
        real: Callable[[str], Any] = vars(base)["import_string"]
        vars(base)["import_string"] = lambda path: INLINE.get(path) or real(path)
        try:
            super().load_middleware(is_async)
        finally:
            vars(base)["import_string"] = real
