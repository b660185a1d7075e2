"""POST /v3/messages: acceptance — the response, what is written (messages, charges, jobs,
events) and every refusal with its code, with nothing written."""

from datetime import timedelta
from decimal import Decimal

import pytest

from django.utils import timezone

from billing.models import LedgerEntry
from billing.services import balance_charge
from contacts.models import Contact
from messaging.models import Message, MessageActivity
from sent_project.models import Event
from tests.contacts.factories import age_whatsapp_check
from tests.messaging.factories import (
    BODY,
    PARAMETERS,
    make_approved_template,
    make_contact,
    number,
    send_body,
)
from tests.tasks import queued_tasks, run_queued_tasks
from tests.templates_app.factories import make_template, sms_only_definition

DISPATCH = "messaging.tasks.message_dispatch"


@pytest.fixture
def template(account):
    return make_approved_template(account)


def nothing_written(account, balance: Decimal) -> None:
    account.refresh_from_db()
    assert account.balance == balance
    assert Message.objects.count() == 0
    assert MessageActivity.objects.count() == 0
    assert Event.objects.filter(field="message").count() == 0
    assert queued_tasks(DISPATCH).count() == 0
    assert LedgerEntry.objects.filter(message_id__isnull=False).count() == 0


def test_it_accepts_a_send_and_answers_202_per_contract(api_client, account, template):
    response = api_client.post("/v3/messages", send_body(number(12)), format="json")

    assert response.status_code == 202, response.content
    data = response.json()["data"]
    [recipient] = data["recipients"]
    assert data["status"] == "QUEUED"
    assert (data["template_id"], data["template_name"]) == (str(template.pk), "order_shipped")
    assert (recipient["to"], recipient["channel"], recipient["body"]) == (
        number(12),
        "whatsapp",
        BODY,
    )
    assert recipient["status"] == "QUEUED"
    message = Message.objects.get(pk=recipient["message_id"])
    assert (message.customer, message.status, message.channel) == (account, "QUEUED", "whatsapp")
    assert message.routing_reason.startswith("whatsapp: available")
    assert message.fallbacks == ["sms"]
    assert message.template_id == template.pk and message.parameters == PARAMETERS


def test_it_charges_the_request_and_enqueues_the_dispatch_in_one_go(api_client, account, template):
    before = account.balance
    response = api_client.post("/v3/messages", send_body([number(12), number(60)]), format="json")

    assert response.status_code == 202
    messages = Message.objects.order_by("phone")
    charges = LedgerEntry.objects.filter(kind="charge").order_by("id")
    assert sorted((c.message_id, -c.amount) for c in charges) == sorted(
        (m.pk, m.original_price) for m in messages
    )
    # WhatsApp utility to the US 0.0084, an SMS segment 0.0083.
    assert sorted(m.original_price for m in messages) == [Decimal("0.0083"), Decimal("0.0084")]
    account.refresh_from_db()
    assert account.balance == before - Decimal("0.0167")
    # One wake-up for the send: the messages wait in their lane (docs/architecture.md#lanes).
    [job] = queued_tasks(DISPATCH)
    assert job.queue_name == "dispatch"
    assert sorted(m.lane for m in messages) == [
        f"default:sms|{account.pk}",
        f"default:whatsapp|{account.pk}",
    ]
    assert sorted(Event.objects.filter(field="message").values_list("event", flat=True)) == [
        "message.queued",
        "message.queued",
    ]


def test_every_message_records_its_acceptance_route_and_charge(api_client, template):
    api_client.post("/v3/messages", send_body(number(60)), format="json")
    message = Message.objects.get()
    kinds = list(message.activities.order_by("id").values_list("kind", "status", "price"))
    assert kinds == [
        ("status", "QUEUED", Decimal("0")),
        ("routed", "QUEUED", Decimal("0.0083")),
        ("charged", "QUEUED", Decimal("0.0083")),
    ]
    assert message.routing_reason.startswith("sms: whatsapp unavailable")


def test_unknown_numbers_become_contacts_and_known_ones_are_reused(api_client, account, template):
    known = make_contact(account, number(60))
    api_client.post("/v3/messages", send_body([number(60), "(415) 555-0161"]), format="json")
    assert Contact.objects.filter(customer=account).count() == 2
    assert Message.objects.get(phone=number(60)).contact == known
    assert Contact.objects.get(format_e164="+14155550161").source == "message"


def test_a_contact_id_is_a_recipient_and_duplicates_are_sent_once(api_client, account, template):
    contact = make_contact(account, number(60))
    response = api_client.post(
        "/v3/messages", send_body([str(contact.pk), number(60), "+1 415 555 0060"]), format="json"
    )
    assert response.status_code == 202
    assert len(response.json()["data"]["recipients"]) == 1
    assert Message.objects.get().contact == contact


def test_each_named_channel_makes_its_own_message(api_client, template):
    response = api_client.post(
        "/v3/messages", send_body(number(12), channel=["whatsapp", "sms"]), format="json"
    )
    channels = [r["channel"] for r in response.json()["data"]["recipients"]]
    assert channels == ["whatsapp", "sms"]
    assert sorted(Message.objects.values_list("requested_channel", "fallbacks")) == [
        ("sms", []),
        ("whatsapp", []),
    ]


def test_free_text_goes_by_sms(api_client):
    response = api_client.post(
        "/v3/messages", {"to": [number(12)], "text": "Hello there"}, format="json"
    )
    [recipient] = response.json()["data"]["recipients"]
    assert (recipient["channel"], recipient["body"], recipient["status"]) == (
        "sms",
        "Hello there",
        "QUEUED",
    )
    assert response.json()["data"]["template_id"] is None


def test_free_text_on_whatsapp_is_blocked_and_not_charged(api_client, account):
    before = account.balance
    response = api_client.post(
        "/v3/messages",
        {"to": [number(12)], "text": "Hello", "channel": ["whatsapp"]},
        format="json",
    )
    [recipient] = response.json()["data"]["recipients"]
    assert (recipient["status"], recipient["reason_code"]) == ("BLOCKED", "BUSINESS_009")
    account.refresh_from_db()
    assert account.balance == before
    assert queued_tasks(DISPATCH).count() == 0
    assert Event.objects.get().event == "message.blocked"


def test_a_named_channel_the_contact_lacks_is_blocked(api_client, template):
    response = api_client.post(
        "/v3/messages", send_body(number(60), channel=["whatsapp"]), format="json"
    )
    [recipient] = response.json()["data"]["recipients"]
    assert (recipient["status"], recipient["reason_code"]) == ("BLOCKED", "BUSINESS_007")


def test_opted_out_contacts_are_filtered_never_charged(api_client, account, template):
    make_contact(account, number(60), opt_out=True)
    before = account.balance
    response = api_client.post("/v3/messages", send_body([number(60), number(61)]), format="json")

    assert response.status_code == 202
    statuses = {
        r["to"]: (r["status"], r["reason_code"]) for r in response.json()["data"]["recipients"]
    }
    assert statuses == {number(60): ("FILTERED", "BUSINESS_010"), number(61): ("QUEUED", None)}
    filtered = Message.objects.get(phone=number(60))
    assert filtered.price == 0
    assert not LedgerEntry.objects.filter(message_id=filtered.pk).exists()
    account.refresh_from_db()
    assert account.balance == before - Decimal("0.0083")
    assert queued_tasks(DISPATCH).count() == 1
    run_queued_tasks()
    assert Message.objects.get(phone=number(61)).status == "DELIVERED"
    filtered.refresh_from_db()
    assert (filtered.status, filtered.attempts) == ("FILTERED", 0)


def test_all_recipients_opted_out_is_422_with_nothing_written(api_client, account, template):
    make_contact(account, number(60), opt_out=True)
    before = account.balance
    response = api_client.post("/v3/messages", send_body(number(60)), format="json")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "BUSINESS_004"
    nothing_written(account, before)


def test_sandbox_runs_the_pipeline_without_charging(api_client, account, template):
    before = account.balance
    response = api_client.post("/v3/messages", send_body(number(60), sandbox=True), format="json")
    assert response.status_code == 202
    assert response["X-Sandbox"] == "true"
    message = Message.objects.get()
    assert message.sandbox and message.price == Decimal("0.0083")
    account.refresh_from_db()
    assert account.balance == before
    assert queued_tasks(DISPATCH).count() == 1


def test_test_mode_is_the_seeds_name_for_sandbox(api_client, account, template):
    api_client.post("/v3/messages", send_body(number(60), test_mode=True), format="json")
    assert Message.objects.get().sandbox


def test_a_balance_that_cant_cover_the_request_is_402_with_nothing_written(
    api_client, account, template
):
    balance_charge(account, amount=account.balance - Decimal("0.0100"), description="drain")
    account.refresh_from_db()
    before = account.balance
    response = api_client.post("/v3/messages", send_body([number(60), number(61)]), format="json")
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "BUSINESS_003"
    nothing_written(account, before)
    assert not Contact.objects.filter(format_e164=number(61)).exists()


def test_invalid_numbers_are_all_named_and_nothing_is_written(api_client, account, template):
    before = account.balance
    response = api_client.post(
        "/v3/messages", send_body([number(60), "12", number(61), "not a number"]), format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_002"
    assert set(error["details"]) == {"to.1", "to.3"}
    nothing_written(account, before)
    assert Contact.objects.count() == 0


def test_another_accounts_contact_id_is_not_a_recipient(api_client, other_account, template):
    theirs = make_contact(other_account, number(60))
    response = api_client.post("/v3/messages", send_body([str(theirs.pk)]), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"to.0": ["No contact of yours has this id."]}


def test_an_unknown_template_is_400(api_client, account):
    response = api_client.post(
        "/v3/messages", send_body(number(60), template="nope"), format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MESSAGE_001"
    assert response.json()["error"]["details"] == {"template.name": ["No such template."]}


def test_another_accounts_template_is_unknown(api_client, other_account):
    theirs = make_approved_template(other_account)
    response = api_client.post(
        "/v3/messages",
        {"to": [number(60)], "template": {"id": str(theirs.pk), "parameters": PARAMETERS}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MESSAGE_001"


def test_a_template_not_approved_is_400(api_client, account):
    make_template(account, name="order_shipped")  # a draft
    response = api_client.post("/v3/messages", send_body(number(60)), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BUSINESS_005"


def test_missing_parameters_are_named(api_client, template):
    body = send_body(number(60))
    body["template"]["parameters"] = {"name": "Ana", "unknown": "ignored"}
    response = api_client.post("/v3/messages", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "TEMPLATE_001"
    assert list(response.json()["error"]["details"]) == ["template.parameters.order_id"]


def test_a_named_channel_the_template_cant_render_is_400(api_client, account):
    make_approved_template(account, name="parcel", definition_=sms_only_definition())
    response = api_client.post(
        "/v3/messages",
        {
            "to": [number(12)],
            "channel": ["whatsapp"],
            "template": {"name": "parcel", "parameters": {"tracking": "T1"}},
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "TEMPLATE_003"


def test_an_unknown_channel_is_400(api_client, template):
    response = api_client.post(
        "/v3/messages", send_body(number(60), channel=["sms", "pigeon"]), format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_006"
    assert list(response.json()["error"]["details"]) == ["channel.1"]


def test_several_kinds_of_problems_are_reported_together(api_client, template):
    body = send_body(["12", number(60)], channel=["pigeon"])
    body["template"]["parameters"] = {}
    response = api_client.post("/v3/messages", body, format="json")
    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (400, "VALIDATION_001")
    assert {"to.0", "channel.0", "template.parameters.name"} <= set(error["details"])


def test_more_than_1000_recipients_is_400(api_client, account, template):
    to = [number(i % 100, series=i // 100) for i in range(1001)]
    response = api_client.post("/v3/messages", send_body(to), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_005"
    assert "to" in response.json()["error"]["details"]
    nothing_written(account, account.balance)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"to": [number(60)]}, "VALIDATION_001"),
        (
            {"to": [number(60)], "text": "Hi", "template": {"name": "order_shipped"}},
            "VALIDATION_001",
        ),
        ({"to": [], "text": "Hi"}, "VALIDATION_005"),
        ({"to": "+14155550160", "text": "Hi"}, "VALIDATION_001"),
        ({"to": [number(60)], "template": {"id": "x", "name": "y"}}, "VALIDATION_001"),
        ({"to": [number(60)], "text": "Hi", "sandbox": "yes"}, "VALIDATION_001"),
        (
            {"to": [number(60)], "text": "Hi", "scheduled_at": "2030-01-01T00:00:00Z"},
            "MESSAGE_004",  # beyond the horizon (docs/api/messages.md#scheduling)
        ),
    ],
)
def test_malformed_requests_are_400(api_client, body, code):
    response = api_client.post("/v3/messages", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert Message.objects.count() == 0


def test_it_needs_an_api_key(client, db):
    response = client.post("/v3/messages", send_body(number(60)), content_type="application/json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AUTH_001"


def test_wrong_method_is_405(api_client):
    assert api_client.put("/v3/messages", {}, format="json").status_code == 405


def test_mass_assignment_is_ignored(api_client, account, template):
    body = send_body(number(60), status="DELIVERED", price=0, customer_id="x", id="y")
    response = api_client.post("/v3/messages", body, format="json")
    message = Message.objects.get()
    assert response.status_code == 202
    assert (message.status, message.price, message.customer) == (
        "QUEUED",
        Decimal("0.0083"),
        account,
    )


def test_the_same_idempotency_key_sends_once(api_client, account, template):
    first = api_client.post(
        "/v3/messages", send_body(number(60)), format="json", HTTP_IDEMPOTENCY_KEY="send-1"
    )
    again = api_client.post(
        "/v3/messages", send_body(number(60)), format="json", HTTP_IDEMPOTENCY_KEY="send-1"
    )
    assert again.status_code == 202 and again.json()["data"] == first.json()["data"]
    assert Message.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="charge").count() == 1


def test_a_1000_recipient_send_is_a_handful_of_queries(
    api_client, account, template, django_assert_max_num_queries
):
    to = [number(i % 100, series=i // 100) for i in range(1000)]
    with django_assert_max_num_queries(60):
        response = api_client.post("/v3/messages", send_body(to), format="json")
    assert response.status_code == 202
    assert Message.objects.count() == 1000
    assert queued_tasks(DISPATCH).count() == 1  # one wake-up, not one job per 50


def test_a_known_contact_with_a_stale_channel_check_is_checked_again(api_client, account, template):
    contact = make_contact(account, number(12))
    age_whatsapp_check(contact, days=400)
    api_client.post("/v3/messages", send_body(number(12)), format="json")
    contact.refresh_from_db()
    assert contact.whatsapp_checked_at > timezone.now() - timedelta(minutes=1)
