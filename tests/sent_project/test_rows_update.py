"""`sent_project.db.rows_update`: each row gets its own values, whatever their types, in one
set-based statement (UPDATE … FROM VALUES on PostgreSQL, CASE elsewhere)."""

from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messaging.models import Message
from sent_project.db import rows_update
from tests.messaging.factories import make_approved_template, number, send


def test_each_row_gets_its_own_values_of_every_type(account):
    make_approved_template(account)
    messages = send(account, [number(10), number(11), number(60)])
    later = timezone.now() + timedelta(hours=1)
    for index, message in enumerate(messages):
        message.status = "SENT"
        message.provider_message_id = f"sim_{index}"
        message.price = Decimal("0.0100") * (index + 1)
        message.channel_response = {"attempt": index, "nested": {"a": [index]}}
        message.status_history = [{"status": "SENT", "n": index}] if index else None
        message.next_attempt_at = later if index == 2 else None
    with CaptureQueriesContext(connection) as queries:
        changed = rows_update(
            Message,
            messages,
            [
                "status",
                "provider_message_id",
                "price",
                "channel_response",
                "status_history",
                "next_attempt_at",
            ],
        )
    assert changed == 3
    assert len(queries) == 1
    for index, message in enumerate(messages):
        stored = Message.objects.get(pk=message.pk)
        assert stored.status == "SENT"
        assert stored.provider_message_id == f"sim_{index}"
        assert stored.price == Decimal("0.0100") * (index + 1)
        assert stored.channel_response == {"attempt": index, "nested": {"a": [index]}}
        assert stored.status_history == ([{"status": "SENT", "n": index}] if index else None)
        assert stored.next_attempt_at == (later if index == 2 else None)
