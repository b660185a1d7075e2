"""The billing app's error codes: balance, accounts and their users."""

from sent_project.errors import NotFound, SentError


class InsufficientBalance(
    SentError, code="BUSINESS_003", status=402, message="Insufficient balance", retryable=False
): ...


class AccountNotFound(NotFound, code="RESOURCE_004", status=404, message="Account not found"): ...


class UserNotFound(NotFound, code="RESOURCE_006", status=404, message="User not found"): ...


class LastAdmin(
    SentError,
    code="USER_001",
    status=409,
    message="The account's last admin can't be demoted or removed",
    retryable=False,
): ...


class OwnAccess(
    SentError,
    code="USER_002",
    status=403,
    message="You can't change your own role or remove yourself",
    retryable=False,
): ...


class AlreadyMember(
    SentError,
    code="USER_003",
    status=409,
    message="A user with this email already exists",
    retryable=False,
): ...


class InvitationNotPending(
    SentError,
    code="USER_004",
    status=409,
    message="This user has no pending invitation",
    retryable=False,
): ...


class StatusNotChangeable(
    SentError,
    code="USER_005",
    status=409,
    message="Only an active user can be suspended, and only a suspended one reactivated",
    retryable=False,
): ...


class TooManyInvitations(
    SentError,
    code="USER_006",
    status=429,
    message="Too many invitations: try again later",
    retryable=False,
): ...
