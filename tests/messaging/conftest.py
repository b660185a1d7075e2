"""Fixtures of the messaging tests."""

from tests.messaging.webhook_helpers import (  # noqa: F401  (fixtures)
    other_receiver,
    receiver,
    webhook_settings,
)
