"""Re-drive webhook work whose task was lost. Run it every minute (cron, systemd timer) or
keep it running with `--every 60`."""

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from messaging.webhooks.tasks import webhook_sweep


class Command(BaseCommand):
    help = "Fan out events and re-enqueue deliveries whose task never ran (docs/api/webhooks.md#retries-and-disabling)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--every", type=float, default=0, help="Repeat every N seconds instead of running once"
        )

    def handle(self, *args, every: float, **options):
        try:
            while True:
                outcome = webhook_sweep.call()
                if options["verbosity"] > 1 or not every:
                    self.stdout.write(f"webhooks sweep: {outcome['enqueued']} deliveries enqueued")
                if not every:
                    return
                time.sleep(every)
                close_old_connections()  # a long-running loop: drop a broken or stale one
        except KeyboardInterrupt:
            return
