"""WhatsApp's review rules (templates_app.whatsapp_rules): well-formed content that
WhatsApp refuses. The format accepts every case (drafts and SMS may hold it); the rules name
the field each breach is about, as the format errors do. What a submission does with a
breach: test_whatsapp_submission.py."""

import copy

import pytest

from templates_app.services import DEMO_TEMPLATES
from templates_app.validation import definition_normalize
from templates_app.whatsapp_rules import whatsapp_rejection_reason, whatsapp_rule_breaches
from tests.templates_app.factories import content, definition, pair_definition, variable

MC = "definition.body.multiChannel"
OK_TEXT = "Hi {{0:name}}, your order {{1:order_id}} has shipped and arrives soon."


def body(text: str, names=("name", "order_id"), **kwargs) -> dict:
    return {"body": {"multiChannel": content(text, names, **kwargs)}}


def with_vars(text: str, variables: list) -> dict:
    return {"body": {"multiChannel": {"template": text, "variables": variables}}}


def button(kind: str, **props) -> dict:
    return {"type": kind, "props": props}


def breaches(raw, category: str = "UTILITY") -> dict:
    """The breaches of `raw`, which the format accepts."""
    normalized = definition_normalize(copy.deepcopy(raw), category=category)
    return whatsapp_rule_breaches(normalized, category=category)


URL = button("URL", text="Site", url="https://ex.com")
QUICK = button("QUICK_REPLY", text="Yes")

CASES = [
    # (id, raw definition, category, path, fragment of the message)
    (
        "ids with a gap",
        with_vars(
            "Hi {{0:a}}, you and {{2:b}} are welcome here today",
            [variable(0, "a"), variable(2, "b")],
        ),
        "UTILITY",
        f"{MC}.variables",
        "Variable ids must be sequential, with no gaps (got 0, 2).",
    ),
    (
        "no word before the first variable",
        body("{{0:name}}, your order {{1:order_id}} is ready now."),
        "UTILITY",
        f"{MC}.template",
        "before the first variable",
    ),
    (
        "only punctuation after the last variable",
        body("Hi {{0:name}}, your order is ready now: {{1:order_id}}."),
        "UTILITY",
        f"{MC}.template",
        "after the last variable",
    ),
    (
        "too few words",
        body("Hi {{0:name}} order {{1:order_id}} now"),
        "UTILITY",
        f"{MC}.template",
        "needs at least 5 words besides them (it has 3)",
    ),
    (
        "adjacent variables",
        body("Hello dear {{0:name}} {{1:order_id}} your order is ready now"),
        "UTILITY",
        f"{MC}.template",
        "separated only by spaces",
    ),
    (
        "leading line break",
        body("\nHi there, your order is ready", ()),
        "UTILITY",
        f"{MC}.template",
        "start or end with a line break",
    ),
    (
        "trailing line break",
        body("Hi there, your order is ready\n", ()),
        "UTILITY",
        f"{MC}.template",
        "start or end with a line break",
    ),
    (
        "three line breaks",
        body("Hi there,\n\n\nyour order is ready", ()),
        "UTILITY",
        f"{MC}.template",
        "At most two line breaks in a row.",
    ),
    (
        "five spaces",
        body("Hi there,     your order is ready", ()),
        "UTILITY",
        f"{MC}.template",
        "At most four spaces in a row.",
    ),
    (
        "context rules on the whatsapp body of a pair",
        pair_definition(whatsapp="{{0:name}} {{1:code}}"),
        "UTILITY",
        "definition.body.whatsapp.template",
        "before the first variable",
    ),
    (
        "authentication with a header",
        {**body("Use {{0:code}} to sign in to Acme.", ("code",)), "header": {"template": "Code"}},
        "AUTHENTICATION",
        "definition.header",
        "can't have a header",
    ),
    (
        "authentication with a footer",
        {**body("Use {{0:code}} to sign in to Acme.", ("code",)), "footer": {"template": "Bye"}},
        "AUTHENTICATION",
        "definition.footer",
        "codeExpirationMinutes instead",
    ),
    (
        "authentication with two variables",
        body(OK_TEXT),
        "AUTHENTICATION",
        f"{MC}.variables",
        "exactly one variable",
    ),
    (
        "authentication with a link",
        body("Use {{0:code}} at https://ex.com to sign in.", ("code",)),
        "AUTHENTICATION",
        f"{MC}.template",
        "can't contain URLs",
    ),
    (
        "authentication with a URL button",
        {
            **body("Use {{0:code}} to sign in to Acme.", ("code",)),
            "buttons": [button("URL", text="Go", url="https://ex.com")],
        },
        "AUTHENTICATION",
        "definition.buttons.0.type",
        "only take OTP buttons",
    ),
    (
        "authentication with two OTP buttons",
        {
            **body("Use {{0:code}} to sign in to Acme.", ("code",)),
            "buttons": [{"id": 1, **button("OTP")}, {"id": 2, **button("OTP")}],
        },
        "AUTHENTICATION",
        "definition.buttons",
        "one OTP button at most",
    ),
    # numbering: every section WhatsApp reviews
    (
        "footer ids with a gap",
        {
            **body(OK_TEXT),
            "footer": {
                "template": "Ref {{0:a}} and {{2:b}}",
                "variables": [variable(0, "a"), variable(2, "b")],
            },
        },
        "UTILITY",
        "definition.footer.variables",
        "with no gaps (got 0, 2)",
    ),
    # Meta's button limits
    (
        "three URL buttons",
        {**body(OK_TEXT), "buttons": [URL, URL, URL]},
        "UTILITY",
        "definition.buttons",
        "At most 2 URL button(s) (got 3).",
    ),
    (
        "two phone number buttons",
        {
            **body(OK_TEXT),
            "buttons": [
                button("PHONE_NUMBER", text="Call", countryCode="+1", phoneNumber="4155550123")
            ]
            * 2,
        },
        "UTILITY",
        "definition.buttons",
        "At most 1 phone number button(s) (got 2).",
    ),
    (
        "two copy-code buttons",
        {**body(OK_TEXT), "buttons": [button("COPY_CODE", text="Copy", offerCode="SAVE10")] * 2},
        "UTILITY",
        "definition.buttons",
        "At most 1 copy-code button(s) (got 2).",
    ),
    (
        "quick replies split by another button",
        {**body(OK_TEXT), "buttons": [QUICK, URL, QUICK]},
        "UTILITY",
        "definition.buttons",
        "Quick replies must be grouped",
    ),
]


@pytest.mark.parametrize(
    ("raw", "category", "path", "fragment"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_rule_names_the_field_it_is_about_and_the_format_accepts_it(
    raw, category, path, fragment
):
    found = breaches(raw, category)
    assert path in found, found
    assert any(fragment in message for message in found[path]), found[path]


def test_the_example_breaks_two_rules_of_its_body():
    raw = body("Hi {{1:name}}, your code is {{2:code}}.", ("name", "code"), start=1)
    assert breaches(raw) == {
        f"{MC}.template": [
            "The text can't end with a variable: put a word after the last variable "
            "(punctuation doesn't count).",
            "Too many variables for the length of the text: with 2 variable(s) it needs at "
            "least 5 words besides them (it has 4).",
        ]
    }


def test_the_reason_names_each_field_and_its_rules():
    reason = whatsapp_rejection_reason(
        breaches({**body("{{0:name}} {{1:order_id}}"), "buttons": [URL, URL, URL]})
    )
    assert reason.startswith("Breaks WhatsApp's template rules. In body.multiChannel.template: ")
    assert "Two variables can't be separated only by spaces" in reason
    assert "In buttons: At most 2 URL button(s) (got 3)." in reason


@pytest.mark.parametrize(
    "raw",
    [
        definition(),
        pair_definition(sms="{{0:name}} {{1:code}}"),  # WhatsApp never sees the sms body
        {**body(OK_TEXT), "buttons": [QUICK, QUICK, URL, URL]},
        body("Hi {{1:name}}, your order {{2:order_id}} has shipped and arrives soon.", start=1),
    ],
    ids=["multiChannel", "sms body of a pair", "grouped buttons", "ids from 1"],
)
def test_content_that_abides_by_the_rules_has_no_breach(raw):
    assert breaches(raw) == {}


def test_without_whatsapp_content_there_is_nothing_to_review():
    sms_only = {"body": {"sms": content("{{0:code}}", ("code",))}}
    assert breaches(sms_only) == {}
    assert breaches({"body": {"sms": content("{{0:code}}", ("code",))}}, "AUTHENTICATION") == {}


@pytest.mark.parametrize("spec", DEMO_TEMPLATES, ids=[spec["name"] for spec in DEMO_TEMPLATES])
def test_the_demo_templates_abide_by_the_rules(spec):
    assert breaches(spec["definition"], spec["category"]) == {}
