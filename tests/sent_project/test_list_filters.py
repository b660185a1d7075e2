"""Every list's FilterSet filters by each parameter its query serializer accepts
(docs/api/conventions.md#filtering): a filter added to the serializer but not to the FilterSet
would be validated and then silently ignored."""

import pytest

from billing.api.filters import LedgerFilterSet
from contacts.api.filters import ContactFilterSet
from messaging.api.filters import MessageFilterSet
from messaging.webhooks.api.filters import WebhookFilterSet
from templates_app.api.filters import TemplateFilterSet


@pytest.mark.parametrize(
    "filterset",
    [ContactFilterSet, TemplateFilterSet, MessageFilterSet, WebhookFilterSet, LedgerFilterSet],
)
def test_each_accepted_parameter_has_its_filter(filterset):
    accepted = set(filterset.query_serializer().fields) - filterset.accepted_unused
    assert set(filterset.base_filters) == accepted
