from django_otp.plugins.otp_static.apps import DefaultConfig as OtpStaticDefault
from django_otp.plugins.otp_totp.apps import DefaultConfig as OtpTotpDefault

from django.apps import AppConfig


class SentProjectConfig(AppConfig):
    default = True  # this module holds other apps' configs too (below)
    name = "sent_project"
    verbose_name = "Sent platform"

    def ready(self):
        from django.db import reset_queries
        from django.tasks.signals import task_started

        # With DEBUG on, every connection logs its statements (up to 9,000, full SQL) and
        # Django empties the log per request; a task worker serves no requests, so its log
        # is emptied per job (docs/operations.md#memory-of-workers-and-imports).
        task_started.connect(reset_queries, dispatch_uid="sent.reset_queries_per_job")


# django-otp's apps, named as the admin index shows them ("Otp_Static" otherwise).
class OtpTotpConfig(OtpTotpDefault):
    verbose_name = "Two-factor authenticator apps"


class OtpStaticConfig(OtpStaticDefault):
    verbose_name = "Two-factor recovery codes"
