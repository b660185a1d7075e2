"""Resolve messages stuck between states (see docs/api/messages.md#the-reconciler).

`reconcile_messages` runs one pass now; `--schedule` makes sure the self-rescheduling job
is booked (workers then keep it running every MESSAGE_RECONCILE_EVERY_SECONDS); `--every N`
keeps running passes, for installs that prefer a service to the job."""

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from messaging.reconciler import reconcile, reconcile_record, reconcile_schedule_ensure
from messaging.tasks import SCHEDULER, messages_reconcile


def schedule_ensure() -> bool:
    return reconcile_schedule_ensure(
        enqueue=lambda run_at: messages_reconcile.using(run_after=run_at).enqueue()
    )


class Command(BaseCommand):
    help = "Find messages stuck in QUEUED/PROCESSED and resolve them (asking the provider first)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--schedule",
            action="store_true",
            help="Only make sure the periodic reconcile job is booked",
        )
        parser.add_argument(
            "--every",
            type=float,
            default=0,
            help="Repeat a pass every N seconds instead of running once",
        )

    def handle(self, *args, schedule: bool, every: float, **options):
        if schedule:
            booked = schedule_ensure()
            if options["verbosity"]:
                self.stdout.write(
                    "reconcile job booked" if booked else "reconcile job already booked"
                )
            return
        try:
            while True:
                outcome = reconcile(scheduler=SCHEDULER)
                reconcile_record(outcome)
                self.stdout.write("reconcile: " + ", ".join(f"{k} {v}" for k, v in outcome.items()))
                if not every:
                    return
                time.sleep(every)
                close_old_connections()
        except KeyboardInterrupt:
            return
