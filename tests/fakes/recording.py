"""Adapters that behave exactly like the simulator (its table of outcomes and receipts) and
record what dispatch handed them: each `OutboundMessage` with the credentials of the account
it went out on. The `recorded_sends` fixture puts them in place of every adapter — Twilio's,
the Cloud API's and the simulator itself — so a test sees who a message went out from
without a provider on the network."""

from dataclasses import dataclass

import pytest

from messaging.providers.base import OutboundMessage
from messaging.providers.config import Credentials
from messaging.providers.simulator import SimulatorSms, SimulatorWhatsApp


@dataclass(frozen=True)
class Recorded:
    provider: str  # the ADAPTERS entry it was built for
    credentials: Credentials | None
    message: OutboundMessage


RECORDED: list[Recorded] = []


class _Recording:
    provider = "simulator"

    def __init__(self, credentials: Credentials | None = None):
        self.credentials = credentials

    def send(self, message: OutboundMessage):
        RECORDED.append(Recorded(self.provider, self.credentials, message))
        return super().send(message)

    def send_many(self, messages: list[OutboundMessage]):
        """The simulator's group send: one message goes through `send` (recorded there), a
        group through the simulator's own bookkeeping (recorded here)."""
        if len(messages) > 1:
            RECORDED.extend(Recorded(self.provider, self.credentials, m) for m in messages)
        return super().send_many(messages)


class RecordingSms(_Recording, SimulatorSms):
    pass


class RecordingWhatsApp(_Recording, SimulatorWhatsApp):
    pass


class RecordingTwilio(RecordingSms):
    provider = "twilio"


class RecordingCloudApi(RecordingWhatsApp):
    provider = "cloud_api"


@pytest.fixture
def recorded_sends(monkeypatch) -> list[Recorded]:
    from messaging import providers

    monkeypatch.setattr(providers, "_built", {})
    for key, name in {
        ("sms", "simulator"): "RecordingSms",
        ("whatsapp", "simulator"): "RecordingWhatsApp",
        ("sms", "twilio"): "RecordingTwilio",
        ("whatsapp", "cloud_api"): "RecordingCloudApi",
    }.items():
        monkeypatch.setitem(providers.ADAPTERS, key, f"tests.fakes.recording.{name}")
    RECORDED.clear()
    yield RECORDED
    RECORDED.clear()
