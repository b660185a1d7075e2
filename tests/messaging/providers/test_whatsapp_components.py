"""Our definitions in Meta's terms: what a send carries and what review creates
(docs/providers/whatsapp.md#templates)."""

import pytest

from messaging.providers.whatsapp_components import (
    Untranslatable,
    create_components,
    meta_text,
    template_payload,
)
from messaging.sending import SendRequest
from messaging.services import message_send
from templates_app.services import templates_seed_demo
from tests.messaging.factories import number
from tests.templates_app.factories import make_template, variable


@pytest.fixture
def demo(account):
    return {template.name: template for template in templates_seed_demo(account)}


def test_placeholders_become_meta_s_positions_whatever_our_ids_start_at():
    section = {"variables": [variable(0, "name"), variable(1, "order_id")]}
    assert meta_text("Hi {{0:name}}, order {{1:order_id}}", section) == "Hi {{1}}, order {{2}}"
    section = {"variables": [variable(1, "name"), variable(2, "order_id")]}
    assert meta_text("{{2:order_id}} for {{1:name}}", section) == "{{2}} for {{1}}"


def test_an_authentication_template_sends_its_code_in_the_body_and_the_otp_button(demo):
    payload = template_payload(demo["verification_code"], {"code": "482913"})
    assert payload == {
        "template": {
            "name": "verification_code",
            "language": {"code": "en_US"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "482913"}]},
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": 0,
                    "parameters": [{"type": "text", "text": "482913"}],
                },
            ],
        }
    }
    assert create_components(demo["verification_code"].definition, "AUTHENTICATION") == [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "FOOTER", "code_expiration_minutes": 10},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]},
    ]


def test_the_whatsapp_body_of_a_pair_is_the_one_meta_gets_and_static_buttons_take_nothing(demo):
    sale = demo["summer_sale"]
    payload = template_payload(sale, {"name": "Ana", "discount": "20%"})
    assert payload["template"]["components"] == [
        {
            "type": "body",
            "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "20%"}],
        },
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": 1,
            "parameters": [{"type": "payload", "payload": "Stop promotions"}],
        },
    ]
    [_header, body, _footer, buttons] = create_components(sale.definition, "MARKETING")
    assert body["text"].startswith("Hi {{1}}, our summer sale is on! Enjoy {{2}} off")
    assert buttons == {
        "type": "BUTTONS",
        "buttons": [
            {"type": "URL", "text": "Shop now", "url": "https://shop.example.com/sale"},
            {"type": "QUICK_REPLY", "text": "Stop promotions"},
        ],
    }


def test_media_headers_phone_and_copy_code_buttons(account):
    template = make_template(
        account,
        name="receipt",
        definition_={
            "header": {"type": "document", "example_url": "https://cdn.example.com/r.pdf"},
            "body": {
                "multiChannel": {
                    "type": "text",
                    "template": "Hi {{1:name}}, your receipt for order {{2:order_id}} is "
                    "attached above. Thank you for shopping with us!",
                    "variables": [variable(1, "name", "Ana"), variable(2, "order_id", "A-7")],
                }
            },
            "buttons": [
                {
                    "type": "PHONE_NUMBER",
                    "props": {"text": "Call us", "countryCode": "+1", "phoneNumber": "4155550100"},
                },
                {"type": "COPY_CODE", "props": {"text": "Copy code", "offerCode": "THANKS10"}},
            ],
        },
    )
    values = {"name": "Ana", "order_id": "A-7", "header_document": "https://cdn.example.com/7.pdf"}
    components = template_payload(template, values)["template"]["components"]
    assert components[0] == {
        "type": "header",
        "parameters": [{"type": "document", "document": {"link": "https://cdn.example.com/7.pdf"}}],
    }
    assert components[2] == {
        "type": "button",
        "sub_type": "copy_code",
        "index": 1,
        "parameters": [{"type": "coupon_code", "coupon_code": "THANKS10"}],
    }
    assert len(components) == 3  # the phone button takes nothing at send time
    definition = dict(template.definition, header=None)
    assert create_components(definition, "UTILITY")[-1]["buttons"] == [
        {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "14155550100"},
        {"type": "COPY_CODE", "example": "THANKS10"},
    ]
    with pytest.raises(Untranslatable, match="A document header needs its sample uploaded"):
        create_components(template.definition, "UTILITY")


def test_acceptance_stores_the_components_on_whatsapp_messages_only(account, demo):
    [whatsapp, sms] = message_send(
        account,
        request=SendRequest(
            to=[number(12)],
            channels=["whatsapp", "sms"],
            template_name="order_shipped",
            parameters={"name": "Ana", "order_id": "A-1001", "delivery_date": "Friday"},
        ),
    ).messages
    assert whatsapp.provider_payload["template"]["name"] == "order_shipped"
    assert whatsapp.provider_payload["template"]["components"][0] == {
        "type": "body",
        "parameters": [
            {"type": "text", "text": "Ana"},
            {"type": "text", "text": "A-1001"},
            {"type": "text", "text": "Friday"},
        ],
    }
    assert sms.provider_payload == {}
