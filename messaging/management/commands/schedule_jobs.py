"""Make sure every self-rescheduling job is booked: the reconciler, the retention prune and
each lane's worker heartbeat (docs/operations.md#health). Safe to run at every start."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from messaging.tasks import periodic_jobs_ensure


class Command(BaseCommand):
    help = "Book the periodic jobs (reconciler, prune, heartbeats) where none is booked."

    def handle(self, *args, **options):
        call_command("reconcile_messages", "--schedule", verbosity=options["verbosity"])
        started = periodic_jobs_ensure()
        if options["verbosity"]:
            for name, booked in started.items():
                self.stdout.write(f"{name}: {'booked' if booked else 'already booked'}")
