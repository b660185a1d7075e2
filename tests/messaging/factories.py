"""Builders for message tests (plain functions)."""

from contacts.models import Contact
from contacts.services import contact_create, contact_update
from messaging.models import Message, SimulatorSend
from messaging.sending import SendRequest
from messaging.services import message_send
from templates_app.models import Template
from tests.templates_app.factories import make_template

PARAMETERS = {"name": "Ana", "order_id": "A-1001"}
BODY = "Hi Ana, your order A-1001 has shipped and arrives soon."


def number(digits: int, *, series: int = 0) -> str:
    """A valid US number whose national number ends in `digits` (the simulator's table);
    `series` tells several numbers with the same ending apart."""
    return f"+1415555{series:02d}{digits:02d}"


def make_approved_template(customer, name: str = "order_shipped", **overrides) -> Template:
    return make_template(customer, status=Template.Status.APPROVED, name=name, **overrides)


def make_contact(customer, phone: str, **changes) -> Contact:
    contact, _ = contact_create(customer, phone_number=phone)
    if changes:
        contact = contact_update(customer, contact_id=contact.pk, **changes)
    return contact


def send_body(to, *, template: str = "order_shipped", **extra) -> dict:
    body = {
        "to": to if isinstance(to, list) else [to],
        "template": {"name": template, "parameters": PARAMETERS},
    }
    body.update(extra)
    return body


def send(customer, to, *, template_name: str | None = "order_shipped", **options) -> list[Message]:
    """Accept a send through the service (as the API does); its messages."""
    options.setdefault("parameters", PARAMETERS if template_name else {})
    request = SendRequest(
        to=to if isinstance(to, list) else [to], template_name=template_name, **options
    )
    return message_send(customer, request=request).messages


def provider_calls(message) -> int:
    """How many times the simulator was asked to send this message (any channel)."""
    return sum(
        SimulatorSend.objects.filter(message_id=message.pk).values_list("attempts", flat=True)
    )


def history(message) -> list[str]:
    return [
        step.status
        for step in message.activities.filter(kind__in=("status", "receipt")).order_by("id")
    ]


def message_path_ids(customer) -> dict:
    """Path parameters of a fresh message of `customer` (the BOLA sweep's builder)."""
    template = Template.objects.filter(customer=customer, name="bola_template").first()
    template = template or make_approved_template(customer, name="bola_template")
    [message] = send(customer, number(60), template_name=template.name)
    return {"message_id": str(message.pk)}
