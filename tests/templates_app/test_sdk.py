"""The official SDK (`sent_dm`) against a live server: client.templates.create / retrieve /
update / list / delete, its errors, and tenant isolation."""

import pytest
import sent_dm

from templates_app.models import Template
from templates_app.services import templates_seed_demo
from tests.templates_app.factories import definition, make_template

DEFINITION = {
    "body": {
        "multiChannel": {
            "type": "text",
            "template": "Hi {{0:name}}, your order {{1:order_id}} has shipped and will arrive soon.",
            "variables": [
                {
                    "id": 0,
                    "name": "name",
                    "type": "variable",
                    "props": {"variableType": "text", "sample": "Ana"},
                },
                {
                    "id": 1,
                    "name": "order_id",
                    "type": "variable",
                    "props": {"variableType": "text", "sample": "A-1001"},
                },
            ],
        }
    },
    "footer": {"type": "text", "template": "Reply STOP to opt out"},
}


def test_the_sdk_creates_retrieves_updates_lists_and_deletes(sdk, live_account):
    created = sdk.templates.create(
        definition=DEFINITION, category="UTILITY", language="en_US", idempotency_key="tpl-create-1"
    )
    template = created.data
    assert created.success is True
    assert (template.customer_id, template.status, template.category) == (
        str(live_account.pk),
        "DRAFT",
        "UTILITY",
    )
    assert template.name == "hi_your_order_has_shipped"
    assert template.channels == ["sms", "whatsapp", "rcs", "mms"]
    assert template.variables == ["name", "order_id"]
    assert template.is_published is False

    again = sdk.templates.create(
        definition=DEFINITION, category="UTILITY", language="en_US", idempotency_key="tpl-create-1"
    )
    assert again.data.id == template.id  # replayed, not created twice
    assert Template.objects.count() == 1

    fetched = sdk.templates.retrieve(template.id).data
    assert fetched.id == template.id and fetched.language == "en_US"

    updated = sdk.templates.update(template.id, name="order_shipped", category="MARKETING").data
    assert (updated.name, updated.category, updated.status) == (
        "order_shipped",
        "MARKETING",
        "DRAFT",
    )

    page = sdk.templates.list(status="DRAFT", category="MARKETING", search="order")
    assert [t.id for t in page.data.templates] == [template.id]

    assert sdk.templates.delete(template.id) is None
    with pytest.raises(sent_dm.NotFoundError) as missing:
        sdk.templates.retrieve(template.id)
    assert missing.value.body["error"]["code"] == "RESOURCE_002"


def test_the_sdk_pager_walks_every_page(sdk, live_account):
    for i in range(7):
        make_template(live_account, name=f"t{i}")
    names = [t.name for t in sdk.templates.list(page_size=3)]
    assert names == [f"t{i}" for i in reversed(range(7))]


def test_submitting_through_the_sdk_and_the_in_review_conflict(sdk, live_account):
    template = sdk.templates.create(definition=DEFINITION, submit_for_review=True).data
    assert template.status == "PENDING"
    with pytest.raises(sent_dm.ConflictError) as conflict:
        sdk.templates.update(
            template.id,
            definition=definition(
                "Hello {{0:name}}, order {{1:order_id}} left our warehouse today."
            ),
        )
    assert conflict.value.body["error"]["code"] == "CONFLICT_006"
    assert conflict.value.response.headers["x-should-retry"] == "false"
    renamed = sdk.templates.update(template.id, name="order_update").data
    assert (renamed.name, renamed.status) == ("order_update", "PENDING")


def test_invalid_definitions_are_bad_requests_with_field_details(sdk):
    bad = {
        "body": {
            "multiChannel": {"template": "Hi {{0:name}} there, welcome aboard", "variables": []}
        }
    }
    with pytest.raises(sent_dm.BadRequestError) as raised:
        sdk.templates.create(definition=bad)
    error = raised.value.body["error"]
    assert error["code"] == "VALIDATION_001"
    assert error["details"] == {
        "definition.body.multiChannel.template": ["{{0}} refers to no declared variable."]
    }


def test_another_account_sees_nothing_of_mine(sdk, other_sdk, live_account):
    mine = templates_seed_demo(live_account)[0]
    with pytest.raises(sent_dm.NotFoundError):
        other_sdk.templates.retrieve(str(mine.pk))
    with pytest.raises(sent_dm.NotFoundError):
        other_sdk.templates.update(str(mine.pk), name="stolen")
    with pytest.raises(sent_dm.NotFoundError):
        other_sdk.templates.delete(str(mine.pk))
    assert list(other_sdk.templates.list()) == []
    assert len(list(sdk.templates.list(status="APPROVED"))) == 3
    mine.refresh_from_db()
    assert mine.name == "verification_code"


def test_sandbox_calls_answer_without_writing(sdk, live_account):
    created = sdk.templates.with_raw_response.create(definition=DEFINITION, sandbox=True)
    assert created.headers["X-Sandbox"] == "true"
    assert created.parse().data.status == "DRAFT"
    assert created.parse().data.id is None
    assert not Template.objects.exists()
