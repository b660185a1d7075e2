"""Every per-message reason code: why a message is FILTERED, BLOCKED or FAILED.

They appear as `reason_code` / `reason` on the message (GET /v3/messages/{id}), on its
status-history entries and activities, and in `message.failed`/`.blocked`/`.filtered`
webhooks. Codes are stable (clients switch on them); the sentences may change. A test keeps
the table in docs/api/messages.md#reason-codes in step with this list.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    code: str
    status: str  # the status it comes with: FILTERED, BLOCKED or FAILED
    text: str


REASONS: dict[str, Reason] = {
    r.code: r
    for r in [
        # Decided when the send is accepted: never handed to a provider, never charged.
        Reason("BUSINESS_010", "FILTERED", "The contact has opted out of messages"),
        Reason("BUSINESS_007", "BLOCKED", "The contact can't be reached on the requested channel"),
        Reason(
            "BUSINESS_009",
            "BLOCKED",
            "Free-form text can't start a WhatsApp conversation: send an approved template",
        ),
        Reason("BUSINESS_011", "BLOCKED", "No channel can carry this message to this contact"),
        Reason(
            "BUSINESS_029",
            "BLOCKED",
            "A sender named in `channels` is not an active sender of this account",
        ),
        # Decided on the way to the provider (refunded in full: it never reached a provider).
        Reason("DELIVERY_003", "FAILED", "The provider failed to take the message"),
        Reason("DELIVERY_004", "FAILED", "The carrier rejected the message as undeliverable"),
        Reason(
            "DELIVERY_005",
            "FAILED",
            "The provider stayed unavailable: gave up after the last retry",
        ),
        Reason("DELIVERY_007", "FAILED", "The recipient is not registered on this channel"),
        Reason(
            "BUSINESS_003", "FAILED", "Insufficient balance for the fallback channel's higher price"
        ),
        Reason("DELIVERY_009", "FAILED", "The provider refused the number as invalid"),
        Reason(
            "DELIVERY_010",
            "FAILED",
            "The recipient unsubscribed from this sender at the provider (replied STOP)",
        ),
        Reason("DELIVERY_011", "FAILED", "The number can't receive text messages (not a mobile)"),
        Reason(
            "DELIVERY_012",
            "FAILED",
            "The provider couldn't fetch or use the media (not a public https URL it can reach, "
            "or content it doesn't accept)",
        ),
        # Reported by the provider after it accepted the message (not refunded).
        Reason("DELIVERY_008", "FAILED", "The provider reported the message undelivered"),
    ]
}

OPTED_OUT = "BUSINESS_010"
CHANNEL_UNAVAILABLE = "BUSINESS_007"
TEXT_NEEDS_CONVERSATION = "BUSINESS_009"
NO_CHANNEL = "BUSINESS_011"
SENDER_NOT_ACTIVE = "BUSINESS_029"
PROVIDER_ERROR = "DELIVERY_003"
REJECTED = "DELIVERY_004"
RETRIES_EXHAUSTED = "DELIVERY_005"
NOT_REACHABLE = "DELIVERY_007"
FALLBACK_UNAFFORDABLE = "BUSINESS_003"
INVALID_NUMBER = "DELIVERY_009"
UNSUBSCRIBED = "DELIVERY_010"
NOT_MOBILE = "DELIVERY_011"
MEDIA_UNUSABLE = "DELIVERY_012"
UNDELIVERED = "DELIVERY_008"


def reason_text(code: str, default: str = "") -> str:
    """The sentence for a code (a provider's own code falls back to `default`)."""
    reason = REASONS.get(code)
    return reason.text if reason else (default or code)
