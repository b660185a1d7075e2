from django.core.management.base import BaseCommand

from billing.services import prices_seed_defaults


class Command(BaseCommand):
    help = "Add the built-in rate card's rows missing from the price table (edited rows stay)."

    def handle(self, *args, **options):
        created = prices_seed_defaults()
        self.stdout.write(f"Price table: {created} row(s) added.")
