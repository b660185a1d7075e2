"""`make run`: migrate, create the demo account, then run the web server and the task workers
(one per lane of work, sent_project/lanes.py) together.

Ctrl-C (or SIGTERM) stops both; if either exits, the other is stopped too.
"""

import os
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from sent_project import lanes
from sent_project.management.commands.bootstrap_demo import (
    bootstrap_demo,
    demo_password_hashes_in_background,
)
from sent_project.supervise import supervise


class Command(BaseCommand):
    help = "Run Sent for local use: web server + a db_worker per lane, with the demo account."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--workers", type=int, default=1, help="How many db_worker processes dispatch messages"
        )

    def handle(self, *args, host, port, workers, **options):
        # The web server and the workers build links (doc_url, webhook URLs) from SITE_URL,
        # which follows HOST and PORT when it is not set (docs/operations.md#configuration).
        os.environ.setdefault("SITE_URL", f"http://{host}:{port}")
        # On a first run the demo logins' password hashes are made beside `migrate`, on the
        # core it leaves idle (docs/operations.md#cold-start).
        first_run = not (settings.VAR_DIR / "demo.json").exists()
        password_hashes = demo_password_hashes_in_background() if first_run else None
        call_command("migrate", interactive=False, verbosity=0)
        url = f"http://{host}:{port}"
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        processes = [
            subprocess.Popen(
                [*manage, "runserver", f"{host}:{port}", "--noreload", "--skip-checks"]
            )
        ]
        # The demo account is made while the web server starts (it imports Django for a second
        # or so): it only has to exist by the time the URL and key below are printed.
        demo = bootstrap_demo(password_hashes)
        # Books the self-rescheduling message reconciler; the workers keep it running
        # (docs/api/messages.md#the-reconciler).
        call_command("reconcile_messages", "--schedule", verbosity=0)
        # And the retention prune and each lane's heartbeat (docs/operations.md#health).
        call_command("schedule_jobs", verbosity=0)
        # "Sent is running" only once the web server answers: the first request a reader makes
        # after reading it must not be refused.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and processes[0].poll() is None:
            try:
                socket.create_connection((host, port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        # The workers start once the web server answers: started beside it, they would slow it
        # down (each imports Django too) while nothing is queued yet. What is sent meanwhile
        # waits in the queue for them.
        # One worker per lane (sent_project/lanes.py): a flood in one can't starve another.
        for queues in lanes.worker_queues(dispatch_workers=workers):
            processes.append(
                subprocess.Popen(
                    [
                        *manage,
                        "db_worker",
                        "--queue-name",
                        queues,
                        "--interval",
                        "0.2",
                        "--no-reload",
                        "--no-startup-delay",
                    ]
                )
            )
        # Re-drives webhook work whose task was lost (docs/api/webhooks.md#retries-and-disabling).
        processes.append(subprocess.Popen([*manage, "webhooks_sweep", "--every", "60"]))
        self.stdout.write(self.style.SUCCESS("\nSent is running.\n"))
        self.stdout.write(
            f"  Dashboard:  {url}/   (login {demo['dashboard_login'][0]} / "
            f"{demo['dashboard_login'][1]})"
        )
        self.stdout.write(
            f"  Admin:      {url}/admin/   (login {demo['admin_login'][0]} / "
            f"{demo['admin_login'][1]})"
        )
        self.stdout.write(f"  API:        {url}/v3/   (docs {url}/docs/)")
        self.stdout.write(f"  API key:    {demo['api_key']}")
        self.stdout.write(f"  Balance:    {demo['balance']} {demo['currency']}")
        self.stdout.write(f"  Try it:     curl -s {url}/v3/me -H 'x-api-key: {demo['api_key']}'\n")
        self.stdout.write("Press Ctrl-C to stop the web server and the worker.\n")

        exit_code = supervise(processes, grace_seconds=10)
        self.stdout.write("Stopped.")
        if exit_code:
            sys.exit(exit_code)
