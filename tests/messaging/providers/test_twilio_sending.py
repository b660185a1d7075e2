"""SMS through Twilio, end to end: the official SDK sends, a worker hands each message to a
local Twilio (tests/fakes/twilio.py) configured by settings alone, and Twilio's signed
status callbacks reach the live server (docs/providers/twilio.md)."""

import pytest

from billing.models import LedgerEntry
from contacts.models import ConsentEvent, Contact
from messaging.models import Message, ProviderCallback
from tests.messaging.factories import number
from tests.messaging.providers.conftest import FROM, configure_twilio
from tests.tasks import run_queued_tasks

TEXT = "Your table for two is ready"


def send_text(sdk, *numbers: str, **options) -> list[str]:
    response = sdk.messages.send(to=list(numbers), text=TEXT, **options)
    assert response.data.status == "QUEUED"
    return [recipient.message_id for recipient in response.data.recipients]


def statuses(sdk, message_id: str) -> tuple[str, list[str]]:
    message = sdk.messages.retrieve_status(message_id).data
    return message.status, [event.status for event in message.events]


def charged(message_id: str) -> list[str]:
    return [
        str(amount)
        for amount in LedgerEntry.objects.filter(message_id=message_id)
        .order_by("id")
        .values_list("amount", flat=True)
    ]


def test_a_text_goes_out_through_twilio_and_its_callbacks_deliver_it(sdk, twilio):
    [message_id] = send_text(sdk, number(60))
    run_queued_tasks()

    [create] = twilio.creates()
    form = {key: values[0] for key, values in create.form.items()}
    assert form["To"] == number(60) and form["From"] == FROM and form["Body"] == TEXT
    assert form["StatusCallback"].endswith(f"/providers/twilio/status?message_id={message_id}")
    sid = twilio.sid_for(message_id)
    message = Message.objects.get(pk=message_id)
    assert (message.status, message.provider, message.provider_message_id) == (
        "SENT",
        "twilio",
        sid,
    )
    assert message.channel_response["status"] == "queued"
    assert "auth_token" not in str(message.channel_response)

    twilio.deliver(sid)

    # Twilio's own "sent" (handed to the carrier) is kept in the history: we were SENT already.
    assert statuses(sdk, message_id) == (
        "DELIVERED",
        ["QUEUED", "PROCESSED", "SENT", "SENT", "DELIVERED"],
    )
    assert [status for _, _, status in twilio.callbacks_sent] == [204, 204]
    assert ProviderCallback.objects.filter(outcome="applied").count() == 2
    assert len(twilio.creates(number(60))) == 1  # one request per message
    assert twilio.messages[sid]["status"] == "delivered"


def test_callbacks_out_of_order_twice_and_before_the_answer(sdk, twilio):
    twilio.callbacks_before_reply = ["delivered"]  # before Twilio's answer to our send
    [message_id] = send_text(sdk, number(61))
    run_queued_tasks()
    sid = twilio.sid_for(message_id)
    message = Message.objects.get(pk=message_id)
    assert message.status == "DELIVERED" and message.provider_message_id == sid
    assert message.provider == "twilio" and message.channel_response["sid"] == sid

    twilio.callback(sid, "sent")  # late: out of order
    twilio.callback(sid, "delivered")  # the same request again
    twilio.callback(sid, "undelivered", error_code=30003)  # after DELIVERED: can't be

    status, history = statuses(sdk, message_id)
    assert status == "DELIVERED"
    # Every event is in the history (the worker's SENT came after the callback's
    # DELIVERED); the status only went forward.
    assert history == ["QUEUED", "PROCESSED", "DELIVERED", "SENT", "SENT", "FAILED"]
    outcomes = list(ProviderCallback.objects.order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["applied", "applied", "duplicate", "applied"]
    assert charged(message_id) == ["-0.0083"]  # charged once, never refunded or again
    assert len(twilio.creates()) == 1


def test_a_callback_is_answered_at_once_and_applied_by_the_callbacks_job(sdk, twilio):
    twilio.after_callback = None  # nobody runs the receipts lane yet
    [message_id] = send_text(sdk, number(63))
    run_queued_tasks()
    twilio.deliver(twilio.sid_for(message_id))

    assert [status for _, _, status in twilio.callbacks_sent] == [204, 204]
    assert statuses(sdk, message_id)[0] == "SENT"
    assert set(ProviderCallback.objects.values_list("outcome", flat=True)) == {"pending"}

    run_queued_tasks(include_future=True)  # the receipts lane's worker, a moment later
    assert statuses(sdk, message_id) == (
        "DELIVERED",
        ["QUEUED", "PROCESSED", "SENT", "SENT", "DELIVERED"],
    )
    assert set(ProviderCallback.objects.values_list("outcome", flat=True)) == {"applied"}


def test_a_callback_before_the_send_s_answer_is_applied_after_it(sdk, twilio):
    twilio.after_callback = None
    twilio.callbacks_before_reply = ["delivered"]
    [message_id] = send_text(sdk, number(64))
    run_queued_tasks(include_future=True)  # the dispatch job, then the callbacks job

    message = Message.objects.get(pk=message_id)
    assert message.provider_message_id == twilio.sid_for(message_id)
    assert statuses(sdk, message_id) == ("DELIVERED", ["QUEUED", "PROCESSED", "SENT", "DELIVERED"])


def test_an_undelivered_callback_fails_the_message_with_twilios_code(sdk, twilio):
    [message_id] = send_text(sdk, number(62))
    run_queued_tasks()
    sid = twilio.sid_for(message_id)

    twilio.callback(sid, "sent")
    twilio.callback(sid, "undelivered", error_code=30003)

    message = sdk.messages.retrieve_status(message_id).data
    assert message.status == "FAILED"
    assert message.reason_code == "DELIVERY_008"
    assert "30003" in message.reason
    assert charged(message_id) == ["-0.0083"]  # Twilio took it: not refunded


@pytest.mark.parametrize("signature", [None, "bm90IGEgc2lnbmF0dXJl"])
def test_a_callback_without_a_valid_signature_is_refused_and_not_applied(sdk, twilio, signature):
    [message_id] = send_text(sdk, number(63))
    run_queued_tasks()
    sid = twilio.sid_for(message_id)

    response = twilio.callback(sid, "delivered", signature=signature, sign=signature is not None)

    assert response.status_code == 403
    assert Message.objects.get(pk=message_id).status == "SENT"
    [record] = ProviderCallback.objects.all()
    assert (record.provider, record.outcome) == ("twilio", "rejected")
    assert "X-Twilio-Signature" in record.detail


def test_a_callback_signed_with_another_token_or_for_another_url_is_refused(
    sdk, twilio, settings, live_server
):
    [message_id] = send_text(sdk, number(64))
    run_queued_tasks()
    sid = twilio.sid_for(message_id)

    assert twilio.callback(sid, "delivered", token="another-token").status_code == 403
    settings.SITE_URL = live_server.url + "/"  # not the URL Twilio called and signed
    assert twilio.callback(sid, "delivered").status_code == 403
    assert Message.objects.get(pk=message_id).status == "SENT"
    assert set(ProviderCallback.objects.values_list("outcome", flat=True)) == {"rejected"}


def test_a_callback_for_an_unknown_account_is_refused(sdk, twilio, live_server):
    import httpx

    response = httpx.post(
        f"{live_server.url}/providers/twilio/status",
        data={"AccountSid": "AC" + "0" * 32, "MessageSid": "SM" + "1" * 32},
        headers={"X-Twilio-Signature": "x"},
    )
    assert response.status_code == 403
    assert ProviderCallback.objects.get().outcome == "rejected"


@pytest.mark.parametrize(
    "mark,code",
    [("invalid", "DELIVERY_009"), ("landlines", "DELIVERY_011")],
)
def test_twilio_refusals_that_retrying_cant_fix_fail_and_refund(sdk, twilio, mark, code):
    getattr(twilio, mark).add(number(65))
    [message_id] = send_text(sdk, number(65))
    run_queued_tasks(include_future=True)

    message = sdk.messages.retrieve_status(message_id).data
    assert (message.status, message.reason_code) == ("FAILED", code)
    assert len(twilio.creates(number(65))) == 1  # not retried
    assert charged(message_id) == ["-0.0083", "0.0083"]  # refunded: it never reached Twilio


def test_an_unsubscribed_recipient_fails_and_is_opted_out(sdk, twilio, live_account):
    twilio.unsubscribed.add(number(66))
    [message_id] = send_text(sdk, number(66))
    run_queued_tasks(include_future=True)

    message = sdk.messages.retrieve_status(message_id).data
    assert (message.status, message.reason_code) == ("FAILED", "DELIVERY_010")
    assert charged(message_id) == ["-0.0083", "0.0083"]
    contact = Contact.objects.get(customer=live_account, phone_number=number(66))
    assert contact.opt_out is True
    [consent] = ConsentEvent.objects.filter(contact=contact)
    assert (consent.opt_out, consent.source, str(consent.message_id)) == (
        True,
        "provider",
        message_id,
    )
    assert "21610" in consent.note
    # The next send to them is FILTERED here, never handed to Twilio.
    response = sdk.messages.send(to=[number(66), number(67)], text=TEXT)
    assert [r.status for r in response.data.recipients] == ["FILTERED", "QUEUED"]


def test_an_api_key_sends_and_the_auth_token_still_verifies_callbacks(
    sdk, settings, fake_twilio, live_server
):
    configure_twilio(
        settings,
        fake_twilio,
        live_server.url,
        TWILIO_API_KEY_SID=fake_twilio.api_key_sid,
        TWILIO_API_KEY_SECRET=fake_twilio.api_key_secret,
    )
    [message_id] = send_text(sdk, number(68))
    run_queued_tasks()

    [create] = fake_twilio.creates()
    assert create.path == f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    import base64

    user = base64.b64decode(create.headers["authorization"][6:]).decode().split(":")[0]
    assert user == fake_twilio.api_key_sid
    fake_twilio.deliver(fake_twilio.sid_for(message_id))
    assert Message.objects.get(pk=message_id).status == "DELIVERED"


def test_wrong_credentials_fail_the_message_with_twilios_answer(
    sdk, settings, fake_twilio, live_server
):
    configure_twilio(settings, fake_twilio, live_server.url, TWILIO_AUTH_TOKEN="not-the-token")
    [message_id] = send_text(sdk, number(69))
    run_queued_tasks(include_future=True)

    message = Message.objects.get(pk=message_id)
    assert (message.status, message.reason_code) == ("FAILED", "DELIVERY_003")
    error = message.activities.get(kind="provider_error")
    assert error.data["provider_response"]["code"] == 20003
    assert not fake_twilio.messages
