"""Error codes of the messaging app (messages and webhooks)."""

from sent_project.errors import NotFound, SentError


class WebhookUrlRefused(
    SentError, code="WEBHOOK_001", status=400, message="This webhook URL is not allowed"
):
    """The URL is not http(s), or points at a loopback, private, link-local or metadata address."""

    def __init__(self, reason: str):
        super().__init__(
            f"This webhook URL is not allowed: {reason}", details={"endpoint_url": [reason]}
        )


class WebhookNotFound(NotFound, code="RESOURCE_008", status=404, message="Webhook not found"): ...


class DeliveryInProgress(
    SentError,
    code="WEBHOOK_002",
    status=409,
    message="This delivery is still in progress",
    retryable=False,  # the SDK retries 409s; this one won't change by retrying
): ...


class WebhookDisabled(
    DeliveryInProgress,
    code="WEBHOOK_003",
    status=409,
    message="This webhook is disabled: enable it first",
): ...


class WebhookLimitReached(
    SentError,
    code="WEBHOOK_004",
    status=422,
    message="This account has as many webhooks as it may have",
):
    """WEBHOOK_MAX_ENDPOINTS_PER_CUSTOMER endpoints exist already."""

    def __init__(self, limit: int):
        super().__init__(
            f"This account has {limit} webhooks, the most it may have: delete one first",
            details={"endpoint_url": [f"At most {limit} webhooks per account"]},
        )


# --- messages ---------------------------------------------------------------------------
class MessageNotFound(NotFound, code="RESOURCE_003", status=404, message="Message not found"): ...


class BatchNotFound(NotFound, code="RESOURCE_012", status=404, message="Send not found"): ...


class UnknownTemplate(
    SentError,
    code="MESSAGE_001",
    status=400,
    message="The send names a template that doesn't exist",
): ...


class AllRecipientsOptedOut(
    SentError,
    code="BUSINESS_004",
    status=422,
    message="Every recipient has opted out: nothing was sent",
    retryable=False,
): ...


class MessageStateConflict(
    SentError,
    code="BUSINESS_006",
    status=422,
    message="This can't be done in the message's current status",
): ...


class ScheduledAtInvalid(
    SentError,
    code="MESSAGE_002",
    status=400,
    message="scheduled_at must be an ISO 8601 date and time with a UTC offset",
): ...


class ScheduledAtInPast(
    SentError, code="MESSAGE_003", status=400, message="scheduled_at is in the past"
): ...


class ScheduledAtTooFar(
    SentError, code="MESSAGE_004", status=400, message="scheduled_at is too far ahead"
): ...


class MessageAlreadyHandedOff(
    SentError,
    code="MESSAGE_005",
    status=409,
    message="Too late: the message has been handed to its provider",
    retryable=False,  # the SDK retries 409s; this one never changes
): ...
