from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from billing.management.commands._output import print_key
from billing.models import Customer
from billing.services import api_key_create


class Command(BaseCommand):
    help = "Create another API key for a customer. --json prints one JSON object."

    def add_arguments(self, parser):
        parser.add_argument("--customer", required=True, help="Customer id")
        parser.add_argument("--name", default="Default")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        try:
            customer = Customer.objects.get(pk=options["customer"])
        except (Customer.DoesNotExist, ValidationError):
            raise CommandError(f"No customer {options['customer']}") from None
        created = api_key_create(customer, name=options["name"])
        print_key(self, customer, created.raw_key, options["json"])
