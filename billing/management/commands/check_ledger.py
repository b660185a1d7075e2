from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from billing.selectors import ledger_problems


class Command(BaseCommand):
    help = (
        "Verify every customer's ledger: each entry's ending_balance is the running sum, "
        "and the sum equals the balance. Prints each problem; exits 1 if there is any."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--customer", action="append", help="Only this customer id (repeatable)"
        )

    def handle(self, *args, **options):
        try:
            customers, entries, problems = ledger_problems(options["customer"])
        except ValidationError:
            raise CommandError(f"Not a customer id: {options['customer']}") from None
        for problem in problems:
            self.stderr.write(problem)
        summary = f"Checked {customers} customer(s), {entries} ledger entries"
        if problems:
            raise CommandError(f"{summary}: {len(problems)} problem(s)")
        self.stdout.write(f"{summary}: all consistent.")
