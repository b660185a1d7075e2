"""Print the readiness checks /readyz answers (docs/operations.md#health); exit 1 when one
fails, so a deploy script can wait on it."""

import json
import sys

from django.core.management.base import BaseCommand

from sent_project.health import readiness_report


class Command(BaseCommand):
    help = "Check the database, migrations, workers per lane, queues and the reconciler."

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print /readyz's JSON"
        )

    def handle(self, *args, as_json: bool = False, **options):
        ready, report = readiness_report()
        if as_json:
            self.stdout.write(json.dumps(report, indent=2))
        else:
            for name, check in report["checks"].items():
                mark = "ok  " if check["state"] == "ok" else "FAIL"
                self.stdout.write(f"{mark} {name:<20} {check['detail']}")
            self.stdout.write(
                "ready" if ready else f"NOT READY: failing {', '.join(report['failing'])}"
            )
        if not ready:
            sys.exit(1)
