"""Error codes of the messaging app (messages and webhooks)."""

from sent_project.errors import SentError, register

register("WEBHOOK_001", 400, "This webhook URL is not allowed")
register("WEBHOOK_002", 409, "This delivery is still in progress")
register("WEBHOOK_003", 409, "This webhook is disabled: enable it first")


class WebhookUrlRefused(SentError):
    """The URL is not http(s), or points at a loopback, private, link-local or metadata address."""

    code = "WEBHOOK_001"

    def __init__(self, reason: str):
        super().__init__(
            f"This webhook URL is not allowed: {reason}", details={"endpoint_url": [reason]}
        )


class WebhookNotFound(SentError):
    code = "RESOURCE_008"


class DeliveryInProgress(SentError):
    code = "WEBHOOK_002"
    retryable = False  # the SDK retries 409s; this one won't change by retrying


class WebhookDisabled(DeliveryInProgress):
    code = "WEBHOOK_003"


# --- messages ---------------------------------------------------------------------------
register("MESSAGE_001", 400, "The send names a template that doesn't exist")
register("BUSINESS_004", 422, "Every recipient has opted out: nothing was sent")
register("BUSINESS_006", 422, "This can't be done in the message's current status")


class MessageNotFound(SentError):
    code = "RESOURCE_003"


class UnknownTemplate(SentError):
    code = "MESSAGE_001"


class AllRecipientsOptedOut(SentError):
    code = "BUSINESS_004"
    retryable = False


class MessageStateConflict(SentError):
    code = "BUSINESS_006"
