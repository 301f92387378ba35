"""HTTP views for files: upload (multipart), status and preview, extracted text, download, delete."""

from __future__ import annotations

from typing import cast

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from common.errors import Conflict, ValidationFailed
from common.schema import error_responses

from . import selectors, services
from .downloads import original_response
from .models import UploadedFile
from .serializers import FileContentSerializer, FileDetailSerializer, FileUploadSerializer
from .uploads import FIELD


def _user(request: Request) -> User:
    return cast(User, request.user)


class FileUploadApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="files_create",
        tags=["files"],
        summary="Upload a file to read (multipart, field `file`)",
        description=(
            "The type is sniffed from the bytes. Limits: 100 MiB PDF/Word/PowerPoint, 32 MiB text, Excel and EPUB, "
            "64 MiB images (settings). The answer has status `reading`; `file.updated` events follow."
        ),
        request={"multipart/form-data": FileUploadSerializer},
        responses={
            201: FileDetailSerializer,
            **error_responses(400, 401, 409, 429),
            413: OpenApiResponse(description="`file_too_large`, with `error.limit_value` in bytes."),
            415: OpenApiResponse(description="`unsupported_type`: the bytes are not a type Whale reads."),
        },
    )
    def post(self, request: Request) -> Response:
        handler = services.upload_handler_for(user=_user(request))
        request._request.upload_handlers = [handler]
        try:
            request.FILES  # noqa: B018 - parsing the body runs the handler, which stops at the limits
            if handler.received is None:
                raise ValidationFailed(fields={FIELD: ["No file was sent."]})
            file = services.file_create(user=_user(request), received=handler.received)
        finally:
            handler.discard()
        return Response(FileDetailSerializer(file).data, status=status.HTTP_201_CREATED)


class FileDetailApi(APIView):
    @extend_schema(
        operation_id="files_retrieve",
        tags=["files"],
        summary="A file's status, failure reason and a preview of its text",
        responses={200: FileDetailSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, file_id: str) -> Response:
        return Response(FileDetailSerializer(selectors.file_get(user=_user(request), file_id=file_id)).data)

    @extend_schema(
        operation_id="files_destroy",
        tags=["files"],
        summary="Delete a file and its stored bytes",
        responses={204: None, **error_responses(401, 404)},
    )
    def delete(self, request: Request, file_id: str) -> Response:
        services.file_delete(file=selectors.file_get(user=_user(request), file_id=file_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class FileContentApi(APIView):
    @extend_schema(
        operation_id="files_content",
        tags=["files"],
        summary="The whole extracted text of a ready file",
        responses={200: FileContentSerializer, **error_responses(401, 404, 409)},
    )
    def get(self, request: Request, file_id: str) -> Response:
        file = selectors.file_get(user=_user(request), file_id=file_id)
        if file.status != UploadedFile.Status.READY:
            raise Conflict("The file has not been read.", code="file_not_ready", extra={"status": file.status})
        return Response({"id": file.id, "name": file.name, "truncated": file.truncated, "text": file.text})


class FileDownloadApi(APIView):
    @extend_schema(
        operation_id="files_download",
        tags=["files"],
        summary="The original file, as an attachment",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The bytes."),
            **error_responses(401, 404),
        },
    )
    def get(self, request: Request, file_id: str) -> FileResponse:
        return original_response(selectors.file_get(user=_user(request), file_id=file_id))
