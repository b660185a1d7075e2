"""/providers/whatsapp/webhook: Meta's verification handshake, signatures checked on the raw
body with the right app secret, every request recorded, a verified one applied once
(docs/providers/whatsapp.md#the-webhook)."""

import json

import pytest

from django.urls import reverse

from messaging.models import CallbackOutcome, Message, ProviderCallback
from messaging.providers.accounts import account_create
from templates_app.models import Template
from tests.fakes.whatsapp import FakeGraph
from tests.messaging.factories import make_approved_template, number, send
from tests.messaging.provider_factories import make_sender
from tests.messaging.providers.conftest import VERIFY_TOKEN, apply_callbacks
from tests.templates_app.factories import make_template

URL = "/providers/whatsapp/webhook"


# The request commits its record and then wakes the callbacks job, as it does when served.
pytestmark = pytest.mark.django_db(transaction=True)


def cloud_account(name: str, waba_id: str, app_secret: str, **secrets):
    """A Cloud API provider account (a customer's own WABA, with its own app secret)."""
    return account_create(
        kind="cloud_api",
        name=name,
        account_id=waba_id,
        access_token=f"EAAG{waba_id}",
        app_secret=app_secret,
        **secrets,
    )


GLOBEX = ("Globex WhatsApp", "200000000000001", "globex-app-secret")
MALLORY = ("Mallory's WhatsApp", "300000000000003", "mallory-app-secret")


@pytest.fixture
def meta(settings):
    """The install configured for the Cloud API, and a fake Meta to sign webhooks with (no
    Graph calls here: these messages go out through the simulator)."""
    fake = FakeGraph()
    settings.WHATSAPP_APP_SECRET = fake.app_secret
    settings.WHATSAPP_VERIFY_TOKEN = VERIFY_TOKEN
    settings.WHATSAPP_BUSINESS_ACCOUNT_ID = fake.waba_id
    settings.SITE_URL = "https://sent.example.com"
    return fake


def post(client, fake: FakeGraph, payload, *, signature: str | None = None, secret=None):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {}
    signature = fake.sign(raw, secret) if signature is None else signature
    if signature:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    return client.post(URL, data=raw, content_type="application/json", **headers)


@pytest.fixture
def delivered_message(account, meta):
    """A WhatsApp message SENT by the simulator, and Meta's `delivered` for it."""
    make_approved_template(account)
    [message] = send(account, number(12))
    Message.objects.filter(pk=message.pk).update(status="SENT")
    wamid = "wamid.HBgLMTQxNTU1NTAwMTIVAgARGBJBQjEyQ0QzNEVGNTZHSDc4AA=="
    Message.objects.filter(pk=message.pk).update(provider_message_id=wamid)
    meta.by_wamid[wamid] = {"to": message.phone, "biz_opaque_callback_data": str(message.pk)}
    return message, meta.status_payload(wamid, "delivered")


def test_the_route_is_named_for_reversing():
    assert reverse("whatsapp-webhook") == URL


@pytest.mark.parametrize(
    "query,status",
    [
        ({"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN}, 200),
        ({"hub.mode": "subscribe", "hub.verify_token": "account-verify-token"}, 200),
        ({"hub.mode": "subscribe", "hub.verify_token": "not-it"}, 403),
        ({"hub.mode": "subscribe", "hub.verify_token": ""}, 403),
        ({"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN}, 403),
        ({}, 403),
    ],
)
def test_the_verification_handshake_answers_the_challenge_only_for_our_verify_token(
    client, db, meta, query, status
):
    cloud_account(*GLOBEX, verify_token="account-verify-token")
    response = client.get(URL, {**query, "hub.challenge": "1158201444"})
    assert response.status_code == status
    assert response["content-type"].startswith("text/plain")
    if status == 200:
        assert response.content == b"1158201444"
    else:
        assert b"1158201444" not in response.content


def test_no_verify_token_configured_verifies_nothing(client, db, meta, settings):
    settings.WHATSAPP_VERIFY_TOKEN = ""
    response = client.get(
        URL, {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "signature,detail",
    [
        ("", "No X-Hub-Signature-256 header"),
        ("sha256=" + "0" * 64, "X-Hub-Signature-256 doesn't match the body"),
        ("sha1=deadbeef", "X-Hub-Signature-256 doesn't match the body"),
        (None, "X-Hub-Signature-256 doesn't match the body"),  # signed with another secret
    ],
)
def test_a_bad_or_missing_signature_is_refused_recorded_and_never_applied(
    client, delivered_message, meta, signature, detail
):
    message, payload = delivered_message
    response = post(client, meta, payload, signature=signature, secret="someone-else")

    assert response.status_code == 403
    record = ProviderCallback.objects.get()
    assert (record.provider, record.kind, record.outcome, record.detail) == (
        "cloud_api",
        "status",
        CallbackOutcome.REJECTED,
        detail,
    )
    assert record.url == "https://sent.example.com/providers/whatsapp/webhook"
    assert json.loads(record.body) == payload
    assert Message.objects.get(pk=message.pk).status == "SENT"


def test_a_body_changed_after_signing_is_refused(client, delivered_message, meta):
    message, payload = delivered_message
    raw = json.dumps(payload).encode()
    signature = meta.sign(raw)
    tampered = raw.replace(b'"delivered"', b'"read"')
    response = post(client, meta, tampered, signature=signature)
    assert response.status_code == 403
    assert Message.objects.get(pk=message.pk).status == "SENT"


def test_a_verified_status_applies_once_and_a_replay_changes_nothing(
    client, delivered_message, meta
):
    message, payload = delivered_message

    first = post(client, meta, payload)
    replay = post(client, meta, payload)

    assert (first.status_code, replay.status_code) == (200, 200)
    assert Message.objects.get(pk=message.pk).status == "SENT"  # answered; applied by a job
    apply_callbacks()
    message.refresh_from_db()
    assert message.status == "DELIVERED"
    assert message.activities.filter(status="DELIVERED").count() == 1
    assert message.pricing_category == "utility"
    outcomes = list(ProviderCallback.objects.order_by("id").values_list("outcome", "detail"))
    assert outcomes == [
        (CallbackOutcome.APPLIED, "statuses: 1 applied, 0 recorded, 0 of unknown messages"),
        (CallbackOutcome.DUPLICATE, "The same request was recorded before: nothing changed"),
    ]


def test_a_webhook_for_an_account_s_waba_is_checked_with_that_account_s_app_secret(
    client, delivered_message, meta
):
    message, payload = delivered_message
    globex = cloud_account(*GLOBEX, verify_token="globex-verify")
    sender = make_sender(message.customer, globex, "+14155550999")
    Message.objects.filter(pk=message.pk).update(sender=sender)  # it went out on their number
    payload["entry"][0]["id"] = globex.account_id

    assert post(client, meta, payload).status_code == 403  # the install's secret: not theirs
    assert post(client, meta, payload, secret="globex-app-secret").status_code == 200
    apply_callbacks()

    applied = ProviderCallback.objects.get(outcome=CallbackOutcome.APPLIED)
    assert applied.account == globex
    assert Message.objects.get(pk=message.pk).status == "DELIVERED"


def test_an_account_s_secret_never_signs_for_another_account_s_messages_or_numbers(
    client, delivered_message, meta, other_account
):
    """A customer with its own WhatsApp account (and so its own app secret) signs a status
    for a message the install's number sent, and a STOP to another customer's number: both
    are ignored, nothing of theirs changes."""
    message, payload = delivered_message
    mallory = cloud_account(*MALLORY)
    theirs = cloud_account(*GLOBEX)
    number_of_theirs = make_sender(other_account, theirs, "+14155550888")
    payload["entry"][0]["id"] = mallory.account_id
    stop = meta.inbound_payload(meta.inbound_item("+14155550112", "text", {"body": "STOP"}))
    stop["entry"][0]["id"] = mallory.account_id
    stop["entry"][0]["changes"][0]["value"]["metadata"] = {
        "display_phone_number": "14155550888",  # their number
        "phone_number_id": number_of_theirs.provider_ref,
    }

    for forged in (payload, stop):
        assert post(client, meta, forged, secret="mallory-app-secret").status_code == 200
    apply_callbacks()

    assert Message.objects.get(pk=message.pk).status == "SENT"
    assert not Message.objects.filter(direction="INBOUND").exists()
    outcomes = list(ProviderCallback.objects.order_by("id").values_list("outcome", "detail"))
    assert outcomes[0] == (
        CallbackOutcome.IGNORED,
        "statuses: 0 applied, 0 recorded, 1 of unknown messages",
    )
    assert outcomes[1][0] == CallbackOutcome.IGNORED and "unknown_number" in outcomes[1][1]


def test_inbound_messages_to_nobody_s_number_other_fields_and_unknown_messages_are_ignored(
    client, db, meta
):
    inbound = meta.envelope(
        "messages",
        {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000001", "phone_number_id": "1"},
            "contacts": [{"profile": {"name": "Ana"}, "wa_id": "14155550112"}],
            "messages": [
                {
                    "from": "14155550112",
                    "id": "wamid.inbound",
                    "timestamp": "1700000000",
                    "type": "text",
                    "text": {"body": "Hi!"},
                }
            ],
        },
    )
    other = meta.envelope("account_update", {"event": "VERIFIED_ACCOUNT"})
    unknown = meta.status_payload("wamid.unknown", "delivered")

    for payload in (inbound, other, unknown):
        assert post(client, meta, payload).status_code == 200
    apply_callbacks()

    records = list(ProviderCallback.objects.order_by("id").values_list("kind", "outcome", "detail"))
    assert records == [
        (
            "inbound",
            CallbackOutcome.IGNORED,
            "inbound: 0 stored; wamid.inbound: unknown_number: No customer receives on "
            "+15550000001 (cloud_api whatsapp): not attached to anyone",
        ),
        ("account_update", CallbackOutcome.IGNORED, "field account_update: not handled"),
        (
            "status",
            CallbackOutcome.IGNORED,
            "statuses: 0 applied, 0 recorded, 1 of unknown messages",
        ),
    ]


def test_a_body_that_is_not_json_is_recorded_and_ignored_when_signed(client, db, meta):
    assert post(client, meta, b"not json").status_code == 200
    assert post(client, meta, b"not json either", signature="").status_code == 403
    apply_callbacks()
    assert list(ProviderCallback.objects.order_by("id").values_list("outcome", flat=True)) == [
        CallbackOutcome.IGNORED,
        CallbackOutcome.REJECTED,
    ]


def test_an_account_s_secret_never_judges_another_customer_s_template(
    client, meta, other_account, settings
):
    """A tenant's own WhatsApp account signs an APPROVED for a template another customer has
    in review on the install's WABA: ignored, the template stays in review; Meta's own verdict
    (signed with the install's secret) applies."""
    settings.WHATSAPP_PROVIDER = "cloud_api"
    template = make_template(other_account, status=Template.Status.PENDING)
    Template.objects.filter(pk=template.pk).update(whatsapp_template_id="7700")
    cloud_account(*MALLORY)
    verdict = {
        "event": "APPROVED",
        "message_template_id": 7700,
        "message_template_name": template.whatsapp_template_name or template.name,
        "message_template_language": template.language,
        "reason": "NONE",
    }
    forged = meta.envelope("message_template_status_update", verdict)
    forged["entry"][0]["id"] = "300000000000003"

    assert post(client, meta, forged, secret="mallory-app-secret").status_code == 200
    apply_callbacks()
    assert Template.objects.get(pk=template.pk).status == Template.Status.PENDING
    assert ProviderCallback.objects.get().outcome == CallbackOutcome.IGNORED

    assert (
        post(client, meta, meta.envelope("message_template_status_update", verdict)).status_code
        == 200
    )
    apply_callbacks()
    assert Template.objects.get(pk=template.pk).status == Template.Status.APPROVED


def test_one_meta_app_for_two_wabas_signs_for_both_in_one_webhook(client, account, meta, settings):
    make_approved_template(account)
    wabas = [
        cloud_account(f"WABA {n}", f"40000000000000{n}", "one-app-secret")  # one Meta app
        for n in (1, 2)
    ]
    payload = {"object": "whatsapp_business_account", "entry": []}
    messages = []
    for n, waba in enumerate(wabas):
        [message] = send(account, number(20 + n))
        wamid = f"wamid.two-wabas-{n}"
        sender = make_sender(account, waba, f"+1415555090{n}")
        Message.objects.filter(pk=message.pk).update(
            status="SENT", provider_message_id=wamid, sender=sender
        )
        entry = meta.status_payload(wamid, "delivered")["entry"][0]
        entry["id"] = waba.account_id
        payload["entry"].append(entry)
        messages.append(message)

    assert post(client, meta, payload, secret="one-app-secret").status_code == 200
    apply_callbacks()

    assert [Message.objects.get(pk=m.pk).status for m in messages] == ["DELIVERED", "DELIVERED"]
