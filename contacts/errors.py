"""The contacts app's errors. Codes come from the shared catalogue (sent_project.errors)."""

from sent_project.errors import NotFound, SentError


class InvalidPhoneNumber(SentError):
    """The input is not a phone number we can message; the message says what is wrong."""

    code = "VALIDATION_002"

    def __init__(self, message: str, *, field: str = "phone_number", **kwargs):
        kwargs.setdefault("details", {field: [message]})
        super().__init__(message, **kwargs)


class ContactNotFound(NotFound):
    code = "RESOURCE_001"


class ImportNotFound(NotFound):
    code = "RESOURCE_010"
