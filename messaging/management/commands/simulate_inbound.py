"""`manage.py simulate_inbound`: store a message as if a contact had sent it to one of a
customer's numbers (docs/api/inbound.md#the-simulator-inbound-messages-without-a-provider) — the command-line twin of
`POST /v3/simulator/inbound` and the inbox's simulator form."""

import uuid

from django.core.management.base import BaseCommand, CommandError

from billing.models import Customer
from messaging.inbound import Inbound, inbound_receive


class Command(BaseCommand):
    help = "Store a simulated inbound SMS/WhatsApp message for a customer (a sandbox message)."

    def add_arguments(self, parser):
        parser.add_argument("--customer", required=True, help="The customer's id or exact name")
        parser.add_argument("--from", dest="from_number", required=True, help="E.164 number")
        parser.add_argument("--text", required=True)
        parser.add_argument("--channel", choices=["sms", "whatsapp", "mms"], default="sms")
        parser.add_argument("--to", default="", help="The receiving number (default: yours)")

    def handle(self, *args, **options):
        customer = _customer(options["customer"])
        result = inbound_receive(
            Inbound(
                provider="simulator",
                channel=options["channel"],
                from_number=options["from_number"],
                to=options["to"],
                text=options["text"],
                raw={"simulated": True, "via": "manage.py simulate_inbound"},
                customer=customer,
                sandbox=True,
            )
        )
        if result.message is None:
            raise CommandError(f"Not stored ({result.outcome}): {result.detail}")
        self.stdout.write(f"Stored {result.message.pk} from {result.message.phone}")
        if result.keyword:
            self.stdout.write(f"Keyword {result.keyword.word}: {result.keyword.action}")
        if result.reply:
            self.stdout.write(f"Replied with message {result.reply.pk}")


def _customer(value: str) -> Customer:
    try:
        customers = Customer.objects.filter(pk=uuid.UUID(value))
    except ValueError:  # not an id: the name
        customers = Customer.objects.filter(name=value)
    found = list(customers[:2])
    if len(found) != 1:
        raise CommandError(f"No single customer is {value!r} (give its id)")
    return found[0]
