"""A burst of inbound messages at once, as a campaign's replies arrive: 1,000 signed Twilio
webhooks from 200 numbers on 16 connections, some of them STOP, some delivered twice, new
contacts' first messages racing each other — every message stored once, every STOP applied,
no error (docs/providers/twilio.md#inbound-messages)."""

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from django.db.models import Sum

from contacts.models import ConsentEvent, Contact
from messaging.models import CallbackOutcome, Conversation, Message, ProviderCallback
from tests.messaging.factories import number
from tests.messaging.providers.conftest import OURS

THREADS = 16
PER_NUMBER = 5


@pytest.mark.slow
def test_a_thousand_inbound_messages_at_once_are_each_stored_once(
    live_account, fake_twilio, acme_number
):
    numbers = [number(digits, series=series) for series in (20, 21) for digits in range(100)]
    stopping = set(numbers[::5])  # 40 numbers: their third message is STOP
    forms = [
        fake_twilio.inbound_form(
            phone, OURS, "STOP" if phone in stopping and n == 2 else f"Reply {n} from {phone}"
        )
        for phone in numbers
        for n in range(PER_NUMBER)
    ]
    requests = forms + random.Random(7).sample(forms, 100)  # 100 delivered twice
    random.Random(11).shuffle(requests)
    local = threading.local()

    def deliver(form: dict) -> int:
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=60)
        return fake_twilio.post_inbound(form, client=local.client).status_code

    with ThreadPoolExecutor(THREADS) as pool:
        answers = Counter(pool.map(deliver, requests))

    assert answers == Counter({200: len(requests)}), answers
    inbound = Message.objects.filter(customer=live_account, direction="INBOUND")
    assert inbound.count() == 1000
    assert set(inbound.values_list("provider_message_id", flat=True)) == {
        form["MessageSid"] for form in forms
    }
    assert Contact.objects.filter(customer=live_account).count() == 200
    opted_out = set(
        Contact.objects.filter(customer=live_account, opt_out=True).values_list(
            "format_e164", flat=True
        )
    )
    assert opted_out == stopping
    assert ConsentEvent.objects.filter(source="keyword").count() == len(stopping)
    # One inbox row per contact, every message counted unread once.
    assert Conversation.objects.filter(customer=live_account).count() == 200
    assert Conversation.objects.aggregate(unread=Sum("unread_count"))["unread"] == 1000
    assert set(Conversation.objects.values_list("unread_count", flat=True)) == {PER_NUMBER}
    outcomes = Counter(ProviderCallback.objects.values_list("outcome", flat=True))
    assert outcomes == {CallbackOutcome.APPLIED: 1000, CallbackOutcome.DUPLICATE: 100}
    replies = Message.objects.filter(direction="OUTBOUND", keyword_reply=True)
    assert sorted(replies.values_list("phone", flat=True)) == sorted(stopping)
    # About 20 s on SQLite, whose writers take turns; far more means they wait on each other
    # (a lock wait running into SQLite's timeout).


def test_a_new_number_s_first_messages_and_stops_racing_each_other(
    live_account, fake_twilio, acme_number
):
    """Twelve messages from one new number at the same moment, four of them STOP: one
    contact, twelve messages, one opt-out in the consent ledger."""
    phone = number(99, series=22)
    forms = [
        fake_twilio.inbound_form(phone, OURS, "STOP" if n % 3 == 0 else f"Message {n}")
        for n in range(12)
    ]
    start = threading.Barrier(len(forms))

    def deliver(form: dict) -> int:
        with httpx.Client(timeout=60) as client:
            start.wait()
            return fake_twilio.post_inbound(form, client=client).status_code

    with ThreadPoolExecutor(len(forms)) as pool:
        assert list(pool.map(deliver, forms)) == [200] * len(forms)

    [contact] = Contact.objects.filter(customer=live_account)
    assert contact.opt_out is True
    assert Message.objects.filter(contact=contact, direction="INBOUND").count() == 12
    assert Conversation.objects.get(contact=contact).unread_count == 12
    assert ConsentEvent.objects.filter(contact=contact).count() == 1
    # Each STOP is answered (the carriers' rule), the contact opted out once.
    assert Message.objects.filter(contact=contact, keyword_reply=True).count() == 4
