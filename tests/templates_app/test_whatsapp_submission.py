"""WhatsApp's template rules are checked when a template is submitted for WhatsApp review,
not at creation (docs/api/templates.md#whatsapps-review-rules): a draft or an SMS-only
template may hold any well-formed text; submitting WhatsApp content that breaks a rule
rejects the WhatsApp leg with the rule as the reason, while SMS stays usable. Through the
API, the official SDK, sends, webhooks and the dashboard."""

import json

import pytest
from sent_dm.types import Template as SdkTemplate
from sent_dm.types import TemplateEvent

from django.urls import reverse

from messaging.models import Message
from sent_project.models import Event
from templates_app import lifecycle
from templates_app.models import Template
from tests.messaging.factories import number
from tests.messaging.webhook_helpers import Receiver, make_webhook
from tests.tasks import queued_tasks, run_queued_tasks
from tests.templates_app.factories import content

URL = "/v3/templates"
VERDICT_TASK = "templates_app.tasks.apply_template_verdict"
TEXT = "Hi {{1:name}}, your code is {{2:code}}."
NAMES = ("name", "code")
PARAMETERS = {"name": "Ana", "code": "482913"}
ENDS_WITH_A_VARIABLE = (
    "The text can't end with a variable: put a word after the last variable "
    "(punctuation doesn't count)."
)
TOO_FEW_WORDS = (
    "Too many variables for the length of the text: with 2 variable(s) it needs at least "
    "5 words besides them (it has 4)."
)
REASON = (
    f"Breaks WhatsApp's template rules. In body.multiChannel.template: {ENDS_WITH_A_VARIABLE} "
    f"{TOO_FEW_WORDS}"
)
FIXED = "Hi {{1:name}}, your code is {{2:code}}. It expires in ten minutes."


def multichannel(text: str = TEXT) -> dict:
    return {"body": {"multiChannel": content(text, NAMES, start=1)}}


def sms_only(text: str = TEXT) -> dict:
    return {"body": {"sms": content(text, NAMES, start=1)}}


def create(api_client, raw, **fields):
    body = {"definition": raw, "category": "UTILITY", "name": "login_code", **fields}
    return api_client.post(URL, body, format="json")


def leg_rows(template) -> list[tuple]:
    return [
        (c.channel, c.from_status, c.to_status, c.source, c.reason)
        for c in template.status_changes.order_by("id")
    ]


def send(api_client, **extra):
    # 12: WhatsApp and SMS reach the number, so only the template keeps WhatsApp out.
    body = {"to": [number(12)], "template": {"name": "login_code", "parameters": PARAMETERS}}
    return api_client.post("/v3/messages", {**body, **extra}, format="json")


# --- creation: format rules only ------------------------------------------------------------
@pytest.mark.parametrize("raw", [multichannel(), sms_only()], ids=["draft", "sms only"])
def test_the_text_is_created_as_a_draft_and_as_sms_only(api_client, raw):
    response = create(api_client, raw)
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert (data["status"], data["is_published"]) == ("DRAFT", False)
    [key] = raw["body"]
    assert data["definition"]["body"][key]["template"] == TEXT
    assert data["whatsapp_status"] == ("DRAFT" if "multiChannel" in raw["body"] else None)
    assert data["whatsapp_rejection_reason"] is None


def test_an_sms_only_template_submitted_at_creation_is_approved(api_client):
    data = create(api_client, sms_only(), submit_for_review=True).json()["data"]
    assert (data["status"], data["whatsapp_status"]) == ("APPROVED", None)
    assert send(api_client).json()["data"]["recipients"][0]["channel"] == "sms"


@pytest.mark.parametrize("raw", [multichannel(), sms_only()], ids=["draft", "sms only"])
def test_format_errors_are_still_400_at_creation(api_client, raw):
    key = next(iter(raw["body"]))
    raw["body"][key]["template"] = "Hi {{1:name}}, your code is {{3:code}} and {{x}}."
    response = create(api_client, raw)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_001"
    assert error["details"][f"definition.body.{key}.template"] == [
        "Placeholders look like {{0:name}}, not {{x}}.",
        "{{3}} refers to no declared variable.",
    ]
    assert not Template.objects.exists()


# --- submission: WhatsApp's rules -----------------------------------------------------------
def test_submitting_it_rejects_the_whatsapp_leg_with_the_rule_and_keeps_sms(api_client, account):
    response = create(api_client, multichannel(), submit_for_review=True)
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert (data["status"], data["is_published"]) == ("APPROVED", True)
    assert (data["whatsapp_status"], data["whatsapp_rejection_reason"]) == ("REJECTED", REASON)
    assert data["rejection_reason"] is None and data["whatsapp_template_id"] is None
    assert data["channels"] == ["sms", "whatsapp", "rcs", "mms"]  # what it renders on
    assert [(h["channel"], h["status"]) for h in data["status_history"]] == [
        (None, "DRAFT"),
        ("whatsapp", "REJECTED"),
        ("sms", "APPROVED"),
    ]
    template = Template.objects.get(pk=data["id"])
    assert leg_rows(template)[1:] == [
        ("whatsapp", "DRAFT", "REJECTED", "system", REASON),
        ("sms", "DRAFT", "APPROVED", "system", "SMS needs no review: approved on submission."),
    ]
    assert not queued_tasks(VERDICT_TASK).exists()  # nothing for the reviewer to see
    events = list(Event.objects.filter(subject_id=template.pk).order_by("sequence"))
    assert [(e.event, e.payload["status"], e.payload["channel"]) for e in events] == [
        ("templates.rejected", "REJECTED", "whatsapp"),
        ("templates.approved", "APPROVED", "sms"),
    ]
    assert events[0].payload["reason"] == REASON
    assert "reason" in events[1].payload


def test_a_send_goes_by_sms_and_never_on_whatsapp(api_client, account):
    create(api_client, multichannel(), submit_for_review=True)
    routed = send(api_client)
    assert routed.status_code == 202, routed.content
    [recipient] = routed.json()["data"]["recipients"]
    assert (recipient["channel"], recipient["body"]) == (
        "sms",
        "Hi Ana, your code is 482913.",
    )
    message = Message.objects.get(pk=recipient["message_id"])
    assert message.fallbacks == [] and "whatsapp" not in message.alternatives
    run_queued_tasks(include_future=True)
    message.refresh_from_db()
    assert message.status == "DELIVERED"

    assert send(api_client, channel=["sms"]).status_code == 202
    on_whatsapp = send(api_client, channel=["whatsapp"])
    assert on_whatsapp.status_code == 400
    error = on_whatsapp.json()["error"]
    assert error["code"] == "BUSINESS_005"
    assert REASON in error["details"]["template"][0]
    assert Message.objects.filter(channel="whatsapp").count() == 0


def test_fixing_the_text_sends_it_to_the_reviewer_which_approves_whatsapp(api_client, account):
    template_id = create(api_client, multichannel(), submit_for_review=True).json()["data"]["id"]
    fixed = api_client.put(
        f"{URL}/{template_id}", {"definition": multichannel(FIXED)}, format="json"
    ).json()["data"]  # an approved template's edited content goes back to review
    assert (fixed["status"], fixed["whatsapp_status"]) == ("PENDING", "PENDING")
    assert fixed["whatsapp_rejection_reason"] is None
    run_queued_tasks(include_future=True)
    data = api_client.get(f"{URL}/{template_id}").json()["data"]
    assert (data["status"], data["whatsapp_status"]) == ("APPROVED", "APPROVED")
    assert data["whatsapp_template_id"].startswith("sim_")
    [recipient] = send(api_client).json()["data"]["recipients"]
    assert recipient["channel"] == "whatsapp"


def test_editing_it_into_other_broken_text_rejects_the_leg_again(api_client, account):
    template_id = create(api_client, multichannel(), submit_for_review=True).json()["data"]["id"]
    data = api_client.put(
        f"{URL}/{template_id}",
        {"definition": multichannel("{{1:name}} {{2:code}} is your code for today, friend.")},
        format="json",
    ).json()["data"]
    assert (data["status"], data["whatsapp_status"]) == ("APPROVED", "REJECTED")
    assert "Two variables can't be separated only by spaces" in data["whatsapp_rejection_reason"]
    assert ENDS_WITH_A_VARIABLE not in data["whatsapp_rejection_reason"]


def test_a_rule_abiding_template_is_pending_then_approved_by_the_reviewer(api_client, account):
    data = create(api_client, multichannel(FIXED), submit_for_review=True).json()["data"]
    assert (data["status"], data["whatsapp_status"]) == ("PENDING", "PENDING")
    assert queued_tasks(VERDICT_TASK).count() == 1
    run_queued_tasks(include_future=True)
    template = Template.objects.get(pk=data["id"])
    assert (template.status, template.whatsapp_status) == ("APPROVED", "APPROVED")
    assert [
        (event, payload.get("channel"))
        for event, payload in Event.objects.filter(subject_id=template.pk)
        .order_by("sequence")
        .values_list("event", "payload")
    ] == [("templates.pending", None), ("templates.approved", None)]


def test_without_a_whatsapp_provider_nothing_is_reviewed_and_the_rules_do_not_apply(
    api_client, settings
):
    settings.WHATSAPP_PROVIDER = ""
    data = create(api_client, multichannel(), submit_for_review=True).json()["data"]
    assert (data["status"], data["whatsapp_status"]) == ("APPROVED", "APPROVED")


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the receiver listens on 127.0.0.1
    server = Receiver().start()
    yield server
    server.stop()


def test_customers_learn_of_it_by_webhook(
    api_client, account, receiver, django_capture_on_commit_callbacks
):
    make_webhook(account, receiver.url, event_types=["templates"])
    with django_capture_on_commit_callbacks(execute=True):
        template_id = create(api_client, multichannel(), submit_for_review=True).json()["data"][
            "id"
        ]
    with django_capture_on_commit_callbacks(execute=True):
        run_queued_tasks(include_future=True)
    bodies = sorted((json.loads(r.body) for r in receiver.received), key=lambda b: b["sequence"])
    events = [TemplateEvent.model_validate(body) for body in bodies]  # the SDK's event type
    assert [(e.event, e.payload.status, e.payload.channel) for e in events] == [
        ("templates.rejected", "REJECTED", "whatsapp"),
        ("templates.approved", "APPROVED", "sms"),
    ]
    assert events[0].payload.reason == REASON
    assert {e.payload.template_id for e in events} == {template_id}


# --- through the official SDK ---------------------------------------------------------------
def test_the_sdk_creates_it_as_a_draft_and_sms_only_then_submits_it(sdk, live_account):
    draft = sdk.templates.create(definition=multichannel(), category="UTILITY").data
    assert isinstance(draft, SdkTemplate) and (draft.status, draft.is_published) == (
        "DRAFT",
        False,
    )
    text_only = sdk.templates.create(definition=sms_only(), submit_for_review=True).data
    assert (text_only.status, text_only.channels) == ("APPROVED", ["sms", "rcs", "mms"])

    submitted = sdk.templates.update(draft.id, submit_for_review=True).data
    assert isinstance(submitted, SdkTemplate)
    assert (submitted.status, submitted.is_published) == ("APPROVED", True)
    raw = sdk.templates.with_raw_response.retrieve(draft.id).http_response.json()["data"]
    assert (raw["whatsapp_status"], raw["whatsapp_rejection_reason"]) == ("REJECTED", REASON)
    SdkTemplate.model_validate(raw)  # the extras don't trouble the SDK's model

    sent = sdk.messages.send(
        to=[number(12)], template={"id": draft.id, "parameters": PARAMETERS}
    ).data
    assert [r.channel for r in sent.recipients] == ["sms"]


# --- the dashboard --------------------------------------------------------------------------
def test_the_dashboard_submit_button_rejects_the_leg_and_says_so(
    dashboard_client, api_client, account
):
    template_id = create(api_client, multichannel()).json()["data"]["id"]  # a draft
    submitted = dashboard_client.post(
        reverse("templates_app:template_submit", args=[template_id]), follow=True
    )
    assert "approved for SMS" in submitted.text
    assert 'id="whatsapp-rejected"' in submitted.text
    assert "put a word after the last variable" in submitted.text  # the rule, in words
    template = Template.objects.get(pk=template_id)
    assert (template.status, template.whatsapp_status) == ("APPROVED", "REJECTED")


def test_operator_actions_keep_the_whatsapp_leg_rejected(api_client):
    template_id = create(api_client, multichannel(), submit_for_review=True).json()["data"]["id"]
    template = Template.objects.get(pk=template_id)
    lifecycle.template_approve(lifecycle.template_pause(template))  # paused, then reinstated
    template.refresh_from_db()
    assert (template.status, template.whatsapp_status) == ("APPROVED", "REJECTED")
    assert send(api_client).json()["data"]["recipients"][0]["channel"] == "sms"


def test_a_sandbox_submission_answers_the_verdict_and_stores_nothing(api_client):
    response = create(api_client, multichannel(), submit_for_review=True, sandbox=True)
    assert response.status_code == 200 and response["X-Sandbox"] == "true"
    data = response.json()["data"]
    assert (data["status"], data["whatsapp_status"]) == ("APPROVED", "REJECTED")
    assert not Template.objects.exists() and not Event.objects.exists()
