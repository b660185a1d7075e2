"""MMS: `media_urls` and `subject` on a send, channel `mms` to US/Canadian numbers through
Twilio (`MediaUrl` repeated), priced per message, and the rules that refuse an MMS that can't
be one (docs/api/messages.md#mms)."""

from decimal import Decimal

import pytest
import sent_dm

from billing.pricing import price_quote_detail
from messaging.models import Message
from messaging.routing import RoutingFacts, route
from tests.messaging.factories import PARAMETERS, make_approved_template, number
from tests.tasks import run_queued_tasks
from tests.templates_app.factories import content

MEDIA = ["https://cdn.example.com/menu.png", "https://cdn.example.com/map.jpg"]
TEXT = "Tonight's menu and how to find us"


def test_an_mms_goes_out_through_twilio_with_its_media_and_is_priced_as_one(sdk, twilio):
    response = sdk.messages.send(
        to=[number(60)], text=TEXT, channel=["mms"], media_urls=MEDIA, subject="Tonight"
    )
    [recipient] = response.data.recipients
    assert (recipient.channel, recipient.status) == ("mms", "QUEUED")
    run_queued_tasks()

    [create] = twilio.creates()
    assert create.form["MediaUrl"] == MEDIA  # repeated, in order
    assert create.form["Body"] == [TEXT] and create.form["From"] == ["+15005550006"]
    assert "Subject" not in create.form  # Twilio has no subject for MMS
    message = Message.objects.get(pk=recipient.message_id)
    assert message.provider_payload == {"media_urls": MEDIA, "subject": "Tonight"}
    assert message.price == Decimal("0.0220")  # one MMS, not per segment
    assert message.provider_message_id.startswith("MM")
    assert message.channel_response["num_media"] == "2"

    twilio.deliver(message.provider_message_id)
    got = sdk.messages.retrieve_status(recipient.message_id).data
    assert (got.status, got.channel, got.price) == ("DELIVERED", "mms", 0.022)
    assert got.message_body.subject == "Tonight"
    assert [item.url for item in got.message_body.media] == MEDIA


def test_an_mms_is_priced_per_message_whatever_its_length(db):
    quote = price_quote_detail(None, channel="mms", country="US", segments=4)
    assert (quote.units, quote.amount, quote.row) == (1, Decimal("0.0220"), "mms:US")


def test_a_template_s_mms_media_and_subject_are_used_and_the_request_replaces_them(
    api_client, account
):
    mms_body = {
        **content(),
        "media": [{"url": "https://cdn.example.com/parcel.png", "mediaType": "image/png"}],
        "subject": "Your parcel",
    }
    template = make_approved_template(
        account,
        definition_={"body": {"multiChannel": content(), "mms": mms_body}},
    )
    body = {"to": [number(61)], "channel": ["mms"], "template": {"id": str(template.pk),
            "parameters": PARAMETERS}}  # fmt: skip
    response = api_client.post("/v3/messages", body, format="json")
    assert response.status_code == 202, response.json()
    [recipient] = response.json()["data"]["recipients"]
    assert Message.objects.get(pk=recipient["message_id"]).provider_payload == {
        "media_urls": ["https://cdn.example.com/parcel.png"],
        "subject": "Your parcel",
    }

    response = api_client.post(
        "/v3/messages", {**body, "media_urls": MEDIA[:1], "subject": "Look"}, format="json"
    )
    [recipient] = response.json()["data"]["recipients"]
    assert Message.objects.get(pk=recipient["message_id"]).provider_payload == {
        "media_urls": MEDIA[:1],
        "subject": "Look",
    }


def test_naming_mms_without_media_anywhere_is_refused(sdk, live_account):
    make_approved_template(live_account)  # its body has no mms media
    with pytest.raises(sent_dm.BadRequestError) as error:
        sdk.messages.send(to=[number(62)], text=TEXT, channel=["mms"])
    assert error.value.body["error"]["code"] == "VALIDATION_004"
    assert list(error.value.body["error"]["details"]) == ["media_urls"]
    with pytest.raises(sent_dm.BadRequestError) as error:
        sdk.messages.send(
            to=[number(62)],
            template={"name": "order_shipped", "parameters": PARAMETERS},
            channel=["mms"],
        )
    assert error.value.body["error"]["code"] == "VALIDATION_004"
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "url",
    ["http://cdn.example.com/menu.png", "ftp://cdn.example.com/x.png", "menu.png", "https://"],
)
def test_a_media_url_that_is_not_https_is_refused(api_client, url):
    response = api_client.post(
        "/v3/messages",
        {"to": [number(63)], "text": TEXT, "media_urls": [MEDIA[0], url]},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_001"
    assert "https" in error["details"]["media_urls.1"][0]
    assert not Message.objects.exists()


def test_more_than_ten_media_are_refused(api_client):
    response = api_client.post(
        "/v3/messages",
        {"to": [number(63)], "text": TEXT, "media_urls": [MEDIA[0]] * 11},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_005"


def send(api_client, to: str, **extra) -> dict:
    response = api_client.post("/v3/messages", {"to": [to], "text": TEXT, **extra}, format="json")
    assert response.status_code == 202, response.json()
    [recipient] = response.json()["data"]["recipients"]
    return recipient


def test_automatic_routing_sends_mms_only_with_media_and_only_where_it_is_carried(api_client):
    assert send(api_client, number(64), media_urls=MEDIA)["channel"] == "mms"
    assert send(api_client, number(65))["channel"] == "sms"  # no media: an SMS
    # Outside the US and Canada the media are ignored: an SMS.
    assert send(api_client, "+447911123465", media_urls=MEDIA)["channel"] == "sms"
    assert send(api_client, "+16135550166", media_urls=MEDIA)["channel"] == "mms"  # Canada


def test_media_are_ignored_by_whatsapp_and_kept_for_the_mms_fallback(api_client, account):
    make_approved_template(account)
    response = api_client.post(
        "/v3/messages",
        {"to": [number(12)], "template": {"name": "order_shipped", "parameters": PARAMETERS},
         "media_urls": MEDIA},
        format="json",
    )  # fmt: skip
    [recipient] = response.json()["data"]["recipients"]
    assert recipient["channel"] == "whatsapp"
    message = Message.objects.get(pk=recipient["message_id"])
    assert message.fallbacks == ["mms"]  # not SMS: it would lose the media
    assert message.provider_payload["media_urls"] == MEDIA
    assert message.alternatives["mms"]["price"] == "0.0220"


def test_mms_named_for_a_number_outside_the_us_and_canada_is_blocked(api_client):
    recipient = send(api_client, "+447911123467", channel=["mms"], media_urls=MEDIA)
    assert (recipient["status"], recipient["reason_code"]) == ("BLOCKED", "BUSINESS_007")


def test_an_mms_through_the_simulator_is_delivered(api_client):
    recipient = send(api_client, number(68), channel=["mms"], media_urls=MEDIA)
    run_queued_tasks()
    message = Message.objects.get(pk=recipient["message_id"])
    assert (message.status, message.provider) == ("DELIVERED", "simulator")


def test_routing_puts_mms_in_the_place_of_sms():
    everything = frozenset({"whatsapp", "sms", "mms"})
    decision = route(
        RoutingFacts(
            region_code="US",
            reachable=everything,
            content_channels=everything,
            contact_default="sms",
        )
    )
    assert (decision.channel, decision.fallbacks) == ("mms", ("whatsapp",))
    decision = route(
        RoutingFacts(
            region_code="US",
            reachable=everything,
            content_channels=everything,
            regional_preference={"US": ["sms", "whatsapp"]},
        )
    )
    assert (decision.channel, decision.fallbacks) == ("mms", ("whatsapp",))
