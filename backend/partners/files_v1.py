"""The partner API's files, under /v1/files, in the manner of OpenAI's: upload (multipart `file` and `purpose`),
list, retrieve, delete, and the original bytes. A file is its key owner's and is read by the app's files
service (sniffed, limited, extracted on the files worker); a completion references it by id (turn_options).

The files listed and deleted here are the ones uploaded here (`purpose` set); the app's uploads stay the app's.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from files import services as files
from files.downloads import original_response
from files.models import UploadedFile
from files.uploads import FIELD

from common.errors import ApplicationError, NotFound
from ratelimits.selectors import limits_for_api_key
from ratelimits.services import request_admit

from . import relay, turn_options
from .models import ApiKey
from .params import InvalidRequest
from .v1 import error_response, method_not_allowed

# OpenAI's purposes of a file a model reads in a chat; the others (batch, fine-tune, evals) are not served.
PURPOSES = {"user_data", "assistants"}
MAX_LIST = 10_000  # OpenAI's largest `limit`
STATUSES: dict[str, str] = {
    UploadedFile.Status.UPLOADING: "uploaded",
    UploadedFile.Status.READING: "uploaded",
    UploadedFile.Status.READY: "processed",
    UploadedFile.Status.FAILED: "error",
}


def file_object(file: UploadedFile) -> dict[str, Any]:
    """OpenAI's file object, and what Whale adds: the reading's own status and, once read, how much."""
    body: dict[str, Any] = {
        "id": str(file.id),
        "object": "file",
        "bytes": file.size,
        "created_at": int(file.created_at.timestamp()),
        "expires_at": None,
        "filename": file.name,
        "purpose": file.purpose,
        "status": STATUSES.get(file.status, "uploaded"),
        "status_details": file.failure_message or None,
        "whale_status": file.status,  # uploading, reading, ready, failed: a completion may use it once ready
        "whale_kind": file.kind,
    }
    if file.status == UploadedFile.Status.FAILED:
        body["whale_failure"] = {"code": file.failure_code, "message": file.failure_message}
    if file.status == UploadedFile.Status.READY:
        body.update(whale_pages=file.pages, whale_pages_read=file.pages_read, whale_truncated=file.truncated)
    return body


def _key(request: HttpRequest) -> ApiKey:
    key = relay.authenticate(request)
    request_admit(limits=limits_for_api_key(api_key=key), openai=True)
    return key


def _file(key: ApiKey, file_id: str) -> UploadedFile:
    """The key owner's upload through this API; anyone else's (or an app upload) is a 404 on every path."""
    wanted = turn_options.file_id_value(file_id, param="file_id")
    file = UploadedFile.objects.filter(id=wanted, owner_id=key.user_id).exclude(purpose="").first()
    if file is None:
        raise NotFound("No such file.", code="not_found", extra={"file_id": file_id})
    return file


def _upload(request: HttpRequest, key: ApiKey) -> JsonResponse:
    user = key.user
    handler = files.upload_handler_for(user=user)  # 429 when today's quota is spent, before the body is read
    request.upload_handlers = [handler]
    try:
        purpose = request.POST.get("purpose")  # parsing the body runs the handler, which stops at the limits
        if handler.received is None:
            raise InvalidRequest(f"No file was sent (multipart field `{FIELD}`).", param=FIELD)
        if purpose not in PURPOSES:
            raise InvalidRequest(
                "`purpose` must be user_data or assistants (a file a model reads).",
                param="purpose",
                code="unsupported_value" if purpose else "invalid_value",
            )
        file = files.file_create(user=user, received=handler.received, purpose=purpose)
    finally:
        handler.discard()
    return JsonResponse(file_object(file), status=200)


def _list(request: HttpRequest, key: ApiKey) -> JsonResponse:
    rows = UploadedFile.objects.filter(owner_id=key.user_id).exclude(purpose="")
    purpose = request.GET.get("purpose")
    if purpose:
        rows = rows.filter(purpose=purpose)
    order = request.GET.get("order") or "desc"
    if order not in {"asc", "desc"}:
        raise InvalidRequest("`order` must be asc or desc.", param="order")
    try:
        limit = int(request.GET.get("limit") or MAX_LIST)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIST:
        raise InvalidRequest(f"`limit` must be between 1 and {MAX_LIST}.", param="limit")
    after = request.GET.get("after")
    if after:
        mark = _file(key, after)
        way = "lt" if order == "desc" else "gt"
        rows = rows.filter(
            Q(**{f"created_at__{way}": mark.created_at}) | Q(created_at=mark.created_at, **{f"id__{way}": mark.id})
        )
    ordering = ("-created_at", "-id") if order == "desc" else ("created_at", "id")
    page = list(rows.order_by(*ordering)[: limit + 1])
    data = [file_object(file) for file in page[:limit]]
    return JsonResponse(
        {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": len(page) > limit,
        }
    )


@csrf_exempt
def files_collection(request: HttpRequest) -> HttpResponseBase:
    """POST /v1/files (upload) and GET /v1/files (the key owner's uploads here, newest first)."""
    if request.method not in {"GET", "POST"}:
        return method_not_allowed(request, "GET, POST")
    try:
        key = _key(request)
        return _upload(request, key) if request.method == "POST" else _list(request, key)
    except ApplicationError as exc:
        return error_response(exc)


@csrf_exempt
def file_detail(request: HttpRequest, file_id: str) -> HttpResponseBase:
    """GET /v1/files/{id} and DELETE /v1/files/{id} (its bytes go too)."""
    if request.method not in {"GET", "DELETE"}:
        return method_not_allowed(request, "GET, DELETE")
    try:
        file = _file(_key(request), file_id)
        if request.method == "GET":
            return JsonResponse(file_object(file))
        files.file_delete(file=file)
    except ApplicationError as exc:
        return error_response(exc)
    return JsonResponse({"id": file_id, "object": "file", "deleted": True})


@csrf_exempt
def file_content(request: HttpRequest, file_id: str) -> HttpResponseBase:
    """GET /v1/files/{id}/content: the original bytes, as an attachment that is never rendered."""
    if request.method != "GET":
        return method_not_allowed(request, "GET")
    try:
        file = _file(_key(request), file_id)
    except ApplicationError as exc:
        return error_response(exc)
    return original_response(file)
