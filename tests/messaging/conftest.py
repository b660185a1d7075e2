"""Fixtures of the messaging tests."""

import pytest

from tests.fakes.recording import recorded_sends  # noqa: F401  (fixture)
from tests.messaging.webhook_helpers import (  # noqa: F401  (fixtures)
    other_receiver,
    receiver,
    webhook_settings,
)


@pytest.fixture(autouse=True)
def _every_test_has_an_instant_lifecycle(instant_lifecycle):
    """Every messaging test runs the lifecycle without waiting (`instant_lifecycle`)."""
