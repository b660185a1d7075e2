"""The billing app's error codes: balance, accounts and their users."""

from sent_project.errors import NotFound, SentError


class InsufficientBalance(
    SentError, code="BUSINESS_003", status=402, message="Insufficient balance", retryable=False
): ...


class AccountNotFound(NotFound, code="RESOURCE_004", status=404, message="Account not found"): ...


class UserNotFound(NotFound, code="RESOURCE_006", status=404, message="User not found"): ...
