from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from billing.models import Customer
from billing.services import balance_top_up
from sent_project.errors import SentError


class Command(BaseCommand):
    help = "Add money to a customer's prepaid balance (recorded in the ledger)."

    def add_arguments(self, parser):
        parser.add_argument("--customer", required=True, help="Customer id")
        parser.add_argument("--amount", required=True)
        parser.add_argument("--note", default="")

    def handle(self, *args, **options):
        try:
            customer = Customer.objects.get(pk=options["customer"])
        except (Customer.DoesNotExist, ValidationError):
            raise CommandError(f"No customer {options['customer']}") from None
        try:
            entry = balance_top_up(
                customer, amount=Decimal(options["amount"]), note=options["note"]
            )
        except InvalidOperation:
            raise CommandError(f"--amount must be a number, not {options['amount']!r}") from None
        except SentError as exc:
            raise CommandError(f"{exc.code}: {exc.details or exc.message}") from None
        self.stdout.write(f"New balance: {entry.ending_balance} {entry.currency}")
