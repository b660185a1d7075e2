"""The foundation's conventions as the official SDK sees them: 404 across tenants, envelope on
errors, idempotent replay."""

import pytest
from sent_dm import BadRequestError, NotFoundError

from contacts.models import Contact


def test_another_tenants_contact_is_a_404_through_the_sdk(sdk, other_sdk, live_account):
    mine = sdk.contacts.create(phone_number="+14155550123").data
    with pytest.raises(NotFoundError) as error:
        other_sdk.contacts.retrieve(mine.id)
    body = error.value.body
    assert body["success"] is False and body["data"] is None
    assert body["error"]["code"] == "RESOURCE_001"
    assert sdk.contacts.retrieve(mine.id).data.format_e164 == "+14155550123"


def test_validation_errors_reach_the_sdk_in_the_envelope(sdk):
    with pytest.raises(BadRequestError) as error:
        sdk.contacts.create(phone_number="not a number")
    assert error.value.body["error"]["code"].startswith("VALIDATION_")
    assert error.value.body["meta"]["version"] == "v3"


def test_an_idempotency_key_replays_through_the_sdk(sdk, live_account):
    first = sdk.contacts.with_raw_response.create(
        phone_number="+14155550124", idempotency_key="create-ana"
    )
    second = sdk.contacts.with_raw_response.create(
        phone_number="+14155550124", idempotency_key="create-ana"
    )
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.parse().data.id == first.parse().data.id
    assert second.http_response.content == first.http_response.content
    assert Contact.objects.filter(customer=live_account).count() == 1
