"""One way to validate and answer (sent_project.api.validation): the same mistake gets the
same code and the same `details` shape on every endpoint, whatever app serves it; and every
view (sent_project.api.views.CustomerAPIView) carries the rate-limit headers."""

import pytest

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from sent_project.api.validation import (
    VALIDATION_CODES,
    validated,
    validated_query,
    validation_code,
)
from sent_project.errors import ValidationFailed
from tests.contacts.factories import make_contact

PUBLIC = "https://hooks.example.com/sent"
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def assert_validation_error(response, field: str, code: str):
    """400 `code` with `details` {field: [message, ...]} naming only `field`."""
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert list(error["details"]) == [field]
    messages = error["details"][field]
    assert isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages)


def post(client, path, body):
    return client.post(path, body, format="json")


# A missing required field: webhooks, messages, templates, billing (query).
@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: post(c, "/v3/webhooks", {"event_types": ["message"]}), "endpoint_url"),
        (lambda c: post(c, "/v3/messages", {"text": "Hi"}), "to"),
        (lambda c: post(c, "/v3/templates", {"name": "no_definition"}), "definition"),
        (lambda c: post(c, "/v3/contacts", {"metadata": {}}), "phone_number"),
        (lambda c: c.get("/v3/billing/quote", {"country": "US"}), "channel"),
    ],
    ids=["webhooks", "messages", "templates", "contacts", "billing"],
)
def test_a_missing_required_field_is_the_same_mistake_everywhere(api_client, call, field):
    assert_validation_error(call(api_client), field, "VALIDATION_004")


# A value out of range (min/max value or length).
@pytest.mark.parametrize(
    ("call", "field"),
    [
        (
            lambda c: post(
                c,
                "/v3/webhooks",
                {"endpoint_url": PUBLIC, "event_types": ["message"], "retry_count": 0},
            ),
            "retry_count",
        ),
        (lambda c: c.get("/v3/webhooks", {"search": "x" * 201}), "search"),
        (lambda c: c.get("/v3/contacts", {"search": "1" * 201}), "search"),
        (lambda c: c.get("/v3/templates", {"search": "x" * 201}), "search"),
        (
            lambda c: c.get(
                "/v3/billing/quote", {"channel": "sms", "country": "US", "segments": 0}
            ),
            "segments",
        ),
    ],
    ids=["webhooks-body", "webhooks-query", "contacts", "templates", "billing"],
)
def test_a_value_out_of_range_is_the_same_mistake_everywhere(api_client, call, field):
    assert_validation_error(call(api_client), field, "VALIDATION_005")


# A value not among the choices.
@pytest.mark.parametrize(
    ("call", "field"),
    [
        (
            lambda c: post(
                c, "/v3/webhooks", {"endpoint_url": PUBLIC, "event_types": ["messages"]}
            ),
            "event_types.0",
        ),
        (lambda c: c.get("/v3/webhooks", {"is_active": "maybe"}), "is_active"),
        (lambda c: c.get("/v3/contacts", {"channel": "fax"}), "channel"),
        (lambda c: c.get("/v3/billing/ledger", {"kind": "gift"}), "kind"),
        (lambda c: c.get("/v3/billing/quote", {"channel": "rcs", "country": "US"}), "channel"),
    ],
    ids=["webhooks-body", "webhooks-query", "contacts", "billing-ledger", "billing-quote"],
)
def test_an_invalid_choice_is_the_same_mistake_everywhere(api_client, call, field):
    assert_validation_error(call(api_client), field, "VALIDATION_006")


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/v3/webhooks", "is_active=true&is_active=false", "is_active"),
        ("/v3/webhooks/event-types", "page=1&page=2", "page"),
        ("/v3/contacts", "search=1&search=2", "search"),
        ("/v3/contacts/import", "page_size=1&page_size=2", "page_size"),
        ("/v3/templates", "status=DRAFT&status=APPROVED", "status"),
        ("/v3/messages", "page=1&page=1", "page"),
        ("/v3/billing/ledger", "kind=charge&kind=refund", "kind"),
        ("/v3/billing/prices", "channel=sms&channel=whatsapp", "channel"),
        ("/v3/billing/quote", "channel=sms&country=US&country=DE", "country"),
    ],
)
def test_a_repeated_query_parameter_is_refused_on_every_endpoint(api_client, path, query, field):
    response = api_client.get(f"{path}?{query}")
    assert_validation_error(response, field, "VALIDATION_001")
    assert response.json()["error"]["details"][field] == ["Give this parameter once."]


def test_a_repeated_parameter_is_refused_on_lists_of_one_resource_too(api_client, account):
    contact = make_contact(account, "+12015550101")
    response = api_client.get(f"/v3/contacts/{contact.pk}/consent?page=1&page=2")
    assert_validation_error(response, "page", "VALIDATION_001")


def test_a_repeated_parameter_the_endpoint_does_not_read_is_ignored(api_client):
    for path in ("/v3/contacts", "/v3/webhooks", "/v3/billing/ledger"):
        response = api_client.get(f"{path}?utm_source=a&utm_source=b")
        assert response.status_code == 200, (path, response.content)


def test_every_repeated_parameter_is_named(api_client):
    response = api_client.get("/v3/contacts?search=1&page=1&search=2&page=2&channel=sms")
    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"search", "page"}


@pytest.mark.parametrize(
    ("kinds", "code"),
    [
        (["required"], "VALIDATION_004"),
        (["null", "blank"], "VALIDATION_004"),
        (["min_value"], "VALIDATION_005"),
        (["max_length", "max_value"], "VALIDATION_005"),
        (["invalid_choice"], "VALIDATION_006"),
        (["invalid"], "VALIDATION_001"),
        (["not_a_list"], "VALIDATION_001"),
        (["something_new"], "VALIDATION_001"),
        (["required", "max_value"], "VALIDATION_001"),  # mistakes of several kinds
        (["invalid_choice", "invalid"], "VALIDATION_001"),
    ],
)
def test_each_kind_of_serializer_mistake_has_one_code(kinds, code):
    errors = {f"field{i}": [ErrorDetail("x", code=kind)] for i, kind in enumerate(kinds)}
    assert validation_code(errors) == code
    nested = {"outer": [{"inner": errors["field0"]}], **errors}
    assert validation_code(nested) == code


def test_the_mapping_uses_only_the_documented_codes():
    assert set(VALIDATION_CODES.values()) == {"VALIDATION_004", "VALIDATION_005", "VALIDATION_006"}


class _Probe(serializers.Serializer):
    count = serializers.IntegerField(min_value=1)

    def validate_count(self, value):
        if self.context.get("limit") and value > self.context["limit"]:
            raise serializers.ValidationError("Too many.", code="max_value")
        return value


def test_validated_takes_a_class_or_an_instance_and_a_context():
    assert validated(_Probe, {"count": 2}) == {"count": 2}
    assert validated(_Probe(), {"count": 3}) == {"count": 3}
    with pytest.raises(ValidationFailed) as caught:
        validated(_Probe, {"count": 3}, limit=2)
    assert (caught.value.code, caught.value.details) == ("VALIDATION_005", {"count": ["Too many."]})
    with pytest.raises(ValidationFailed) as caught:
        validated(_Probe, {})
    assert caught.value.code == "VALIDATION_004" and list(caught.value.details) == ["count"]


def test_validated_query_takes_a_django_form_too():
    from django import forms
    from django.http import QueryDict

    class Filters(forms.Form):
        count = forms.IntegerField(min_value=1)

    assert validated_query(Filters, QueryDict("count=2")) == {"count": 2}
    with pytest.raises(ValidationFailed) as caught:
        validated_query(Filters, QueryDict("count=0"))
    assert caught.value.code == "VALIDATION_005" and list(caught.value.details) == ["count"]
    with pytest.raises(ValidationFailed) as caught:
        validated_query(Filters, QueryDict("count=1&count=2"))
    assert caught.value.details == {"count": ["Give this parameter once."]}


# Rate-limit headers: on every response the throttle counted, from views of every app.
@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get("/v3/me"),
        lambda c: c.get("/v3/contacts"),
        lambda c: c.get("/v3/templates"),
        lambda c: c.get("/v3/messages"),
        lambda c: c.get("/v3/webhooks"),
        lambda c: c.get("/v3/billing/ledger"),
        lambda c: c.get("/v3/contacts/consent/export"),
        lambda c: post(c, "/v3/webhooks", {}),  # 400
        lambda c: c.get("/v3/contacts?search=1&search=2"),  # 400, repeated
        lambda c: c.get("/v3/messages/00000000-0000-0000-0000-000000000000"),  # 404
        lambda c: c.delete("/v3/billing/ledger"),  # 405
    ],
    ids=[
        "me",
        "contacts",
        "templates",
        "messages",
        "webhooks",
        "ledger",
        "csv",
        "400",
        "400q",
        "404",
        "405",
    ],  # fmt: skip
)
def test_rate_limit_headers_come_with_every_counted_response(api_client, settings, call):
    settings.API_RATE_LIMIT = "50/min"
    response = call(api_client)
    assert response["X-RateLimit-Limit"] == "50"
    assert response["X-RateLimit-Remaining"] == "49"
    assert int(response["X-RateLimit-Reset"]) > 0


def test_rate_limit_headers_come_with_the_429(api_client, settings):
    settings.API_RATE_LIMIT = "1/min"
    assert api_client.get("/v3/contacts")["X-RateLimit-Remaining"] == "0"
    response = api_client.get("/v3/webhooks")
    assert response.status_code == 429
    assert (response["X-RateLimit-Limit"], response["X-RateLimit-Remaining"]) == ("1", "0")
    assert "X-RateLimit-Reset" in response


def test_no_rate_limit_headers_where_nothing_was_counted(client, db):
    # No key: refused before the throttle counts. An unknown endpoint is no view of ours.
    response = client.get("/v3/contacts")
    assert response.status_code == 401
    assert not any(name in response for name in RATE_HEADERS)
    unknown = client.get("/v3/nowhere", HTTP_X_API_KEY="nope")
    assert unknown.status_code == 404
    assert not any(name in unknown for name in RATE_HEADERS)


def _v3_views(patterns, prefix=""):
    from django.urls import URLResolver

    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _v3_views(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern.callback


def test_every_v3_endpoint_is_a_customer_api_view():
    """So each one gets the caller's customer, the sandbox flag and the rate-limit headers
    the same way (the schema and the catch-all 404 are the two that answer no customer)."""
    from drf_spectacular.views import SpectacularJSONAPIView

    from sent_project.api.views import CustomerAPIView
    from sent_project.urls import v3_patterns
    from sent_project.views import api_not_found

    views = list(_v3_views(v3_patterns))
    assert len(views) >= 30
    for route, callback in views:
        if callback is api_not_found or getattr(callback, "cls", None) is SpectacularJSONAPIView:
            continue
        assert issubclass(callback.cls, CustomerAPIView), route
