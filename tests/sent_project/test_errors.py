"""SentError: the code's status and message, and `retryable` as the x-should-retry header."""

from billing.errors import InsufficientBalance
from sent_project.errors import SentError, ValidationFailed
from templates_app.errors import TemplateInReview


def test_an_error_takes_its_status_and_message_from_the_catalogue():
    error = ValidationFailed(details={"name": ["A name is required."]})
    assert (error.code, error.status, error.message) == (
        "VALIDATION_001",
        400,
        "Request validation failed",
    )
    assert error.headers == {}


def test_a_non_retryable_error_tells_the_sdk_not_to_retry():
    assert InsufficientBalance().headers == {"x-should-retry": "false"}
    assert TemplateInReview().headers == {"x-should-retry": "false"}


def test_headers_given_explicitly_win():
    assert InsufficientBalance(headers={"Retry-After": "5"}).headers == {"Retry-After": "5"}
    assert SentError(code="SERVICE_001", headers={"Retry-After": "1"}).headers == {
        "Retry-After": "1"
    }
