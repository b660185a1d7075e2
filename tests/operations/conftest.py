"""Fixtures of the operations tests."""

from tests.messaging.webhook_helpers import (  # noqa: F401  (fixtures)
    receiver,
    webhook_settings,
)
