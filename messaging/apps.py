from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"

    def ready(self):
        from messaging import (
            errors,  # noqa: F401  (registers the app's error codes)
            receivers,  # noqa: F401  (connects to the lower apps' signals)
        )
        from messaging.providers.accounts import environment_check

        environment_check()  # an unknown provider or a missing credential stops start-up
