from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from messaging import (
            errors,  # noqa: F401  (registers the app's error codes)
            receivers,  # noqa: F401  (connects to the lower apps' signals)
        )
        from messaging.models import WebhookEndpoint
        from messaging.providers.accounts import environment_check
        from messaging.webhooks.fanout import endpoint_subscription_changed

        # The send path caches a customer's webhook subscriptions
        # (docs/architecture.md#send-path-caches): a change to them is a new version.
        for signal in (post_save, post_delete):
            signal.connect(
                endpoint_subscription_changed, sender=WebhookEndpoint, dispatch_uid="cache"
            )

        environment_check()  # an unknown provider or a missing credential stops start-up
