"""template_for_send: by id or name, the caller's own, APPROVED only."""

import uuid

import pytest

from sent_project.errors import SentError
from templates_app.selectors import template_for_send
from tests.templates_app.factories import make_template


def test_an_approved_template_is_found_by_id_or_by_name(account):
    template = make_template(account, status="APPROVED", name="order_shipped")
    assert template_for_send(account, template_id=template.pk) == template
    assert template_for_send(account, template_id=str(template.pk)) == template
    assert template_for_send(account, name="order_shipped") == template


@pytest.mark.parametrize(
    "lookup",
    [
        {"template_id": uuid.uuid4()},
        {"template_id": "not-a-uuid"},
        {"name": "nope"},
    ],
)
def test_a_missing_template_is_404_resource_002(account, lookup):
    with pytest.raises(SentError) as raised:
        template_for_send(account, **lookup)
    assert (raised.value.code, raised.value.status) == ("RESOURCE_002", 404)


def test_another_accounts_template_is_404_too(account, other_account):
    theirs = make_template(other_account, status="APPROVED", name="order_shipped")
    for lookup in ({"template_id": theirs.pk}, {"name": "order_shipped"}):
        with pytest.raises(SentError) as raised:
            template_for_send(account, **lookup)
        assert raised.value.code == "RESOURCE_002"


@pytest.mark.parametrize(
    "status", ["DRAFT", "PENDING", "REJECTED", "PAUSED", "ARCHIVED", "DISABLED", "REVOKED"]
)
def test_only_approved_templates_can_be_sent(account, status):
    template = make_template(account, status=status, name="t")
    with pytest.raises(SentError) as raised:
        template_for_send(account, name="t")
    assert (raised.value.code, raised.value.status) == ("BUSINESS_005", 400)
    assert raised.value.details == {
        "template": [f"The template is {template.status}, not APPROVED."]
    }


@pytest.mark.parametrize("lookup", [{}, {"template_id": uuid.uuid4(), "name": "t"}])
def test_exactly_one_of_id_and_name_is_needed(account, lookup):
    with pytest.raises(SentError) as raised:
        template_for_send(account, **lookup)
    assert raised.value.code == "VALIDATION_001"
