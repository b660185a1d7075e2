from django.apps import AppConfig


class SentProjectConfig(AppConfig):
    name = "sent_project"
    verbose_name = "Sent platform"

    def ready(self) -> None:
        from sent_project.api import schema  # noqa: F401  (registers the OpenAPI auth extension)
