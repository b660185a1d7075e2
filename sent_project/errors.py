"""Every error the API can answer with: a stable code, an HTTP status, a default message.

Each code is one class, declared where its app keeps its errors:

    class MessageNotFound(NotFound, code="RESOURCE_003", status=404, message="Message not found"): ...

Declaring the class records it in `CATALOGUE` (code → class); the codes of the platform's
own plumbing (auth, validation, request, idempotency, rate limit, internal) are declared
here, each app's in its own `errors` module, imported by its AppConfig.ready(). Services
raise these classes; the one exception handler (`sent_project.api.exception_handler`)
renders them in the envelope. The catalogue is also the public error reference at
/docs/errors/.
"""

# One class per code. Keep codes stable: clients switch on them.
CATALOGUE: dict[str, type["SentError"]] = {}


def error_class_for(code: str) -> type["SentError"]:
    """The class declared for `code`, for the few places that choose a code at run time."""
    try:
        return CATALOGUE[code]
    except KeyError:
        raise LookupError(f"no error class declares the code {code}") from None


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class SentError(Exception):
    """A business-rule failure with a stable code. Rendered once, in the envelope.

    A subclass declares its code, status and default message as class keywords; one that
    doesn't name a code inherits its parent's (and is not a new catalogue entry).
    `retryable=False` is for when asking again can't change the answer: the response then
    says `x-should-retry: false`, which the SDK obeys (it retries every 409, 429 and 5xx
    otherwise).

    `SentError(code=...)` (or `ValidationFailed(code=...)`) is for a code chosen at run
    time: it makes an instance of the class declared for that code.
    """

    code = "INTERNAL_001"
    status: int
    message: str
    retryable = True
    do_not_call_in_templates = True  # the reference page lists the classes themselves

    def __init_subclass__(
        cls,
        *,
        code: str | None = None,
        status: int | None = None,
        message: str | None = None,
        retryable: bool | None = None,
        **kwargs,
    ):
        super().__init_subclass__(**kwargs)
        if code is None:
            if status is not None or message is not None:
                raise TypeError(f"{cls.__qualname__}: status= and message= need a code=")
        else:
            if status is None or message is None:
                raise TypeError(f"{cls.__qualname__}: code={code} needs a status= and a message=")
            existing = CATALOGUE.get(code)
            if existing is not None and (existing.status, existing.message) != (status, message):
                raise ValueError(
                    f"error code {code} declared twice with different meanings: "
                    f"{_name(existing)} and {_name(cls)}"
                )
            cls.code, cls.status, cls.message = code, status, message
            # The first class stays the code's class; a reloaded module replaces its own.
            if existing is None or _name(existing) == _name(cls):
                CATALOGUE[code] = cls
        if retryable is not None:
            cls.retryable = retryable

    def __new__(cls, *args, code: str | None = None, **kwargs):
        wanted = code or cls.code
        if cls is SentError or wanted != cls.code:
            declared = error_class_for(wanted)
            if not issubclass(declared, cls):
                raise TypeError(f"{wanted} is {declared.__qualname__}, not a {cls.__qualname__}")
            cls = declared
        return super().__new__(cls)

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,  # chose the class in __new__
        details: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        self.status = type(self).status
        self.message = message or type(self).message
        self.details = details
        if headers is None:
            headers = {} if self.retryable else {"x-should-retry": "false"}
        self.headers = headers
        super().__init__(self.message)


# --- auth ------------------------------------------------------------------------------
class MissingApiKey(
    SentError,
    code="AUTH_001",
    status=401,
    message="Missing API key: send it in the x-api-key header",
): ...


class InvalidApiKey(
    SentError, code="AUTH_002", status=401, message="Invalid or revoked API key"
): ...


class Forbidden(
    SentError,
    code="AUTH_004",
    status=403,
    message="You do not have permission to perform this action",
): ...


# --- validation ------------------------------------------------------------------------
class ValidationFailed(
    SentError, code="VALIDATION_001", status=400, message="Request validation failed"
): ...


class InvalidIdentifier(
    ValidationFailed, code="VALIDATION_003", status=400, message="Invalid identifier format"
): ...


class RequiredFieldMissing(
    ValidationFailed, code="VALIDATION_004", status=400, message="A required field is missing"
): ...


class ValueOutOfRange(
    ValidationFailed, code="VALIDATION_005", status=400, message="A value is out of range"
): ...


class InvalidChoice(
    ValidationFailed,
    code="VALIDATION_006",
    status=400,
    message="A value is not one of the allowed choices",
): ...


class InvalidIdempotencyKey(
    ValidationFailed,
    code="VALIDATION_007",
    status=400,
    message="Invalid Idempotency-Key: use 1-255 characters from A-Z, a-z, 0-9, '_' and '-'",
    retryable=False,
): ...


# --- the request itself ----------------------------------------------------------------
class MalformedJson(
    SentError, code="REQUEST_001", status=400, message="Malformed JSON in the request body"
): ...


class MethodNotAllowed(
    SentError, code="REQUEST_002", status=405, message="Method not allowed on this endpoint"
): ...


class UnsupportedMediaType(
    SentError,
    code="REQUEST_003",
    status=415,
    message="Unsupported media type: send application/json",
): ...


class NotAcceptable(
    SentError,
    code="REQUEST_004",
    status=406,
    message="Cannot produce a response in the requested format",
): ...


class RequestTooLarge(
    SentError, code="REQUEST_005", status=413, message="Request body too large"
): ...


class BadRequest(
    SentError,
    code="REQUEST_006",
    status=400,
    message="Bad request: refused before it reached the API",
): ...


# --- not found -------------------------------------------------------------------------
class NotFound(SentError, code="RESOURCE_011", status=404, message="Not found"): ...


class NoSuchEndpoint(NotFound, code="RESOURCE_009", status=404, message="No such endpoint"): ...


# --- idempotency, rate limit, the platform ---------------------------------------------
class IdempotencyKeyInProgress(
    SentError,
    code="CONFLICT_001",
    status=409,
    message="A request with this Idempotency-Key is still in progress",
): ...


class IdempotencyKeyReused(
    SentError,
    code="IDEMPOTENCY_001",
    status=422,
    message="This Idempotency-Key was already used with a different request",
    retryable=False,
): ...


class RateLimited(SentError, code="BUSINESS_002", status=429, message="Rate limit exceeded"): ...


class InternalError(
    SentError, code="INTERNAL_001", status=500, message="Internal server error"
): ...


class ServiceUnavailable(
    SentError, code="SERVICE_001", status=503, message="Service temporarily unavailable"
): ...
