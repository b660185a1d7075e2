"""Template review on Meta: a template submitted for review is created on the WABA (after the
transaction that made it PENDING commits) and Meta's `message_template_status_update`
webhook gives the verdict (docs/providers/whatsapp.md#template-review)."""

import pytest

from messaging.models import ProviderKind, Sender
from messaging.providers.accounts import account_create
from sent_project.models import Event
from templates_app.models import Template
from tests.fakes.whatsapp import graph_error, server_error
from tests.messaging.providers.whatsapp_helpers import DEFINITION
from tests.tasks import run_queued_tasks
from tests.templates_app.factories import make_template

NAME = "hi_your_order_has_shipped"  # derived from the content
CREATE_BODY = {
    "name": NAME,
    "language": "en_US",
    "category": "UTILITY",
    "components": [
        {
            "type": "HEADER",
            "format": "TEXT",
            "text": "Order {{1}} update",
            "example": {"header_text": ["A-1001"]},
        },
        {
            "type": "BODY",
            "text": "Hi {{1}}, your order {{2}} has shipped and will arrive soon. Thank you!",
            "example": {"body_text": [["Ana", "A-1001"]]},
        },
        {"type": "FOOTER", "text": "Acme Shop"},
        {
            "type": "BUTTONS",
            "buttons": [
                {
                    "type": "URL",
                    "text": "Track order",
                    "url": "https://shop.example.com/track/{{1}}",
                    "example": ["https://shop.example.com/track/A-1001"],
                },
                {"type": "QUICK_REPLY", "text": "Stop updates"},
            ],
        },
    ],
}


def submit(sdk) -> str:
    created = sdk.templates.create(
        definition=DEFINITION, category="UTILITY", language="en_US", submit_for_review=True
    )
    assert created.data.status == "PENDING"
    run_queued_tasks(include_future=True)
    return created.data.id


def creates(graph) -> list:
    return [r for r in graph.received if r.path.endswith("/message_templates")]


def test_a_template_submitted_for_review_is_created_on_the_waba_and_approved_by_meta(
    sdk, cloud_api
):
    template_id = submit(sdk)

    [request] = creates(cloud_api)
    assert request.method == "POST"
    assert request.path == f"/v23.0/{cloud_api.waba_id}/message_templates"
    assert request.json() == CREATE_BODY
    at_meta = cloud_api.template_named(NAME)
    assert at_meta["status"] == "PENDING"
    template = Template.objects.get(pk=template_id)
    assert (template.whatsapp_template_id, template.whatsapp_template_name) == (
        at_meta["id"],
        NAME,
    )
    assert sdk.templates.retrieve(template_id).data.status == "PENDING"

    assert cloud_api.approve(NAME).status_code == 200

    assert sdk.templates.retrieve(template_id).data.status == "APPROVED"
    assert Event.objects.filter(event="templates.approved", subject_id=template_id).count() == 1
    template.refresh_from_db()
    [*_, change] = template.status_changes.all()
    assert (change.to_status, change.source) == ("APPROVED", "provider")


def test_meta_s_rejection_carries_its_reason_and_a_resubmission_edits_the_same_template(
    sdk, cloud_api
):
    template_id = submit(sdk)
    cloud_api.reject(
        NAME,
        reason="INVALID_FORMAT",
        explanation="Your template has parameters placed next to each other.",
    )

    template = sdk.templates.retrieve(template_id).data
    assert template.status == "REJECTED"
    assert template.rejection_reason == (  # our addition to the SDK's template
        "INVALID_FORMAT: Your template has parameters placed next to each other."
    )

    again = sdk.templates.update(template_id, submit_for_review=True)
    assert again.data.status == "PENDING"
    run_queued_tasks(include_future=True)
    meta_id = cloud_api.template_named(NAME)["id"]
    assert len(creates(cloud_api)) == 1  # not created twice: edited
    [edit] = [r for r in cloud_api.received if r.path == f"/v23.0/{meta_id}"]
    assert edit.json() == {"category": "UTILITY", "components": CREATE_BODY["components"]}
    assert cloud_api.template_named(NAME)["status"] == "PENDING"
    cloud_api.approve(NAME)
    assert sdk.templates.retrieve(template_id).data.status == "APPROVED"


def test_a_create_meta_refuses_is_rejected_with_meta_s_message(sdk, cloud_api):
    cloud_api.fail_next(
        graph_error(
            100,
            "Invalid parameter",
            subcode=2388047,
            title="Message template body is invalid",
            user_message="The body has too many variables for its length.",
        )
    )
    template_id = submit(sdk)

    template = Template.objects.get(pk=template_id)
    assert template.status == "REJECTED"
    assert template.rejection_reason == (
        "Invalid parameter: The body has too many variables for its length."
    )
    assert cloud_api.templates == {}


def test_a_transient_graph_error_is_retried_and_the_template_created_once(sdk, cloud_api):
    cloud_api.fail_next(server_error(), graph_error(4, "(#4) Application request limit reached"))
    template_id = submit(sdk)

    assert len(creates(cloud_api)) == 3
    assert len(cloud_api.templates) == 1
    template = Template.objects.get(pk=template_id)
    assert (template.status, template.whatsapp_template_id) == (
        "PENDING",
        cloud_api.template_named(NAME)["id"],
    )


def test_a_create_whose_reply_was_lost_is_found_on_the_waba_instead_of_rejected(sdk, cloud_api):
    # An earlier attempt created it, but its answer never came back.
    lost = cloud_api.add_template(NAME, status="PENDING", components=CREATE_BODY["components"])
    template_id = submit(sdk)

    assert Template.objects.get(pk=template_id).whatsapp_template_id == lost["id"]
    cloud_api.approve(NAME)
    assert Template.objects.get(pk=template_id).status == "APPROVED"


def test_a_name_another_template_of_ours_holds_on_the_waba_is_rejected(
    sdk, cloud_api, live_other_account
):
    theirs = cloud_api.add_template(NAME, components=CREATE_BODY["components"])
    other = make_template(live_other_account, name=NAME, definition_=DEFINITION)
    Template.objects.filter(pk=other.pk).update(whatsapp_template_id=theirs["id"])

    template = Template.objects.get(pk=submit(sdk))

    assert template.status == "REJECTED"
    assert template.rejection_reason.startswith("Invalid parameter: There is already English")


@pytest.mark.parametrize(
    "events,status",
    [
        (["PAUSED"], "PAUSED"),
        (["DISABLED"], "DISABLED"),
        (["PAUSED", "DISABLED"], "DISABLED"),
        (["PAUSED", "REINSTATED"], "APPROVED"),
        (["FLAGGED"], "APPROVED"),  # a quality warning: nothing changes
    ],
)
def test_meta_pauses_disables_and_reinstates_an_approved_template(sdk, cloud_api, events, status):
    template_id = submit(sdk)
    cloud_api.approve(NAME)

    for event in events:
        reply = cloud_api.template_status(
            cloud_api.template_named(NAME),
            event,
            reason="NONE",
            other_info={"title": "FIRST_PAUSE", "description": "Low quality: many blocks."},
        )
        assert reply.status_code == 200

    template = Template.objects.get(pk=template_id)
    assert template.status == status
    if status == "PAUSED":
        assert template.status_changes.last().reason == "FIRST_PAUSE Low quality: many blocks."
    assert template.is_published is (status == "APPROVED")


def test_a_sandbox_submission_never_reaches_meta(sdk, cloud_api):
    created = sdk.templates.create(
        definition=DEFINITION,
        category="UTILITY",
        language="en_US",
        submit_for_review=True,
        sandbox=True,
    )
    assert created.data.status == "PENDING"
    run_queued_tasks(include_future=True)
    assert creates(cloud_api) == [] and Template.objects.count() == 0


def test_a_customer_s_own_whatsapp_sender_reviews_on_its_account_s_waba(
    sdk, settings, live_account, cloud_api
):
    # The install's own account is another one, whose token the fake doesn't know.
    settings.WHATSAPP_BUSINESS_ACCOUNT_ID = "999999999999999"
    settings.WHATSAPP_ACCESS_TOKEN = "EAAGsomeoneElsesToken"
    account = account_create(
        kind=ProviderKind.CLOUD_API,
        name="Acme WhatsApp",
        account_id=cloud_api.waba_id,
        access_token=cloud_api.access_token,
        app_secret=cloud_api.app_secret,
        verify_token="acme-verify",
    )
    Sender.objects.create(
        account=account,
        customer=live_account,
        channel="whatsapp",
        address="+15550000002",
        provider_ref=cloud_api.phone_number_id,
    )

    template_id = submit(sdk)

    [request] = creates(cloud_api)
    assert request.headers["authorization"] == f"Bearer {cloud_api.access_token}"
    cloud_api.approve(NAME)
    assert Template.objects.get(pk=template_id).status == "APPROVED"
