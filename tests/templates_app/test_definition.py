"""definition_normalize: every format rule answers VALIDATION_001 with the offending field's
path in `details`; valid definitions come back normalised. Plus what is derived from them.
(WhatsApp's review rules, checked at submission: test_whatsapp_rules.py.)"""

import copy

import pytest

from sent_project.errors import ValidationFailed
from templates_app.definition import (
    definition_channels,
    definition_variables,
    derive_display_name,
    derive_name,
    detect_category,
)
from templates_app.validation import definition_normalize
from tests.templates_app.factories import content, definition, pair_definition, variable

MC = "definition.body.multiChannel"


def errors(raw, category: str = "UTILITY") -> dict:
    with pytest.raises(ValidationFailed) as raised:
        definition_normalize(raw, category=category)
    assert raised.value.code == "VALIDATION_001"
    assert raised.value.status == 400
    return raised.value.details


def body(text: str, names=("name", "order_id"), **kwargs) -> dict:
    return {"body": {"multiChannel": content(text, names, **kwargs)}}


def with_vars(text: str, variables: list) -> dict:
    return {"body": {"multiChannel": {"template": text, "variables": variables}}}


def button(kind: str, **props) -> dict:
    return {"type": kind, "props": props}


OK_TEXT = "Hi {{0:name}}, your order {{1:order_id}} has shipped and arrives soon."

CASES = [
    # (id, raw definition, category, path, fragment of the message)
    ("not an object", "hello", "UTILITY", "definition", "Must be an object."),
    ("no body", {"footer": None}, "UTILITY", "definition.body", "This field is required."),
    (
        "multiChannel and sms mixed",
        {"body": {"multiChannel": content(OK_TEXT), "sms": content(OK_TEXT)}},
        "UTILITY",
        "definition.body",
        "not both",
    ),
    (
        "whatsapp alone",
        {"body": {"whatsapp": content(OK_TEXT)}},
        "UTILITY",
        "definition.body.sms",
        "needs an sms body too",
    ),
    (
        "rcs alone",
        {"body": {"rcs": content(OK_TEXT)}},
        "UTILITY",
        "definition.body",
        "Give a multiChannel body",
    ),
    (
        "template missing",
        {"body": {"multiChannel": {"variables": []}}},
        "UTILITY",
        f"{MC}.template",
        "This field is required.",
    ),
    (
        "template not a string",
        {"body": {"multiChannel": {"template": 5}}},
        "UTILITY",
        f"{MC}.template",
        "Must be a string.",
    ),
    (
        "template blank",
        {"body": {"multiChannel": {"template": "  "}}},
        "UTILITY",
        f"{MC}.template",
        "may not be blank",
    ),
    (
        "NUL character",
        {"body": {"multiChannel": {"template": "Hi\x00there"}}},
        "UTILITY",
        f"{MC}.template",
        "can't be stored",
    ),
    (
        "body type not text",
        {"body": {"multiChannel": {"template": "Hello there", "type": "image"}}},
        "UTILITY",
        f"{MC}.type",
        'Must be "text".',
    ),
    (
        "body over 1024",
        {"body": {"multiChannel": {"template": "word " * 205}}},
        "UTILITY",
        f"{MC}.template",
        "At most 1024 characters",
    ),
    (
        "rcs over 3072",
        {"body": {"multiChannel": content(OK_TEXT), "rcs": {"template": "a" * 3073}}},
        "UTILITY",
        "definition.body.rcs.template",
        "At most 3072 characters",
    ),
    # placeholders and variables
    (
        "placeholder without id",
        with_vars("Hello {{name}} and welcome", []),
        "UTILITY",
        f"{MC}.template",
        "Placeholders look like {{0:name}}, not {{name}}",
    ),
    (
        "placeholder not closed",
        with_vars("Hello {{0:name and welcome", []),
        "UTILITY",
        f"{MC}.template",
        "not closed",
    ),
    (
        "placeholder not declared",
        with_vars("Hello {{0:name}} and welcome home", []),
        "UTILITY",
        f"{MC}.template",
        "{{0}} refers to no declared variable",
    ),
    (
        "variable not used",
        with_vars("Hello there friend", [variable(0, "name")]),
        "UTILITY",
        f"{MC}.variables.0",
        "Variable 'name' (id 0) does not appear",
    ),
    (
        "duplicate ids",
        with_vars(
            "Hi {{0:a}}, and hello again to you all {{0:a}} friends",
            [variable(0, "a"), variable(0, "b")],
        ),
        "UTILITY",
        f"{MC}.variables.1.id",
        "Variables must have unique IDs.",
    ),
    (
        "duplicate names",
        with_vars(
            "Hi {{0:a}}, and hello {{1:a}} to all of you friends",
            [variable(0, "a"), variable(1, "a")],
        ),
        "UTILITY",
        f"{MC}.variables.1.name",
        "Variable names must be unique",
    ),
    (
        "name starting with a digit",
        with_vars("Hi {{0:x}}, welcome to the team", [variable(0, "1st")]),
        "UTILITY",
        f"{MC}.variables.0.name",
        "Must start with a letter",
    ),
    (
        "name with a dash",
        with_vars("Hi {{0:x}}, welcome to the team", [variable(0, "first-name")]),
        "UTILITY",
        f"{MC}.variables.0.name",
        "only letters, digits and underscores",
    ),
    (
        "name missing",
        with_vars("Hi {{0:x}}, welcome to the team", [{"id": 0, "type": "variable"}]),
        "UTILITY",
        f"{MC}.variables.0.name",
        "This field is required.",
    ),
    (
        "unknown variable type",
        with_vars("Hi {{0:x}}, welcome to the team", [{**variable(0, "x"), "type": "number"}]),
        "UTILITY",
        f"{MC}.variables.0.type",
        "Must be one of: variable, link, media.",
    ),
    (
        "negative id",
        with_vars("Hi {{0:x}}, welcome to the team", [variable(-1, "x")]),
        "UTILITY",
        f"{MC}.variables.0.id",
        "Must be a whole number, 0 or more.",
    ),
    (
        "ids from 2",
        with_vars("Hi {{2:a}}, you are welcome here today", [variable(2, "a")]),
        "UTILITY",
        f"{MC}.variables",
        "Variable ids start at 0 or 1 (got 2).",
    ),
    (
        "ids from 0 in the body and 1 in the footer",
        {
            **body(OK_TEXT),
            "footer": {"template": "Ref {{1:ref}}", "variables": [variable(1, "ref")]},
        },
        "UTILITY",
        "definition.footer.variables",
        "Variable ids start at 0",
    ),
    (
        "props not an object",
        with_vars("Hi {{0:x}}, welcome to the team", [{**variable(0, "x"), "props": 3}]),
        "UTILITY",
        f"{MC}.variables.0.props",
        "Must be an object.",
    ),
    (
        "bad regex",
        with_vars(
            "Hi {{0:x}}, welcome to the team", [{**variable(0, "x"), "props": {"regex": "(["}}]
        ),
        "UTILITY",
        f"{MC}.variables.0.props.regex",
        "Not a valid regular expression.",
    ),
    # header
    (
        "unknown header type",
        {**body(OK_TEXT), "header": {"type": "audio", "template": "x"}},
        "UTILITY",
        "definition.header.type",
        "Must be one of: text, image",
    ),
    (
        "uppercase header type",
        {**body(OK_TEXT), "header": {"type": "TEXT", "template": "x"}},
        "UTILITY",
        "definition.header.type",
        "(lowercase)",
    ),
    (
        "header over 60",
        {**body(OK_TEXT), "header": {"template": "h" * 61}},
        "UTILITY",
        "definition.header.template",
        "At most 60 characters",
    ),
    (
        "header with two variables",
        {
            **body(OK_TEXT),
            "header": {
                "template": "{{0:a}} and {{1:b}}",
                "variables": [variable(0, "a"), variable(1, "b")],
            },
        },
        "UTILITY",
        "definition.header.variables",
        "at most one variable",
    ),
    (
        "header with a line break",
        {**body(OK_TEXT), "header": {"template": "Two\nlines"}},
        "UTILITY",
        "definition.header.template",
        "can't have newlines, emojis",
    ),
    (
        "header with an emoji",
        {**body(OK_TEXT), "header": {"template": "Sale 🎉"}},
        "UTILITY",
        "definition.header.template",
        "can't have newlines, emojis",
    ),
    (
        "media header without a sample",
        {**body(OK_TEXT), "header": {"type": "image"}},
        "UTILITY",
        "definition.header.example_url",
        "needs a sample",
    ),
    (
        "media header sample with a malformed host",
        {**body(OK_TEXT), "header": {"type": "image", "example_url": "https://[::1/a.png"}},
        "UTILITY",
        "definition.header.example_url",
        "Must be an https URL.",
    ),
    (
        "MMS media with a malformed host",
        {
            "body": {
                **body(OK_TEXT)["body"],
                "mms": {"template": "See the picture", "media": [{"url": "https://[x/y.png"}]},
            }
        },
        "UTILITY",
        "definition.body.mms.media.0.url",
        "Must be a public https URL.",
    ),
    (
        "media header sample not https",
        {**body(OK_TEXT), "header": {"type": "video", "example_url": "http://s.dm/s/ABCDEFGH"}},
        "UTILITY",
        "definition.header.example_url",
        "Must be an https URL.",
    ),
    # footer
    (
        "footer over 60",
        {**body(OK_TEXT), "footer": {"template": "f" * 61}},
        "UTILITY",
        "definition.footer.template",
        "At most 60 characters",
    ),
    (
        "footer without text",
        {**body(OK_TEXT), "footer": {"type": "text"}},
        "UTILITY",
        "definition.footer.template",
        "This field is required.",
    ),
    # buttons
    (
        "eleven buttons",
        {**body(OK_TEXT), "buttons": [button("QUICK_REPLY", text="A")] * 11},
        "UTILITY",
        "definition.buttons",
        "At most 10 buttons (got 11).",
    ),
    (
        "unknown button type",
        {**body(OK_TEXT), "buttons": [button("CALLBACK", text="A")]},
        "UTILITY",
        "definition.buttons.0.type",
        "Unknown button type",
    ),
    (
        "button without type",
        {**body(OK_TEXT), "buttons": [{"props": {"text": "A"}}]},
        "UTILITY",
        "definition.buttons.0.type",
        "This field is required.",
    ),
    (
        "button without props",
        {**body(OK_TEXT), "buttons": [{"type": "QUICK_REPLY"}]},
        "UTILITY",
        "definition.buttons.0.props",
        "This field is required.",
    ),
    (
        "duplicate button ids",
        {
            **body(OK_TEXT),
            "buttons": [
                {"id": 1, **button("QUICK_REPLY", text="A")},
                {"id": 1, **button("QUICK_REPLY", text="B")},
            ],
        },
        "UTILITY",
        "definition.buttons.1.id",
        "Button IDs must be unique.",
    ),
    (
        "button text over 25",
        {**body(OK_TEXT), "buttons": [button("QUICK_REPLY", text="b" * 26)]},
        "UTILITY",
        "definition.buttons.0.props.text",
        "At most 25 characters",
    ),
    (
        "button without text",
        {**body(OK_TEXT), "buttons": [button("QUICK_REPLY")]},
        "UTILITY",
        "definition.buttons.0.props.text",
        "This field is required.",
    ),
    (
        "button text with an emoji",
        {**body(OK_TEXT), "buttons": [button("QUICK_REPLY", text="Yes 👍")]},
        "UTILITY",
        "definition.buttons.0.props.text",
        "Buttons can't have any variables, newlines",
    ),
    (
        "button text with a variable",
        {**body(OK_TEXT), "buttons": [button("QUICK_REPLY", text="Hi {{0:x}}")]},
        "UTILITY",
        "definition.buttons.0.props.text",
        "Buttons can't have any variables",
    ),
    (
        "button text with formatting",
        {**body(OK_TEXT), "buttons": [button("QUICK_REPLY", text="*Yes*")]},
        "UTILITY",
        "definition.buttons.0.props.text",
        "formatting characters",
    ),
    (
        "URL button without a URL",
        {**body(OK_TEXT), "buttons": [button("URL", text="Go")]},
        "UTILITY",
        "definition.buttons.0.props.url",
        "This field is required.",
    ),
    (
        "URL button with a relative URL",
        {**body(OK_TEXT), "buttons": [button("URL", text="Go", url="/x")]},
        "UTILITY",
        "definition.buttons.0.props.url",
        "absolute http(s) URL",
    ),
    (
        "static URL with a variable",
        {**body(OK_TEXT), "buttons": [button("URL", text="Go", url="https://ex.com/{{0:id}}")]},
        "UTILITY",
        "definition.buttons.0.props.url",
        'use urlType "dynamic"',
    ),
    (
        "dynamic URL not ending with its variable",
        {
            **body(OK_TEXT),
            "buttons": [
                button(
                    "URL",
                    text="Go",
                    urlType="dynamic",
                    url="https://ex.com/{{0:id}}/x",
                    variables=[variable(0, "id")],
                )
            ],
        },
        "UTILITY",
        "definition.buttons.0.props.url",
        "ends with its variable",
    ),
    (
        "dynamic URL variable not declared",
        {
            **body(OK_TEXT),
            "buttons": [button("URL", text="Go", urlType="dynamic", url="https://ex.com/{{0:id}}")],
        },
        "UTILITY",
        "definition.buttons.0.props.url",
        "refers to no declared variable",
    ),
    (
        "URL button with a malformed host",
        {**body(OK_TEXT), "buttons": [button("URL", text="Go", url="https://[ex.com/x")]},
        "UTILITY",
        "definition.buttons.0.props.url",
        "absolute http(s) URL",
    ),
    (
        "unknown urlType",
        {
            **body(OK_TEXT),
            "buttons": [button("URL", text="Go", urlType="weird", url="https://ex.com")],
        },
        "UTILITY",
        "definition.buttons.0.props.urlType",
        'Must be "static" or "dynamic".',
    ),
    (
        "invalid phone number",
        {
            **body(OK_TEXT),
            "buttons": [button("PHONE_NUMBER", text="Call", countryCode="+1", phoneNumber="123")],
        },
        "UTILITY",
        "definition.buttons.0.props.phoneNumber",
        "Not a valid phone number",
    ),
    (
        "phone button without a number",
        {**body(OK_TEXT), "buttons": [button("PHONE_NUMBER", text="Call")]},
        "UTILITY",
        "definition.buttons.0.props.phoneNumber",
        "This field is required.",
    ),
    (
        "copy code without a code",
        {**body(OK_TEXT), "buttons": [button("COPY_CODE", text="Copy")]},
        "UTILITY",
        "definition.buttons.0.props.offerCode",
        "This field is required.",
    ),
    (
        "copy code over 15",
        {**body(OK_TEXT), "buttons": [button("COPY_CODE", text="Copy", offerCode="C" * 16)]},
        "UTILITY",
        "definition.buttons.0.props.offerCode",
        "At most 15 characters",
    ),
    (
        "voice call for 0 seconds",
        {**body(OK_TEXT), "buttons": [button("VOICE_CALL", text="Call", activeFor=0)]},
        "UTILITY",
        "definition.buttons.0.props.activeFor",
        "more than 0",
    ),
    (
        "OTP button outside AUTHENTICATION",
        {**body(OK_TEXT), "buttons": [button("OTP")]},
        "UTILITY",
        "definition.buttons.0.type",
        "only for AUTHENTICATION",
    ),
    # AUTHENTICATION
    (
        "one-tap OTP without its app",
        {
            **body("Use {{0:code}} to sign in to Acme.", ("code",)),
            "buttons": [button("OTP", otpType="ONE_TAP", signatureHash="abc")],
        },
        "AUTHENTICATION",
        "definition.buttons.0.props.packageName",
        "This field is required.",
    ),
    (
        "authenticationConfig on MARKETING",
        {**body(OK_TEXT), "authenticationConfig": {"addSecurityRecommendation": True}},
        "MARKETING",
        "definition.authenticationConfig",
        "Only AUTHENTICATION",
    ),
    (
        "code expiring after 91 minutes",
        {
            **body("Use {{0:code}} to sign in to Acme.", ("code",)),
            "authenticationConfig": {"codeExpirationMinutes": 91},
        },
        "AUTHENTICATION",
        "definition.authenticationConfig.codeExpirationMinutes",
        "from 1 to 90",
    ),
]


@pytest.mark.parametrize(
    ("raw", "category", "path", "fragment"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_rule_names_the_field_it_is_about(raw, category, path, fragment):
    details = errors(copy.deepcopy(raw), category)
    assert path in details, details
    assert any(fragment in message for message in details[path]), details[path]


def test_every_problem_is_reported_at_once():
    raw = {
        **body("Hello {{0:name}} and welcome home friend", ()),
        "header": {"template": "h" * 61},
        "buttons": [button("FAX")],
    }
    assert set(errors(raw)) == {
        f"{MC}.template",
        "definition.header.template",
        "definition.buttons.0.type",
    }


def test_a_valid_definition_is_normalised():
    raw = {
        "body": {
            "multiChannel": {
                "template": OK_TEXT,
                "variables": [
                    {
                        "id": 0,
                        "name": "name",
                        "type": "variable",
                        "props": {"sample": 5, "junk": "x"},
                    },
                    {"id": 1.0, "name": "order_id", "type": "variable", "props": {"sample": True}},
                ],
            }
        },
        "buttons": [
            button("QUICK_REPLY", text="Stop"),
            button("URL", text="Go", url="https://ex.com"),
        ],
        "unknown": "dropped",
    }
    result = definition_normalize(raw, category="UTILITY")
    assert result == {
        "body": {
            "multiChannel": {
                "type": "text",
                "template": OK_TEXT,
                "variables": [
                    {"id": 0, "name": "name", "type": "variable", "props": {"sample": "5"}},
                    {"id": 1, "name": "order_id", "type": "variable", "props": {"sample": "true"}},
                ],
            }
        },
        "buttons": [
            {"id": 1, "type": "QUICK_REPLY", "props": {"text": "Stop", "quickReplyType": "custom"}},
            {
                "id": 2,
                "type": "URL",
                "props": {"text": "Go", "urlType": "static", "url": "https://ex.com"},
            },
        ],
        "definitionVersion": "1.0",
    }


def test_ids_from_one_are_accepted_when_every_section_counts_from_one():
    raw = {
        "body": {
            "multiChannel": content(
                "Hi {{1:name}}, order {{2:order_id}} has shipped today.", start=1
            )
        },
        "footer": {"template": "Ref {{1:ref}}", "variables": [variable(1, "ref")]},
    }
    assert definition_normalize(raw, category="UTILITY")["footer"]["variables"][0]["id"] == 1


def test_an_sms_only_body_is_accepted_and_escapes_the_whatsapp_context_rules():
    raw = {"body": {"sms": content("{{0:code}}", ("code",))}}
    assert definition_normalize(raw, category="UTILITY")["body"]["sms"]["template"] == "{{0:code}}"


def test_a_media_header_folds_its_sample_into_a_media_variable():
    raw = {
        **body("Hi {{1:name}}, order {{2:order_id}} has shipped today.", start=1),
        "header": {
            "type": "image",
            "example_url": "https://s.dm/s/ABCDEFGH",
            "static_resource": True,
        },
    }
    header = definition_normalize(raw, category="UTILITY")["header"]
    assert header == {
        "type": "image",
        "template": "{{1:header_image}}",
        "static_resource": True,
        "variables": [
            {
                "id": 1,
                "name": "header_image",
                "type": "media",
                "props": {"mediaType": "image", "sample": "https://s.dm/s/ABCDEFGH"},
            }
        ],
    }


def test_a_valid_authentication_template_passes():
    raw = {
        **body("Use {{0:code}} to sign in to Acme.", ("code",)),
        "buttons": [button("OTP", otpType="ONE_TAP", packageName="com.acme", signatureHash="K8a")],
        "authenticationConfig": {"addSecurityRecommendation": True, "codeExpirationMinutes": 10},
    }
    result = definition_normalize(raw, category="AUTHENTICATION")
    assert result["buttons"][0]["props"] == {
        "otpType": "ONE_TAP",
        "packageName": "com.acme",
        "signatureHash": "K8a",
    }


def test_channels_follow_the_contract_fallback_chain():
    assert definition_channels(definition_normalize(definition(), category="UTILITY")) == [
        "sms",
        "whatsapp",
        "rcs",
        "mms",
    ]
    assert definition_channels(definition_normalize(pair_definition(), category="UTILITY")) == [
        "sms",
        "whatsapp",
        "rcs",
        "mms",
    ]
    sms_only = {"body": {"sms": content("Parcel {{0:t}} is out", ("t",))}}
    assert definition_channels(definition_normalize(sms_only, category="UTILITY")) == [
        "sms",
        "rcs",
        "mms",
    ]


def test_variables_list_every_name_once_header_first():
    raw = {
        **definition(),
        "header": {"template": "Order {{0:order_id}}", "variables": [variable(0, "order_id")]},
        "footer": {"template": "Ref {{0:ref}}", "variables": [variable(0, "ref")]},
    }
    assert definition_variables(definition_normalize(raw, category="UTILITY")) == [
        "order_id",
        "name",
        "ref",
    ]


def test_names_are_derived_from_the_content():
    assert derive_name(definition()) == "hi_your_order_has_shipped"
    assert derive_name(body("Ça va? {{0:name}} déjà vu, welcome back home", ("name",))) == (
        "ca_va_deja_vu_welcome"
    )
    assert derive_name(body("123 go now friends", ())) == "template_123_go_now_friends"
    assert derive_display_name(definition()) == "Hi …, your order … has shipped and arrives soon."
    long = body("word " * 30, ())
    assert len(derive_display_name(long)) <= 60 and derive_display_name(long).endswith("…")


@pytest.mark.parametrize(
    ("raw", "category"),
    [
        ({"authenticationConfig": {}, "body": {}}, "UTILITY"),  # empty config: not a signal
        ({"authenticationConfig": {"addSecurityRecommendation": True}}, "AUTHENTICATION"),
        ({"buttons": [{"type": "OTP"}]}, "AUTHENTICATION"),
        (body("Big summer sale: 20% off everything with {{0:code}} today", ("code",)), "MARKETING"),
        (definition(), "UTILITY"),
        ("garbage", "UTILITY"),
        ({"body": "garbage", "buttons": "x"}, "UTILITY"),
    ],
)
def test_the_category_is_detected_when_not_given(raw, category):
    assert detect_category(raw) == category
