"""The messaging app's answers to the signals of the apps below it (connected in `apps.py`)."""

from django.dispatch import receiver

from messaging.selectors import messages_for
from messaging.statuses import IN_FLIGHT
from templates_app.signals import template_in_use


@receiver(template_in_use)
def unfinished_messages_use_template(sender, template, **kwargs) -> bool:
    """Messages still waiting to go out (not yet with a provider) need their template. Sent
    messages keep their rendered text, so finished ones don't hold it."""
    return messages_for(
        template.customer, statuses=list(IN_FLIGHT), template_id=template.pk
    ).exists()
