"""The outbox's fan-out for webhooks: `OUTBOX_FAN_OUT` names `webhook_fan_out`.

`sent_project.outbox` records every app's events; this tells it which ones an active webhook
endpoint of the customer wants (so the others are marked done at once, with no job), and
enqueues the fan-out job for the rest after the change commits.
"""

from collections.abc import Callable, Collection

from messaging.webhooks.fanout import active_endpoints, wanting
from messaging.webhooks.tasks import webhook_event_fan_out, webhook_events_fan_out


class WebhookFanOut:
    def subscriptions(self, customer_ids: Collection) -> Callable[..., bool]:
        """One query: the customers' active endpoints and what they subscribe to."""
        endpoints = active_endpoints(customer_ids)

        def wants(customer_id, *, field: str, event: str) -> bool:
            return bool(wanting(endpoints.get(customer_id, []), field=field, event=event))

        return wants

    def enqueue(self, event_ids: list[str]) -> None:
        if len(event_ids) == 1:
            webhook_event_fan_out.enqueue(event_id=event_ids[0])
        else:
            webhook_events_fan_out.enqueue(event_ids=event_ids)


webhook_fan_out = WebhookFanOut()
