from django_otp.plugins.otp_static.apps import DefaultConfig as OtpStaticDefault
from django_otp.plugins.otp_totp.apps import DefaultConfig as OtpTotpDefault

from django.apps import AppConfig


class SentProjectConfig(AppConfig):
    default = True  # this module holds other apps' configs too (below)
    name = "sent_project"
    verbose_name = "Sent platform"

    def ready(self):
        from django.tasks.signals import task_started

        # With DEBUG on, every connection logs its statements (up to 9,000, full SQL) and
        # Django empties the log per request; a task worker serves no requests, so its log
        # is emptied per job (docs/operations.md#memory-of-workers-and-imports).
        task_started.connect(_reset_queries_per_job, dispatch_uid="sent.reset_queries_per_job")


def _reset_queries_per_job(**kwargs) -> None:
    """Empty the query log, unless someone is reading it (`CaptureQueriesContext` or
    `assertNumQueries` around a job run in-process, as tests do)."""
    from django.db import connections, reset_queries

    if not any(c.force_debug_cursor for c in connections.all(initialized_only=True)):
        reset_queries()


# django-otp's apps, named as the admin index shows them ("Otp_Static" otherwise).
class OtpTotpConfig(OtpTotpDefault):
    verbose_name = "Two-factor authenticator apps"


class OtpStaticConfig(OtpStaticDefault):
    verbose_name = "Two-factor recovery codes"
