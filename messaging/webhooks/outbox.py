"""The outbox's fan-out for webhooks: `OUTBOX_FAN_OUT` names `webhook_fan_out`.

`sent_project.outbox` records every app's events; this tells it which ones an active webhook
endpoint of the customer wants (so the others are marked done at once, with no job), and
enqueues the fan-out job for the rest after the change commits.
"""

from collections import defaultdict
from collections.abc import Callable, Collection

from messaging.models import WebhookEndpoint
from messaging.webhooks.catalogue import endpoint_wants
from messaging.webhooks.tasks import webhook_event_fan_out, webhook_events_fan_out


class WebhookFanOut:
    def subscriptions(self, customer_ids: Collection) -> Callable[..., bool]:
        """One query: the customers' active endpoints and what they subscribe to."""
        endpoints = defaultdict(list)
        for endpoint in WebhookEndpoint.objects.filter(
            customer_id__in=customer_ids, is_active=True
        ).only("customer_id", "event_types", "event_filters"):
            endpoints[endpoint.customer_id].append(endpoint)

        def wants(customer_id, *, field: str, event: str) -> bool:
            return any(
                endpoint_wants(e.event_types, e.event_filters, field=field, event=event)
                for e in endpoints.get(customer_id, ())
            )

        return wants

    def enqueue(self, event_ids: list[str]) -> None:
        if len(event_ids) == 1:
            webhook_event_fan_out.enqueue(event_id=event_ids[0])
        else:
            webhook_events_fan_out.enqueue(event_ids=event_ids)


webhook_fan_out = WebhookFanOut()
