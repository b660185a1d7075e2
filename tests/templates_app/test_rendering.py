"""render_template / render_text: channel bodies, fallbacks, substitution, missing parameters,
SMS flattening with encoding and segments, WhatsApp structure, AUTHENTICATION extras."""

import pytest

from sent_project.errors import SentError
from templates_app.models import Template
from templates_app.rendering import RenderedContent, render_template, render_text, template_preview
from templates_app.validation import definition_normalize
from tests.templates_app.factories import content, definition, pair_definition, variable

PARAMS = {"name": "Ana", "order_id": "A-1001"}


def template(raw: dict, *, category: str = "UTILITY", name: str = "t") -> Template:
    """An unsaved template: rendering needs no database."""
    return Template(
        name=name, category=category, definition=definition_normalize(raw, category=category)
    )


def test_a_multichannel_body_renders_on_sms_and_whatsapp_alike():
    t = template(definition())
    sms = render_template(t, channel="sms", parameters=PARAMS)
    whatsapp = render_template(t, channel="whatsapp", parameters=PARAMS)
    expected = "Hi Ana, your order A-1001 has shipped and arrives soon."
    assert sms.body == whatsapp.body == expected
    assert isinstance(sms, RenderedContent)
    assert (sms.encoding, sms.segments, sms.characters) == ("GSM-7", 1, len(expected))
    assert (whatsapp.encoding, whatsapp.segments, whatsapp.characters) == (None, 1, len(expected))


def test_each_channel_picks_its_own_body_in_a_pair():
    t = template(pair_definition())
    params = {"name": "Ana", "code": "1234"}
    assert render_template(t, channel="sms", parameters=params).body == "Hi Ana, your code is 1234"
    assert render_template(t, channel="whatsapp", parameters=params).body == (
        "Hello Ana, here is your code 1234 for today."
    )


def test_rcs_and_mms_fall_back_to_multichannel_then_sms():
    assert render_template(
        template(definition()), channel="rcs", parameters=PARAMS
    ).body.startswith("Hi Ana")
    pair = template(pair_definition())
    params = {"name": "Ana", "code": "1234"}
    assert (
        render_template(pair, channel="mms", parameters=params).body == "Hi Ana, your code is 1234"
    )
    assert (
        render_template(pair, channel="rcs", parameters=params).body == "Hi Ana, your code is 1234"
    )


def test_an_rcs_override_wins_for_rcs_only():
    raw = definition()
    raw["body"]["rcs"] = content("Rich hello {{0:name}}, order {{1:order_id}} is coming")
    t = template(raw)
    assert (
        render_template(t, channel="rcs", parameters=PARAMS).body
        == "Rich hello Ana, order A-1001 is coming"
    )
    assert render_template(t, channel="sms", parameters=PARAMS).body.startswith("Hi Ana")


def test_an_sms_only_template_has_no_whatsapp_content():
    t = template({"body": {"sms": content("Parcel {{0:tracking}} is out", ("tracking",))}})
    assert t.channels == ["sms", "rcs", "mms"]
    with pytest.raises(SentError) as raised:
        render_template(t, channel="whatsapp", parameters={"tracking": "X"})
    assert raised.value.code == "TEMPLATE_003"
    assert raised.value.details == {"channel": ["This template renders on: sms, rcs, mms."]}


def test_variables_resolve_by_id_not_by_position_or_label():
    raw = {
        "body": {
            "multiChannel": {
                "template": "Dear {{1:whatever}}, code {{0:x}} is ready for pickup today.",
                "variables": [variable(0, "code"), variable(1, "name")],
            }
        }
    }
    rendered = render_template(template(raw), channel="sms", parameters={"name": "Bo", "code": "7"})
    assert rendered.body == "Dear Bo, code 7 is ready for pickup today."


def test_ids_counted_from_one_work_the_same():
    raw = {
        "body": {
            "multiChannel": content(
                "Hi {{1:name}}, order {{2:order_id}} has shipped today.", start=1
            )
        }
    }
    assert render_template(template(raw), channel="sms", parameters=PARAMS).body == (
        "Hi Ana, order A-1001 has shipped today."
    )


def test_a_repeated_placeholder_is_filled_everywhere():
    raw = {
        "body": {
            "multiChannel": content("Hi {{0:name}}, yes you {{0:name}}, welcome aboard.", ("name",))
        }
    }
    assert render_template(template(raw), channel="sms", parameters={"name": "Li"}).body == (
        "Hi Li, yes you Li, welcome aboard."
    )


def test_a_value_that_looks_like_a_placeholder_is_inserted_literally():
    body = render_template(
        template(definition()),
        channel="sms",
        parameters={"name": "{{1:order_id}}", "order_id": "A"},
    ).body
    assert body == "Hi {{1:order_id}}, your order A has shipped and arrives soon."


def test_missing_parameters_are_all_named_and_extra_ones_ignored():
    with pytest.raises(SentError) as raised:
        render_template(
            template(definition()), channel="sms", parameters={"other": "x", "name": " "}
        )
    assert raised.value.code == "TEMPLATE_001"
    assert raised.value.status == 400
    assert raised.value.details == {
        "template.parameters.name": ["This parameter is required."],
        "template.parameters.order_id": ["This parameter is required."],
    }
    assert "name, order_id" in raised.value.message


def test_every_declared_variable_is_required_even_if_this_channel_does_not_use_it():
    raw = pair_definition(
        sms="Your code is {{0:code}} now",
        names=("code",),
        whatsapp="Hello {{0:name}}, here is your code {{1:code}} for today.",
    )
    raw["body"]["whatsapp"] = content(
        "Hello {{0:name}}, here is your code {{1:code}} for today.", ("name", "code")
    )
    with pytest.raises(SentError) as raised:
        render_template(template(raw), channel="sms", parameters={"code": "1"})
    assert list(raised.value.details) == ["template.parameters.name"]


def test_numbers_as_values_are_rendered_as_text():
    rendered = render_template(
        template(definition()), channel="sms", parameters={"name": 5, "order_id": 7}
    )
    assert rendered.body.startswith("Hi 5, your order 7")


def test_an_unknown_channel_is_refused_with_the_enum_code():
    with pytest.raises(SentError) as raised:
        render_template(template(definition()), channel="fax", parameters=PARAMS)
    assert raised.value.code == "VALIDATION_006"


RICH = definition(
    header={
        "type": "text",
        "template": "Order {{0:order_id}}",
        "variables": [variable(0, "order_id")],
    },
    footer={"type": "text", "template": "Acme Shop"},
    buttons=[
        {
            "id": 1,
            "type": "URL",
            "props": {
                "text": "Track",
                "urlType": "dynamic",
                "url": "https://ex.com/t/{{0:order_id}}",
                "variables": [variable(0, "order_id")],
            },
        },
        {
            "id": 2,
            "type": "PHONE_NUMBER",
            "props": {"text": "Call us", "countryCode": "+1", "phoneNumber": "4155552671"},
        },
        {"id": 3, "type": "QUICK_REPLY", "props": {"text": "Stop"}},
    ],
)


def test_whatsapp_keeps_header_footer_and_buttons_structured():
    rendered = render_template(
        template(RICH), channel="whatsapp", parameters={"name": "Ana", "order_id": "A 1/2"}
    )
    assert rendered.header == "Order A 1/2"
    assert rendered.footer == "Acme Shop"
    assert rendered.body == "Hi Ana, your order A 1/2 has shipped and arrives soon."
    assert rendered.buttons == [
        {
            "type": "URL",
            "text": "Track",
            "value": "https://ex.com/t/A%201%2F2",
            "postbackData": None,
        },
        {"type": "PHONE_NUMBER", "text": "Call us", "value": "+14155552671", "postbackData": None},
        {"type": "QUICK_REPLY", "text": "Stop", "value": None, "postbackData": "Stop"},
    ]
    assert rendered.segments == 1 and rendered.encoding is None


def test_sms_flattens_header_body_footer_and_actionable_buttons_into_the_text_it_bills():
    rendered = render_template(
        template(RICH), channel="sms", parameters={"name": "Ana", "order_id": "A1"}
    )
    assert rendered.body == (
        "Order A1\nHi Ana, your order A1 has shipped and arrives soon.\nAcme Shop\n"
        "Track: https://ex.com/t/A1\nCall us: +14155552671"
    )
    assert (rendered.header, rendered.footer, rendered.buttons) == (None, None, [])
    assert rendered.characters == len(rendered.body) and rendered.encoding == "GSM-7"


def test_an_emoji_in_a_value_switches_the_sms_to_ucs2_and_more_segments():
    t = template(definition())
    gsm = render_template(t, channel="sms", parameters={"name": "Ana", "order_id": "A" * 110})
    emoji = render_template(t, channel="sms", parameters={"name": "Ana 🎉", "order_id": "A" * 110})
    assert (gsm.encoding, gsm.segments) == ("GSM-7", 1)
    assert (emoji.encoding, emoji.segments) == ("UCS-2", 3)
    assert emoji.characters == gsm.characters + 3  # " 🎉": a space and two UTF-16 units


def test_extension_characters_in_values_count_double_in_the_bill():
    t = template(definition())
    plain = render_template(t, channel="sms", parameters={"name": "Ana", "order_id": "EUR5"})
    euro = render_template(t, channel="sms", parameters={"name": "Ana", "order_id": "€5[x]"})
    assert euro.characters == plain.characters + 4  # 5 chars, 3 of them double, vs 4
    assert euro.encoding == "GSM-7"


def test_authentication_extras_add_the_security_line_the_expiry_footer_and_the_code_button():
    raw = {
        "body": {"multiChannel": content("Use {{0:code}} to sign in to Acme.", ("code",))},
        "buttons": [{"type": "OTP", "props": {"otpType": "COPY_CODE"}}],
        "authenticationConfig": {"addSecurityRecommendation": True, "codeExpirationMinutes": 5},
    }
    t = template(raw, category="AUTHENTICATION")
    whatsapp = render_template(t, channel="whatsapp", parameters={"code": "123456"})
    assert (
        whatsapp.body == "Use 123456 to sign in to Acme. For your security, do not share this code."
    )
    assert whatsapp.footer == "This code expires in 5 minutes."
    assert whatsapp.buttons == [
        {"type": "OTP", "text": "Copy code", "value": "123456", "postbackData": None}
    ]
    sms = render_template(t, channel="sms", parameters={"code": "123456"})
    assert sms.body == (
        "Use 123456 to sign in to Acme. For your security, do not share this "
        "code.\nThis code expires in 5 minutes."
    )


def test_a_media_header_is_given_as_a_url_parameter():
    raw = definition(header={"type": "image", "example_url": "https://s.dm/s/ABCDEFGH"})
    t = template(raw)
    assert t.variables == ["header_image", "name", "order_id"]
    rendered = render_template(
        t, channel="whatsapp", parameters={**PARAMS, "header_image": "https://cdn.ex.com/a.png"}
    )
    assert rendered.header_media == {"type": "image", "url": "https://cdn.ex.com/a.png"}
    assert rendered.header is None


def test_render_text_measures_free_text_per_channel():
    assert render_text("Hello {{0:x}} €", channel="sms") == RenderedContent(
        channel="sms", body="Hello {{0:x}} €", encoding="GSM-7", segments=1, characters=20
    )
    whatsapp = render_text("a" * 500, channel="whatsapp")
    assert (whatsapp.segments, whatsapp.encoding, whatsapp.characters) == (1, None, 500)
    assert render_text("a" * 161, channel="sms").segments == 2


def test_the_preview_uses_given_values_then_samples_then_the_names():
    raw = {
        "body": {
            "multiChannel": content(
                "Hi {{0:name}}, your order {{1:order_id}} has shipped and arrives soon.",
                samples={"name": "Ana"},
            )
        }
    }
    values, previews = template_preview(template(raw), parameters={"order_id": "Z9"})
    assert values == {"name": "Ana", "order_id": "Z9"}
    assert [p.channel for p in previews] == ["sms", "whatsapp"]
    _values, previews = template_preview(template(raw))
    assert previews[0].body == "Hi Ana, your order [order_id] has shipped and arrives soon."
