"""Twilio's delivery error codes in status callbacks: media problems get their own reason
(docs/api/messages.md#reason-codes)."""

import pytest

from messaging.callbacks.twilio import status_receipt


@pytest.mark.parametrize(
    ("error_code", "reason_code"), [("11200", "DELIVERY_012"), ("30003", "DELIVERY_008")]
)
def test_a_failed_callback_names_media_problems(error_code, reason_code):
    receipt = status_receipt(
        {"MessageStatus": "undelivered", "MessageSid": "SM1", "ErrorCode": error_code}, ""
    )
    assert (receipt.status, receipt.reason_code) == ("FAILED", reason_code)
    assert receipt.reason.startswith(f"Twilio {error_code}")
