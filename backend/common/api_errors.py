"""API paths answer errors in their own JSON shape in every mode, never an HTML page.

Django renders some errors itself before (or instead of) our views and exception handlers: the
URL resolver's 404 (the HTML debug page with DEBUG on, as `make run` has it), the CSRF 403
page, a 400 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE read by a middleware, a 500 from a
middleware. For API paths this middleware replaces any such non-JSON error by the API's one shape,
keeping the status and headers like Allow and Retry-After. It also refuses a NUL in the query string
(a 400 naming the parameter) before a view hands it to the database, which cannot store it.

Each API family registers its shape: the app API's `{"error": {code, message}}` for /api/ here,
the partner API's OpenAI shape for /v1/ (partners.apps).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponseBase, JsonResponse

from .exceptions import error_body
from .middleware import SyncAndAsyncMiddleware
from .parsers import INVALID_TEXT_MESSAGE

# (status, code, message, param) -> body
ErrorShape = Callable[[int, str, str, str | None], dict[str, Any]]

CODES = {
    400: ("bad_request", "The request could not be understood."),
    401: ("not_authenticated", "Authentication credentials were not provided or are invalid."),
    403: ("permission_denied", "You do not have permission to do this."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "This method is not allowed here."),
    413: ("request_too_large", "The request body is too large."),
    500: ("server_error", "Something went wrong on our side. Please try again."),
}
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "X-Request-ID")


def app_shape(status: int, code: str, message: str, param: str | None) -> dict[str, Any]:
    return error_body(code, message, {param: [message]} if param else None)


_shapes: list[tuple[str, ErrorShape]] = [("/api/", app_shape)]


def register_error_shape(prefix: str, shape: ErrorShape) -> None:
    """Paths under `prefix` (e.g. "/v1/") answer errors in `shape`; the longest prefix wins."""
    _shapes.append((prefix, shape))
    _shapes.sort(key=lambda item: len(item[0]), reverse=True)


def _shape_for(path: str) -> ErrorShape | None:
    for prefix, shape in _shapes:
        if path.startswith(prefix) or path == prefix.rstrip("/"):
            return shape
    return None


def _error(
    shape: ErrorShape, status: int, *, code: str | None = None, message: str | None = None, param: str | None = None
) -> JsonResponse:
    default_code, default_message = CODES.get(status, CODES[500] if status >= 500 else CODES[400])
    return JsonResponse(shape(status, code or default_code, message or default_message, param), status=status)


def _query_refusal(request: HttpRequest, shape: ErrorShape) -> JsonResponse | None:
    if "%00" not in request.META.get("QUERY_STRING", ""):
        return None
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            code = "invalid" if shape is app_shape else "invalid_text"  # as each API names a field's bad text
            return _error(shape, 400, code=code, message=INVALID_TEXT_MESSAGE, param=name.replace("\x00", ""))
    return None


def _reshaped(shape: ErrorShape, response: HttpResponseBase) -> HttpResponseBase:
    if response.status_code < 400 or getattr(response, "streaming", False):
        return response
    if response.get("Content-Type", "").startswith("application/json"):
        return response
    replacement = _error(shape, response.status_code)
    for name in KEPT_HEADERS:
        if name in response:
            replacement[name] = response[name]
    return replacement


class ApiErrorShapeMiddleware(SyncAndAsyncMiddleware):
    def _call(self, request: HttpRequest) -> Any:
        shape = _shape_for(request.path_info)
        if shape is None:
            return self.get_response(request)
        return _query_refusal(request, shape) or _reshaped(shape, self.get_response(request))

    async def _acall(self, request: HttpRequest) -> Any:
        shape = _shape_for(request.path_info)
        if shape is None:
            return await self.get_response(request)
        return _query_refusal(request, shape) or _reshaped(shape, await self.get_response(request))
