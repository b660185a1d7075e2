"""POST/GET/PUT/PATCH/DELETE /v3/templates… through DRF's client: success (response and
database), other tenants (404), credentials, bad input (codes), wrong methods, state rules."""

import uuid

import pytest

from sent_project.models import Event
from templates_app.models import Template
from tests.messaging.factories import make_approved_template, number, send
from tests.tasks import run_queued_tasks
from tests.templates_app.factories import (
    definition,
    make_template,
    pair_definition,
    sms_only_definition,
)

URL = "/v3/templates"


def detail(template) -> str:
    return f"{URL}/{template.pk}"


def error(response) -> dict:
    return response.json()["error"]


# --- create -------------------------------------------------------------------------------
def test_creating_a_template_stores_a_draft_and_answers_the_sdk_shape(api_client, account):
    response = api_client.post(
        URL, {"definition": definition(), "category": "UTILITY", "language": "en_GB"}, format="json"
    )
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    template = Template.objects.get(pk=data["id"])
    assert template.customer == account and template.status == "DRAFT"
    assert data["customer_id"] == str(account.pk)
    assert data["name"] == "hi_your_order_has_shipped" == template.name
    assert data["display_name"] == "Hi …, your order … has shipped and arrives soon."
    assert (data["category"], data["language"], data["status"]) == ("UTILITY", "en_GB", "DRAFT")
    assert data["channels"] == ["sms", "whatsapp", "rcs", "mms"]
    assert data["variables"] == ["name", "order_id"]
    assert data["is_published"] is False
    assert data["definition"]["body"]["multiChannel"]["template"].startswith("Hi {{0:name}}")
    assert data["rejection_reason"] is None and data["whatsapp_template_id"] is None
    assert data["creation_source"] == "from-api"
    assert [h["status"] for h in data["status_history"]] == ["DRAFT"]
    assert "auto_reply_action" not in data
    assert data["created_at"] and data["updated_at"]


def test_the_derived_name_gets_a_suffix_when_taken(api_client):
    names = [
        api_client.post(URL, {"definition": definition()}, format="json").json()["data"]["name"]
        for _ in range(3)
    ]
    assert names == [
        "hi_your_order_has_shipped",
        "hi_your_order_has_shipped_2",
        "hi_your_order_has_shipped_3",
    ]


def test_a_name_and_display_name_can_be_given_on_create(api_client):
    data = api_client.post(
        URL,
        {"definition": definition(), "name": "order_shipped", "display_name": "Order shipped"},
        format="json",
    ).json()["data"]
    assert (data["name"], data["display_name"]) == ("order_shipped", "Order shipped")


def test_a_given_name_already_taken_is_409_without_retry(api_client, account):
    make_template(account, name="order_shipped")
    response = api_client.post(
        URL, {"definition": definition(), "name": "order_shipped"}, format="json"
    )
    assert response.status_code == 409
    assert error(response)["code"] == "RESOURCE_007"
    assert error(response)["details"] == {
        "name": ["You already have a template named 'order_shipped'."]
    }
    assert response["x-should-retry"] == "false"
    assert Template.objects.filter(name="order_shipped").count() == 1


def test_names_are_unique_per_customer_only(api_client, other_account):
    make_template(other_account, name="order_shipped")
    response = api_client.post(
        URL, {"definition": definition(), "name": "order_shipped"}, format="json"
    )
    assert response.status_code == 201


def test_the_category_is_detected_and_the_language_defaults(api_client):
    data = api_client.post(
        URL,
        {
            "definition": definition(
                "Big sale {{0:name}}: everything is {{1:order_id}} off until Sunday night."
            )
        },
        format="json",
    ).json()["data"]
    assert (data["category"], data["language"]) == ("MARKETING", "en_US")


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({}, "definition", "VALIDATION_004"),
        ({"definition": definition(), "category": "PROMO"}, "category", "VALIDATION_006"),
        ({"definition": definition(), "category": "marketing"}, "category", "VALIDATION_006"),
        ({"definition": definition(), "language": "english"}, "language", "VALIDATION_001"),
        ({"definition": definition(), "name": "sent_welcome"}, "name", "VALIDATION_001"),
        ({"definition": definition(), "name": "a" * 101}, "name", "VALIDATION_005"),
        (
            {"definition": definition(), "submit_for_review": "yes"},
            "submit_for_review",
            "VALIDATION_001",
        ),
        ({"definition": definition(), "sandbox": 1}, "sandbox", "VALIDATION_001"),
        (
            {"definition": definition(), "auto_create_for_sp": True},
            "auto_create_for_sp",
            "VALIDATION_001",
        ),
        (
            {"definition": {"body": {"multiChannel": {"template": "x {{0:a}}"}}}},
            "definition.body.multiChannel.template",
            "VALIDATION_001",
        ),
        (
            {
                "definition": {
                    **definition(),
                    "buttons": [{"type": "URL", "props": {"text": "Go", "url": "https://[x/y"}}],
                }
            },
            "definition.buttons.0.props.url",
            "VALIDATION_001",
        ),
    ],
)
def test_invalid_input_is_400_with_the_field_in_details(api_client, body, field, code):
    response = api_client.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert error(response)["code"] == code
    assert field in error(response)["details"], error(response)["details"]
    assert not Template.objects.exists()


def test_create_ignores_fields_the_caller_may_not_set(api_client, account, other_account):
    response = api_client.post(
        URL,
        {
            "definition": definition(),
            "status": "APPROVED",
            "customer_id": str(other_account.pk),
            "id": str(uuid.uuid4()),
            "is_published": True,
        },
        format="json",
    )
    data = response.json()["data"]
    assert (data["status"], data["customer_id"], data["is_published"]) == (
        "DRAFT",
        str(account.pk),
        False,
    )
    assert Template.objects.get().customer == account


def test_a_sandbox_create_answers_for_real_and_stores_nothing(api_client):
    response = api_client.post(
        URL, {"definition": definition(), "sandbox": True, "submit_for_review": True}, format="json"
    )
    assert response.status_code == 200  # not 201: nothing was created
    assert response["X-Sandbox"] == "true"
    assert response.json()["data"]["status"] == "PENDING"
    assert response.json()["data"]["id"] is None
    assert not Template.objects.exists() and not Event.objects.exists()


def test_creating_needs_an_api_key(client, db):
    response = client.post(URL, {"definition": definition()}, content_type="application/json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AUTH_001"


# --- retrieve / list ----------------------------------------------------------------------
def test_retrieving_a_template(api_client, account):
    template = make_template(account, status="APPROVED")
    data = api_client.get(detail(template)).json()["data"]
    assert data["id"] == str(template.pk) and data["status"] == "APPROVED"
    assert data["is_published"] is True
    assert [h["status"] for h in data["status_history"]] == ["DRAFT", "APPROVED"]
    assert data["status_history"][1]["from_status"] == "DRAFT"


def test_another_accounts_template_is_404_like_a_missing_one(api_client, other_account):
    theirs = make_template(other_account)
    for method in ("get", "put", "patch", "delete"):
        response = getattr(api_client, method)(detail(theirs), {"name": "mine"}, format="json")
        assert response.status_code == 404
        assert error(response)["code"] == "RESOURCE_002"
    response = api_client.post(f"{detail(theirs)}/preview", {}, format="json")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name != "mine"


def test_an_unknown_or_malformed_id_is_404(api_client):
    assert error(api_client.get(f"{URL}/{uuid.uuid4()}"))["code"] == "RESOURCE_002"
    assert api_client.get(f"{URL}/not-a-uuid").status_code == 404


def test_the_list_is_paged_newest_first_and_only_mine(api_client, account, other_account):
    mine = [make_template(account, name=f"t{i}") for i in range(3)]
    make_template(other_account, name="theirs")
    data = api_client.get(URL, {"page_size": 2}).json()["data"]
    assert [t["name"] for t in data["templates"]] == ["t2", "t1"]
    assert data["pagination"] == {
        "page": 1,
        "page_size": 2,
        "total_count": 3,
        "total_pages": 2,
        "has_more": True,
        "cursors": None,
        "total_count_is_estimate": False,
    }
    page2 = api_client.get(URL, {"page_size": 2, "page": 2}).json()["data"]
    assert [t["id"] for t in page2["templates"]] == [str(mine[0].pk)]
    assert page2["pagination"]["has_more"] is False


def test_the_list_filters_by_status_category_language_and_search(api_client, account):
    make_template(account, name="welcome", status="APPROVED", category="MARKETING")
    make_template(account, name="otp_login", language="pt_BR")
    make_template(
        account,
        name="receipt",
        status="PAUSED",
        definition_=definition("Thanks {{0:name}}, receipt {{1:order_id}} is attached below."),
    )

    def names(**query):
        return sorted(t["name"] for t in api_client.get(URL, query).json()["data"]["templates"])

    assert names(status="APPROVED") == ["welcome"]
    assert names(status="APPROVED,PAUSED") == ["receipt", "welcome"]
    assert names(category="MARKETING") == ["welcome"]
    assert names(language="pt_BR") == ["otp_login"]
    assert names(search="OTP") == ["otp_login"]
    assert names(search="attached") == ["receipt"]
    assert names(search="atta\x00ched") == ["receipt"]
    assert names(is_welcome_playground="true") == ["otp_login", "receipt", "welcome"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"status": "LIVE"}, "VALIDATION_006"),
        ({"status": "APPROVED,"}, "VALIDATION_006"),
        ({"status": "approved"}, "VALIDATION_006"),
        ({"category": "PROMO"}, "VALIDATION_006"),
        ({"category": ""}, "VALIDATION_004"),
        ({"search": "x" * 201}, "VALIDATION_005"),
        ({"search": ""}, "VALIDATION_004"),
        ({"language": "english"}, "VALIDATION_001"),
        ({"is_welcome_playground": "maybe"}, "VALIDATION_001"),
    ],
)
def test_bad_list_filters_are_400_naming_the_parameter(api_client, query, code):
    response = api_client.get(URL, query)
    assert response.status_code == 400
    assert error(response)["code"] == code
    assert list(error(response)["details"]) == list(query)


def test_a_bad_page_is_400(api_client):
    assert error(api_client.get(URL, {"page": 0}))["code"] == "VALIDATION_005"


def test_listing_costs_the_same_queries_for_1_or_20_templates(
    api_client, account, assert_list_queries
):
    make_template(account, name="first", status="APPROVED")
    api_client.get(URL)  # the key's last_used_at is refreshed once a minute, not per request
    # api key, page (+1 row), status history prefetch
    with assert_list_queries(3):
        api_client.get(URL)
    for i in range(19):
        make_template(account, name=f"t{i}", status="APPROVED")
    with assert_list_queries(3):
        assert len(api_client.get(URL).json()["data"]["templates"]) == 20


# --- update -------------------------------------------------------------------------------
def test_put_changes_only_the_fields_given(api_client, account):
    template = make_template(account, name="old")
    response = api_client.put(
        detail(template), {"name": "order_shipped", "display_name": None}, format="json"
    )
    assert response.status_code == 200
    template.refresh_from_db()
    assert template.name == "order_shipped" and template.category == "UTILITY"
    assert response.json()["data"]["name"] == "order_shipped"


def test_patch_is_accepted_as_put(api_client, account):
    template = make_template(account)
    assert api_client.patch(detail(template), {"language": "fr"}, format="json").status_code == 200
    template.refresh_from_db()
    assert template.language == "fr"


def test_editing_a_draft_definition_keeps_it_a_draft(api_client, account):
    template = make_template(account)
    new = definition("Hello {{0:name}}, order {{1:order_id}} left our warehouse today.")
    data = api_client.put(detail(template), {"definition": new}, format="json").json()["data"]
    assert data["status"] == "DRAFT"
    assert data["definition"]["body"]["multiChannel"]["template"].startswith("Hello")


def test_renaming_to_a_taken_name_is_409(api_client, account):
    make_template(account, name="taken")
    template = make_template(account, name="mine")
    response = api_client.put(detail(template), {"name": "taken"}, format="json")
    assert response.status_code == 409 and error(response)["code"] == "RESOURCE_007"


def test_the_sent_prefix_is_reserved(api_client, account):
    template = make_template(account)
    response = api_client.put(detail(template), {"name": "sent_optin"}, format="json")
    assert response.status_code == 400
    assert error(response)["details"] == {"name": ["Names starting with 'sent_' are reserved."]}


def test_sent_provisioned_templates_are_read_only(api_client, account):
    template = make_template(account)
    Template.objects.filter(pk=template.pk).update(name="sent_opt_out")
    response = api_client.put(detail(template), {"display_name": "Mine now"}, format="json")
    assert response.status_code == 400
    message = "This template is read-only. Only 'submit for review' is allowed."
    assert error(response)["message"] == message
    assert error(response)["details"] == {"display_name": [message]}
    assert (
        api_client.put(detail(template), {"submit_for_review": True}, format="json").status_code
        == 200
    )


def test_a_template_in_review_refuses_content_changes_with_conflict_006(api_client, account):
    template = make_template(account, status="PENDING")
    for body in (
        {"definition": definition("Hello {{0:name}}, order {{1:order_id}} is out today.")},
        {"category": "MARKETING"},
        {"language": "fr"},
        {"submit_for_review": True},
        {"definition": {"body": "invalid"}},
    ):
        response = api_client.put(detail(template), body, format="json")
        assert response.status_code == 409, body
        assert error(response)["code"] == "CONFLICT_006"
        assert response["x-should-retry"] == "false"
    template.refresh_from_db()
    assert template.status == "PENDING" and template.language == "en_US"


def test_a_template_in_review_still_takes_a_new_name_and_the_same_content(api_client, account):
    template = make_template(account, status="PENDING")
    response = api_client.put(
        detail(template),
        {"name": "renamed", "category": "UTILITY", "definition": definition()},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["data"]["status"] == "PENDING"


@pytest.mark.parametrize("status", ["PAUSED", "DISABLED", "REVOKED", "ARCHIVED"])
def test_content_is_frozen_outside_draft_rejected_and_approved(api_client, account, status):
    template = make_template(account, status=status)
    response = api_client.put(
        detail(template), {"category": "MARKETING", "name": "ok"}, format="json"
    )
    assert response.status_code == 400
    message = (
        "Template (except display name) cannot be updated unless it is in draft or rejected status"
    )
    assert error(response) | {"doc_url": None} == {
        "code": "VALIDATION_001",
        "message": message,
        "details": {"category": [message]},
        "doc_url": None,
    }
    assert api_client.put(detail(template), {"name": "ok"}, format="json").status_code == 200


@pytest.mark.parametrize("status", ["PAUSED", "DISABLED", "REVOKED", "ARCHIVED"])
def test_submitting_a_frozen_template_is_a_quiet_no_op(api_client, account, status):
    template = make_template(account, status=status)
    response = api_client.put(detail(template), {"submit_for_review": True}, format="json")
    assert response.status_code == 200
    assert response.json()["data"]["status"] == status


def test_editing_an_approved_template_sends_it_back_to_review(api_client, account):
    template = make_template(account, status="APPROVED")
    new = definition("Hello {{0:name}}, order {{1:order_id}} left our warehouse today.")
    data = api_client.put(detail(template), {"definition": new}, format="json").json()["data"]
    assert data["status"] == "PENDING" and data["is_published"] is False
    assert [h["status"] for h in data["status_history"]] == ["DRAFT", "APPROVED", "PENDING"]


def test_renaming_an_approved_template_keeps_it_approved(api_client, account):
    template = make_template(account, status="APPROVED")
    data = api_client.put(
        detail(template), {"name": "n2", "definition": definition()}, format="json"
    ).json()["data"]
    assert data["status"] == "APPROVED"


def test_an_edited_rejected_template_waits_for_resubmission(api_client, account):
    template = make_template(account, status="REJECTED")
    new = definition("Hello {{0:name}}, order {{1:order_id}} left our warehouse today.")
    data = api_client.put(detail(template), {"definition": new}, format="json").json()["data"]
    assert data["status"] == "REJECTED" and data["rejection_reason"] == "Not allowed"
    data = api_client.put(detail(template), {"submit_for_review": True}, format="json").json()[
        "data"
    ]
    assert data["status"] == "PENDING" and data["rejection_reason"] is None


def test_a_sandbox_update_changes_nothing(api_client, account):
    template = make_template(account, status="APPROVED")
    response = api_client.put(
        detail(template), {"category": "MARKETING", "sandbox": True}, format="json"
    )
    assert response.status_code == 200 and response["X-Sandbox"] == "true"
    assert response.json()["data"]["category"] == "MARKETING"
    assert response.json()["data"]["status"] == "PENDING"
    template.refresh_from_db()
    assert (template.category, template.status) == ("UTILITY", "APPROVED")


def test_invalid_update_input_is_400(api_client, account):
    template = make_template(account)
    response = api_client.put(
        detail(template), {"definition": {"body": {}}, "name": " "}, format="json"
    )
    assert response.status_code == 400
    assert error(response)["code"] == "VALIDATION_004"
    assert "name" in error(response)["details"]


# --- delete -------------------------------------------------------------------------------
def test_deleting_a_template(api_client, account):
    template = make_template(account, status="APPROVED")
    response = api_client.delete(detail(template), {}, format="json")
    assert response.status_code == 200
    assert response.json()["data"] == {"id": str(template.pk), "deleted": True}
    assert not Template.objects.filter(pk=template.pk).exists()
    assert api_client.get(detail(template)).status_code == 404


def test_delete_works_without_a_body_and_with_the_sdk_options(api_client, account):
    first, second = make_template(account, name="a"), make_template(account, name="b")
    assert api_client.delete(detail(first)).status_code == 200
    assert (
        api_client.delete(detail(second), {"delete_from_meta": True}, format="json").status_code
        == 200
    )
    assert not Template.objects.exists()


def test_a_sandbox_delete_keeps_the_template(api_client, account):
    template = make_template(account)
    response = api_client.delete(detail(template), {"sandbox": True}, format="json")
    assert response.status_code == 200 and response["X-Sandbox"] == "true"
    assert Template.objects.filter(pk=template.pk).exists()


def test_delete_is_refused_while_queued_messages_use_the_template(
    api_client, account, other_account, instant_lifecycle
):
    template = make_approved_template(account)
    make_approved_template(other_account)
    [message] = send(account, number(10))
    send(other_account, number(11))  # another account's queued message of its own template
    response = api_client.delete(detail(template), {}, format="json")
    assert response.status_code == 409
    assert error(response)["code"] == "CONFLICT_007"
    assert "still queued" in error(response)["message"]
    assert response["x-should-retry"] == "false"
    assert Template.objects.filter(pk=template.pk).exists()
    run_queued_tasks(include_future=True)
    message.refresh_from_db()
    assert message.status not in ("QUEUED", "PROCESSED")  # sent: it no longer holds the template
    assert api_client.delete(detail(template), {}, format="json").status_code == 200
    assert not Template.objects.filter(pk=template.pk).exists()


def test_delete_rejects_a_non_boolean_option(api_client, account):
    template = make_template(account)
    response = api_client.delete(detail(template), {"sandbox": "maybe"}, format="json")
    assert response.status_code == 400 and error(response)["code"] == "VALIDATION_001"


# --- methods ------------------------------------------------------------------------------
def test_wrong_methods_are_405(api_client, account):
    template = make_template(account)
    assert error(api_client.delete(URL))["code"] == "REQUEST_002"
    assert error(api_client.post(detail(template), {}, format="json"))["code"] == "REQUEST_002"
    assert api_client.get(f"{detail(template)}/preview").status_code == 405


def test_a_pair_and_an_sms_only_template_report_their_channels(api_client):
    pair = api_client.post(URL, {"definition": pair_definition()}, format="json").json()["data"]
    sms = api_client.post(URL, {"definition": sms_only_definition()}, format="json").json()["data"]
    assert pair["channels"] == ["sms", "whatsapp", "rcs", "mms"]
    assert sms["channels"] == ["sms", "rcs", "mms"]


def test_list_filters_combine_and_a_repeated_one_is_refused(api_client, account):
    """The FilterSet's filters (docs/api/conventions.md#filtering) narrow together."""
    make_template(account, name="welcome", status="APPROVED", category="MARKETING")
    make_template(account, name="promo_draft", category="MARKETING")
    make_template(account, name="otp_login", status="APPROVED")
    query = {"status": "APPROVED", "category": "MARKETING"}
    found = api_client.get(URL, query).json()["data"]["templates"]
    assert [t["name"] for t in found] == ["welcome"]
    response = api_client.get(URL + "?status=APPROVED&status=DRAFT")
    assert response.status_code == 400
    assert (error(response)["code"], list(error(response)["details"])) == (
        "VALIDATION_001",
        ["status"],
    )
