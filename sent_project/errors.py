"""Every error the API can answer with: a stable code, an HTTP status, a default message.

Services raise `SentError` subclasses; the one exception handler
(`sent_project.api.exception_handler`) renders them in the envelope. The
catalogue below is also rendered as the public error reference at /docs/errors/.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int
    message: str


# One place for every code. Keep codes stable: clients switch on them.
CATALOGUE: dict[str, ErrorCode] = {
    e.code: e
    for e in [
        ErrorCode("AUTH_001", 401, "Missing API key: send it in the x-api-key header"),
        ErrorCode("AUTH_002", 401, "Invalid or revoked API key"),
        ErrorCode("AUTH_004", 403, "You do not have permission to perform this action"),
        ErrorCode("VALIDATION_001", 400, "Request validation failed"),
        ErrorCode("VALIDATION_002", 400, "Invalid phone number"),
        ErrorCode("VALIDATION_003", 400, "Invalid identifier format"),
        ErrorCode("VALIDATION_004", 400, "A required field is missing"),
        ErrorCode("VALIDATION_005", 400, "A value is out of range"),
        ErrorCode("VALIDATION_006", 400, "A value is not one of the allowed choices"),
        ErrorCode(
            "VALIDATION_007",
            400,
            "Invalid Idempotency-Key: use 1-255 characters from A-Z, a-z, 0-9, '_' and '-'",
        ),
        ErrorCode("REQUEST_001", 400, "Malformed JSON in the request body"),
        ErrorCode("REQUEST_002", 405, "Method not allowed on this endpoint"),
        ErrorCode("REQUEST_003", 415, "Unsupported media type: send application/json"),
        ErrorCode("REQUEST_004", 406, "Cannot produce a response in the requested format"),
        ErrorCode("REQUEST_005", 413, "Request body too large"),
        ErrorCode("RESOURCE_001", 404, "Contact not found"),
        ErrorCode("RESOURCE_002", 404, "Template not found"),
        ErrorCode("RESOURCE_003", 404, "Message not found"),
        ErrorCode("RESOURCE_004", 404, "Account not found"),
        ErrorCode("RESOURCE_006", 404, "User not found"),
        ErrorCode("RESOURCE_008", 404, "Webhook not found"),
        ErrorCode("RESOURCE_009", 404, "No such endpoint"),
        ErrorCode("RESOURCE_010", 404, "Import not found"),
        ErrorCode("RESOURCE_011", 404, "Not found"),
        ErrorCode("RESOURCE_007", 409, "The resource already exists"),
        ErrorCode("CONFLICT_001", 409, "A request with this Idempotency-Key is still in progress"),
        ErrorCode(
            "IDEMPOTENCY_001",
            422,
            "This Idempotency-Key was already used with a different request",
        ),
        ErrorCode("BUSINESS_002", 429, "Rate limit exceeded"),
        ErrorCode("BUSINESS_003", 402, "Insufficient balance"),
        ErrorCode("INTERNAL_001", 500, "Internal server error"),
        ErrorCode("SERVICE_001", 503, "Service temporarily unavailable"),
    ]
}


def register(code: str, status: int, message: str) -> ErrorCode:
    """Add an app's own code to the catalogue (call at import time of the app's errors module)."""
    existing = CATALOGUE.get(code)
    if existing and (existing.status, existing.message) != (status, message):
        raise ValueError(f"error code {code} registered twice with different meanings")
    CATALOGUE[code] = ErrorCode(code, status, message)
    return CATALOGUE[code]


class SentError(Exception):
    """A business-rule failure with a stable code. Rendered once, in the envelope.

    A subclass sets `retryable = False` when asking again can't change the answer: the
    response then says `x-should-retry: false`, which the SDK obeys (it retries every 409,
    429 and 5xx otherwise).
    """

    code = "INTERNAL_001"
    retryable = True

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        if code:
            self.code = code
        entry = CATALOGUE[self.code]
        self.status = entry.status
        self.message = message or entry.message
        self.details = details
        if headers is None:
            headers = {} if self.retryable else {"x-should-retry": "false"}
        self.headers = headers
        super().__init__(self.message)


class ValidationFailed(SentError):
    code = "VALIDATION_001"


class NotFound(SentError):
    code = "RESOURCE_011"


class InsufficientBalance(SentError):
    code = "BUSINESS_003"
    retryable = False
