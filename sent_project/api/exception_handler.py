"""The one place errors become envelope responses (DRF views, plus Django's 404/500 handlers)."""

import logging

from django.core.exceptions import (
    DisallowedHost,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest
from django.views.defaults import bad_request, page_not_found, permission_denied, server_error
from rest_framework import exceptions as drf
from rest_framework.exceptions import ErrorDetail
from rest_framework.response import Response

from sent_project.api.envelope import error_object, error_response, is_api_request
from sent_project.api.validation import validation_failed
from sent_project.errors import (
    BadRequest,
    Forbidden,
    InternalError,
    InvalidApiKey,
    MalformedJson,
    MethodNotAllowed,
    MissingApiKey,
    NoSuchEndpoint,
    NotAcceptable,
    NotFound,
    RateLimited,
    RequestTooLarge,
    SentError,
    UnsupportedMediaType,
    ValidationFailed,
)

logger = logging.getLogger("sent.api")

# DRF's own exceptions, mapped onto our errors. Those whose message says more than ours (the
# method, the media type) keep DRF's.
DRF_ERRORS: list[tuple[type[Exception], type[SentError], bool]] = [
    (drf.ParseError, MalformedJson, False),
    (drf.NotAuthenticated, MissingApiKey, False),
    (drf.AuthenticationFailed, InvalidApiKey, False),
    (drf.PermissionDenied, Forbidden, False),
    (drf.NotFound, NotFound, False),
    (drf.MethodNotAllowed, MethodNotAllowed, True),
    (drf.NotAcceptable, NotAcceptable, True),
    (drf.UnsupportedMediaType, UnsupportedMediaType, True),
    (drf.Throttled, RateLimited, False),
]


def django_validation_errors(exc: DjangoValidationError) -> dict:
    """Django's ValidationError as DRF's errors (field → ErrorDetails with their codes), so it
    takes the same mapping as every other validation mistake."""
    as_data = exc.error_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.error_list}
    return {
        field: [
            ErrorDetail(message, code=error.code or "invalid")
            for error in errors
            for message in error.messages
        ]
        for field, errors in as_data.items()
    }


def as_sent_error(exc: Exception) -> SentError | None:
    """The error an exception answers as; None for an unexpected one (a bug: 500)."""
    if isinstance(exc, SentError):
        return exc
    if isinstance(exc, DjangoValidationError):
        return validation_failed(django_validation_errors(exc))
    if isinstance(exc, drf.ValidationError):
        return validation_failed(exc.detail)  # the mapping every endpoint shares
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, SuspiciousOperation):
        return suspicious_request_error(exc)
    if isinstance(exc, Http404):
        return NotFound()
    if isinstance(exc, PermissionDenied):  # e.g. billing.roles.RoleForbidden: says which role
        return Forbidden(str(exc) or None)
    for exc_class, error_class, keeps_message in DRF_ERRORS:
        if isinstance(exc, exc_class):
            headers = {}
            if isinstance(exc, drf.Throttled) and exc.wait is not None:
                headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
            if getattr(exc, "auth_header", None):
                headers["WWW-Authenticate"] = exc.auth_header
            return error_class(str(exc.detail) if keeps_message else None, headers=headers)
    if isinstance(exc, drf.APIException):
        error = ValidationFailed(str(exc.detail))
        error.status = exc.status_code  # another DRF error: its status, our general code
        return error
    return None


def suspicious_request_error(exc: SuspiciousOperation) -> SentError:
    """Django's refusal of a request (its SuspiciousOperation): 400 REQUEST_006, saying why
    without echoing what was sent."""
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, DisallowedHost):
        return BadRequest("The Host header names no site this server answers for")
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return BadRequest(
            "Too many query or form fields (DATA_UPLOAD_MAX_NUMBER_FIELDS) or files in the request"
        )
    return BadRequest()


def envelope_exception_handler(exc: Exception, context: dict) -> Response:
    error = as_sent_error(exc)
    if error is None:
        request = context.get("request")
        logger.exception(
            "Unhandled error in %s %s",
            getattr(request, "method", "?"),
            getattr(request, "path", "?"),
        )
        error = InternalError()
    return Response(error_object(error), status=error.status, headers=error.headers)


def handler400(request: HttpRequest, exception: Exception | None = None):
    """Django's own 400s (a Host header outside ALLOWED_HOSTS, too many fields, …): the
    envelope under /v3/ (docs/api/errors.md#requests), Django's page elsewhere."""
    if not is_api_request(request):
        return bad_request(request, exception)
    if isinstance(exception, SuspiciousOperation):
        return error_response(suspicious_request_error(exception))
    return error_response(BadRequest())


def handler403(request: HttpRequest, exception: Exception | None = None):
    if is_api_request(request):
        return error_response(Forbidden())
    return permission_denied(request, exception)


def handler404(request: HttpRequest, exception: Exception | None = None):
    if is_api_request(request):
        return error_response(NoSuchEndpoint())
    return page_not_found(request, exception)


def handler500(request: HttpRequest):
    if is_api_request(request):
        return error_response(InternalError())
    return server_error(request)
