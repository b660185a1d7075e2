"""The message history's CSV export (docs/dashboard.md#message-export), with the Django test
client: its content, the page's search and filters, another account's messages never in it,
cells a spreadsheet would run as formulas, and the keyset chunks it reads in."""

import csv
import io
from datetime import timedelta

import pytest

from django.urls import reverse
from django.utils import timezone

from messaging import selectors
from messaging.models import Message
from tests.messaging.factories import make_approved_template, number, send
from tests.tasks import run_queued_tasks

pytestmark = pytest.mark.usefixtures("instant_lifecycle")
EXPORT = reverse("messaging:message_export")
HEADER = [
    "id", "created_at", "to", "channel", "template", "status", "price", "currency",
    "failure_reason",
]  # fmt: skip


@pytest.fixture
def template(account):
    return make_approved_template(account)


def export(client, **query) -> list[dict]:
    response = client.get(EXPORT, query)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="messages-')
    text = b"".join(response.streaming_content).decode()
    reader = csv.reader(io.StringIO(text))
    assert next(reader) == HEADER
    return [dict(zip(HEADER, row, strict=True)) for row in reader]


def test_the_export_has_every_message_newest_first_with_its_columns(
    dashboard_client, account, template
):
    [delivered] = send(account, [number(60)])
    [failed] = send(account, [number(90)])
    run_queued_tasks()
    failed.refresh_from_db()
    rows = export(dashboard_client)
    assert [row["id"] for row in rows] == [str(failed.pk), str(delivered.pk)]
    row = rows[1]
    delivered.refresh_from_db()
    assert row == {
        "id": str(delivered.pk),
        "created_at": delivered.created_at.isoformat(),
        "to": "'+14155550060",  # starts with "+": written as text
        "channel": "sms",
        "template": "order_shipped",
        "status": "DELIVERED",
        "price": str(delivered.price),
        "currency": "USD",
        "failure_reason": "",
    }
    assert rows[0]["status"] == "FAILED" and failed.reason
    assert rows[0]["failure_reason"] == failed.reason


def test_the_export_follows_the_pages_search_and_filters(dashboard_client, account, template):
    other = make_approved_template(account, name="payment_due")
    [sms] = send(account, [number(60)])
    [whatsapp] = send(account, [number(12)])
    [due] = send(account, [number(61)], template_name="payment_due")
    run_queued_tasks()

    def ids(**query):
        return {row["id"] for row in export(dashboard_client, **query)}

    assert ids(channel="whatsapp") == {str(whatsapp.pk)}
    assert ids(template=other.pk) == {str(due.pk)}
    assert ids(search="555-0060") == {str(sms.pk)}
    assert ids(search="order A-1001", channel="sms") == {str(sms.pk), str(due.pk)}
    assert ids(status="READ", channel="sms") == set()
    assert ids(page=3) == {str(sms.pk), str(whatsapp.pk), str(due.pk)}  # all, not a page


def test_the_list_links_to_the_export_of_what_it_shows(dashboard_client, account, template):
    send(account, [number(60)])
    page = dashboard_client.get(
        reverse("messaging:message_list"), {"search": "A-1001", "channel": "sms", "page": 2}
    )
    assert f'href="{EXPORT}?search=A-1001&amp;channel=sms"' in page.text


def test_another_accounts_messages_are_never_exported(
    dashboard_client, account, other_account, template
):
    [mine] = send(account, [number(60)])
    make_approved_template(other_account)
    [foreign] = send(other_account, [number(60)])
    assert [row["id"] for row in export(dashboard_client)] == [str(mine.pk)]
    by_id = export(dashboard_client, search=str(foreign.pk))
    by_contact = export(dashboard_client, contact=foreign.contact_id)
    assert by_id == [] and by_contact == []


def test_cells_a_spreadsheet_would_run_are_written_as_text(dashboard_client, account, template):
    [message] = send(account, [number(60)])
    formulas = {
        '=HYPERLINK("http://evil.test")': '\'=HYPERLINK("http://evil.test")',
        "+1+cmd|' /C calc'!A0": "'+1+cmd|' /C calc'!A0",
        "-2+3": "'-2+3",
        "@SUM(A1)": "'@SUM(A1)",
        "plain reason": "plain reason",
    }
    for reason, written in formulas.items():
        Message.objects.filter(pk=message.pk).update(
            status="FAILED", reason=reason, template_name=reason[:100]
        )
        [row] = export(dashboard_client)
        assert row["failure_reason"] == written
        assert row["template"] == written


def test_the_export_reads_in_keyset_chunks_without_skipping_ties(
    dashboard_client, account, template, monkeypatch, django_assert_num_queries
):
    messages = send(account, [number(60 + i) for i in range(7)])
    same = timezone.now() - timedelta(hours=1)
    # Five share one created_at: the chunks' boundaries fall among them.
    Message.objects.filter(pk__in=[m.pk for m in messages[1:6]]).update(created_at=same)
    monkeypatch.setattr(selectors, "EXPORT_CHUNK_SIZE", 2)
    in_order = list(Message.objects.filter(customer=account).order_by("-created_at", "-id"))
    # session, user, membership, customer; then one query per chunk of 2 (7 rows: 4 chunks)
    with django_assert_num_queries(4 + 4):
        rows = export(dashboard_client)
    assert [row["id"] for row in rows] == [str(m.pk) for m in in_order]
    assert len(rows) == 7


def test_the_export_needs_a_signed_in_user(client, account):
    response = client.get(EXPORT)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_export_is_a_get(dashboard_client):
    assert dashboard_client.post(EXPORT).status_code == 405
