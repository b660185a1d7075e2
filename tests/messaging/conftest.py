"""Fixtures of the messaging tests."""

import pytest

from tests.messaging.webhook_helpers import (  # noqa: F401  (fixtures)
    other_receiver,
    receiver,
    webhook_settings,
)


@pytest.fixture(autouse=True)
def instant_lifecycle(settings):
    """The simulator's receipts and the retry backoff without waiting (as in the issue:
    SIMULATOR_DELAY_SCALE=0); tests that want delays set them."""
    settings.SIMULATOR_DELAY_SCALE = 0
    settings.MESSAGE_RETRY_DELAY_SCALE = 0
