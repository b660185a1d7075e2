from django_otp.plugins.otp_static.apps import DefaultConfig as OtpStaticDefault
from django_otp.plugins.otp_totp.apps import DefaultConfig as OtpTotpDefault

from django.apps import AppConfig


class SentProjectConfig(AppConfig):
    default = True  # this module holds other apps' configs too (below)
    name = "sent_project"
    verbose_name = "Sent platform"


# django-otp's apps, named as the admin index shows them ("Otp_Static" otherwise).
class OtpTotpConfig(OtpTotpDefault):
    verbose_name = "Two-factor authenticator apps"


class OtpStaticConfig(OtpStaticDefault):
    verbose_name = "Two-factor recovery codes"
