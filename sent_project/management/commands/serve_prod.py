"""`make serve-prod`: Sent as production runs it, on one host (docs/operations.md#deploy).

Migrates, books the periodic jobs, then runs gunicorn (`deploy/gunicorn.conf.py`), one
`db_worker` per lane set of `sent_project.lanes.worker_queues()` and the webhook sweep, all on
DATABASE_URL, with prometheus-client's multiprocess directory shared by them. SIGTERM or
Ctrl-C stops them all; if one exits, the others are stopped too. The systemd units and
compose.yaml run the same processes as separate services.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from sent_project import lanes
from sent_project.supervise import supervise


def worker_command(queues: str) -> list[str]:
    """A lane's worker, as the deploy files run it."""
    return [
        "manage.py",
        "db_worker",
        "--queue-name",
        queues,
        "--interval",
        "0.5",
        "--no-reload",
        "--no-startup-delay",
    ]


SWEEP_COMMAND = ["manage.py", "webhooks_sweep", "--every", "60"]


class Command(BaseCommand):
    help = "Run gunicorn, a db_worker per lane and the webhook sweep on DATABASE_URL."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
        parser.add_argument(
            "--web-workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "4"))
        )
        parser.add_argument(
            "--dispatch-workers",
            type=int,
            default=int(os.environ.get("DISPATCH_WORKERS", "1")),
        )

    def handle(self, *args, host, port, web_workers, dispatch_workers, **options):
        if not os.environ.get("DATABASE_URL"):
            raise CommandError("serve-prod runs on DATABASE_URL: set it (postgres://…)")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("schedule_jobs", verbosity=0)
        env = dict(os.environ)
        own_dir = None
        if not env.get("PROMETHEUS_MULTIPROC_DIR"):
            own_dir = tempfile.mkdtemp(prefix="sent-prometheus-")
            env["PROMETHEUS_MULTIPROC_DIR"] = own_dir
        else:  # start clean: the previous run's files would add up into this run's counters
            for stale in Path(env["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
                stale.unlink()
        base = settings.BASE_DIR
        python = sys.executable
        commands = [
            [
                python,
                "-m",
                "gunicorn",
                "-c",
                "deploy/gunicorn.conf.py",
                "--workers",
                str(web_workers),
                "--bind",
                f"{host}:{port}",
                "sent_project.wsgi",
            ]
        ]
        for queues in lanes.worker_queues(dispatch_workers=dispatch_workers):
            commands.append([python, *worker_command(queues)])
        commands.append([python, *SWEEP_COMMAND])
        processes = [subprocess.Popen(command, cwd=base, env=env) for command in commands]
        self.stdout.write(f"Sent (production mode) on http://{host}:{port}/  readiness: /readyz")

        exit_code = supervise(processes, grace_seconds=30)
        if own_dir:
            shutil.rmtree(own_dir, ignore_errors=True)
        if exit_code:
            sys.exit(exit_code)
