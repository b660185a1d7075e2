from django.apps import AppConfig


class SentProjectConfig(AppConfig):
    name = "sent_project"
    verbose_name = "Sent platform"
