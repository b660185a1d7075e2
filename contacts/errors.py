"""The contacts app's error codes: phone numbers, contacts and imports."""

from sent_project.errors import NotFound, ValidationFailed


class InvalidPhoneNumber(
    ValidationFailed, code="VALIDATION_002", status=400, message="Invalid phone number"
):
    """The input is not a phone number we can message; the message says what is wrong."""

    def __init__(self, message: str | None = None, *, field: str = "phone_number", **kwargs):
        if message:
            kwargs.setdefault("details", {field: [message]})
        super().__init__(message, **kwargs)


class ContactNotFound(NotFound, code="RESOURCE_001", status=404, message="Contact not found"): ...


class ImportNotFound(NotFound, code="RESOURCE_010", status=404, message="Import not found"): ...
