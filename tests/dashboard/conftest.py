"""Fixtures of the dashboard tests: the webhook receiver kit of the messaging tests."""

from tests.messaging.webhook_helpers import (  # noqa: F401  (fixtures)
    receiver,
    webhook_settings,
)
