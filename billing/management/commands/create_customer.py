from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from billing.management.commands._output import print_key
from billing.services import api_key_create, customer_create
from sent_project.errors import SentError


class Command(BaseCommand):
    help = "Create a customer and one API key (the scripted way in). --json prints one JSON object."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--balance", default="0")
        parser.add_argument("--region", default="US", help="Default region for national numbers")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        try:
            balance = Decimal(options["balance"])
        except InvalidOperation:
            raise CommandError(f"--balance must be a number, not {options['balance']!r}") from None
        try:
            customer = customer_create(
                name=options["name"],
                email=options["email"],
                balance=balance,
                default_region=options["region"],
            )
        except SentError as exc:
            raise CommandError(f"{exc.code}: {exc.message} {exc.details or ''}") from None
        created = api_key_create(customer)
        print_key(self, customer, created.raw_key, options["json"])
