"""The one place errors become envelope responses (DRF views, plus Django's 404/500 handlers)."""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest
from django.views.defaults import page_not_found, server_error
from rest_framework import exceptions as drf
from rest_framework.response import Response

from sent_project.api.envelope import error_object, error_response, is_api_request
from sent_project.api.validation import (
    flatten_details,  # noqa: F401  (its former home)
    validation_failed,
)
from sent_project.errors import SentError

logger = logging.getLogger("sent.api")

# DRF's own exceptions, mapped onto our codes.
DRF_CODES: list[tuple[type[Exception], str]] = [
    (drf.ParseError, "REQUEST_001"),
    (drf.NotAuthenticated, "AUTH_001"),
    (drf.AuthenticationFailed, "AUTH_002"),
    (drf.PermissionDenied, "AUTH_004"),
    (drf.NotFound, "RESOURCE_011"),
    (drf.MethodNotAllowed, "REQUEST_002"),
    (drf.NotAcceptable, "REQUEST_004"),
    (drf.UnsupportedMediaType, "REQUEST_003"),
    (drf.Throttled, "BUSINESS_002"),
]


def envelope_exception_handler(exc: Exception, context: dict) -> Response:
    headers: dict[str, str] = {}
    if isinstance(exc, SentError):
        response = Response(
            error_object(exc.code, exc.message, exc.details), status=exc.status, headers=exc.headers
        )
        return response
    if isinstance(exc, DjangoValidationError):
        details = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return Response(error_object("VALIDATION_001", details=details), status=400)
    if isinstance(exc, drf.ValidationError):
        # The mapping every endpoint shares (sent_project.api.validation).
        failed = validation_failed(exc.detail)
        return Response(error_object(failed.code, details=failed.details), status=failed.status)
    if isinstance(exc, RequestDataTooBig):
        return Response(error_object("REQUEST_005"), status=413)
    if isinstance(exc, Http404):
        return Response(error_object("RESOURCE_011"), status=404)
    if isinstance(exc, PermissionDenied):
        return Response(error_object("AUTH_004"), status=403)
    for exc_class, code in DRF_CODES:
        if isinstance(exc, exc_class):
            if isinstance(exc, drf.Throttled) and exc.wait is not None:
                headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
            if isinstance(exc, drf.MethodNotAllowed | drf.UnsupportedMediaType | drf.NotAcceptable):
                message = str(exc.detail)
            else:
                message = None
            if getattr(exc, "auth_header", None):
                headers["WWW-Authenticate"] = exc.auth_header
            return Response(error_object(code, message), status=exc.status_code, headers=headers)
    if isinstance(exc, drf.APIException):
        return Response(error_object("VALIDATION_001", str(exc.detail)), status=exc.status_code)
    request = context.get("request")
    logger.exception(
        "Unhandled error in %s %s", getattr(request, "method", "?"), getattr(request, "path", "?")
    )
    return Response(error_object("INTERNAL_001"), status=500)


def handler404(request: HttpRequest, exception: Exception | None = None):
    if is_api_request(request):
        return error_response("RESOURCE_009")
    return page_not_found(request, exception)


def handler500(request: HttpRequest):
    if is_api_request(request):
        return error_response("INTERNAL_001")
    return server_error(request)
