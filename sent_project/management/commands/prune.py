"""Delete what the retention settings no longer keep, now (docs/operations.md#retention).

The periodic job (`messaging.tasks.retention_prune`) runs the same pruners every
RETENTION_EVERY_SECONDS; this command is for a first clean-up or a cron-minded operator."""

from django.core.management.base import BaseCommand, CommandError

from sent_project.retention import prune_all, pruners


class Command(BaseCommand):
    help = "Prune old bookkeeping rows in bounded batches, as the retention settings say."

    def add_arguments(self, parser):
        parser.add_argument(
            "--only",
            action="append",
            default=[],
            help="Run only this pruner (repeatable): " + ", ".join(name for name, _ in pruners()),
        )

    def handle(self, *args, only: list[str], **options):
        known = {name for name, _ in pruners()}
        unknown = sorted(set(only) - known)
        if unknown:
            raise CommandError(
                f"Unknown pruner(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})"
            )
        outcome = prune_all(only=only or None)
        for name, count in outcome.items():
            self.stdout.write(f"{name}: {'failed (see the log)' if count < 0 else count}")
        if any(count < 0 for count in outcome.values()):
            raise CommandError("a pruner failed")
