"""The Queue page and a send's progress page (Django test client): the queue's numbers,
refreshed by htmx, the recent sends with their progress, another customer's send not found
(docs/dashboard.md#queue)."""

import re
import uuid
from datetime import timedelta

import pytest

from django.urls import reverse
from django.utils import timezone

from messaging.models import Message
from messaging.statuses import MessageStatus
from tests.messaging.factories import make_approved_template, number, send
from tests.tasks import run_queued_tasks

HTMX = {"HTTP_HX_REQUEST": "true"}
QUEUE = reverse("messaging:queue")
S = MessageStatus


def progress_url(batch_id) -> str:
    return reverse("messaging:send_progress", args=[batch_id])


def text_of(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', page, re.S)
    assert match, element_id
    return re.sub(r"\s+", " ", match.group(1)).strip()


@pytest.fixture(autouse=True)
def templates(account, other_account):
    make_approved_template(account)
    make_approved_template(other_account)


def test_the_queue_is_in_the_navigation(dashboard_client):
    page = dashboard_client.get(reverse("home")).content.decode()
    assert f'href="{QUEUE}"' in page


def test_an_empty_queue(dashboard_client):
    page = dashboard_client.get(QUEUE).content.decode()
    assert text_of(page, "queue-waiting") == "0"
    assert 'id="queue-empty"' in page
    # Nothing moves: it still refreshes, slowly.
    assert 'hx-trigger="every 10s"' in page


def test_the_queue_shows_the_backlog_per_sender(dashboard_client, account, other_account):
    now = timezone.now()
    messages = send(account, [number(n) for n in range(10, 15)], channels=["sms"])
    Message.objects.filter(pk=messages[0].pk).update(
        status=S.SENT, sent_at=now - timedelta(seconds=6)
    )
    Message.objects.filter(pk=messages[1].pk).update(
        status=S.PROCESSED, claimed_at=now - timedelta(seconds=600)
    )
    send(other_account, [number(n) for n in range(20, 29)], channels=["sms"])

    page = dashboard_client.get(QUEUE).content.decode()
    assert text_of(page, "queue-waiting") == "4"  # not the other customer's 9
    assert text_of(page, "queue-stuck") == "1"
    assert text_of(page, "queue-rate").startswith("0.017")
    assert text_of(page, "queue-eta") == "3 min 55 s"  # 4 / 0.017 msg/s
    row = page[page.index('id="queue-default-sms"') :]
    row = row[: row.index("</tr>")]
    assert "install default" in row
    assert 'hx-trigger="every 2s"' in page


def test_htmx_gets_the_live_part_only(dashboard_client, account):
    send(account, [number(30)])
    fragment = dashboard_client.get(QUEUE, **HTMX, HTTP_HX_TARGET="queue-live").content.decode()
    assert fragment.lstrip().startswith('<div id="queue-live"')
    assert "<html" not in fragment


def test_recent_sends_with_their_progress(dashboard_client, account, other_account):
    first = send(account, [number(n) for n in range(40, 44)])
    second = send(account, [number(50)])
    Message.objects.filter(pk__in=[first[0].pk, first[1].pk]).update(status=S.DELIVERED)
    theirs = send(other_account, [number(60)])

    page = dashboard_client.get(QUEUE).content.decode()
    sends = page[page.index('id="recent-sends"') :]
    # Newest first; theirs not listed.
    assert sends.index(f"send-{second[0].batch_id}") < sends.index(f"send-{first[0].batch_id}")
    assert f"send-{theirs[0].batch_id}" not in page
    row = sends[sends.index(f'id="send-{first[0].batch_id}"') :]
    row = row[: row.index("</tr>")]
    assert 'max="4" value="2"' in row and "50%" in row


def test_a_sends_page_polls_until_it_is_done(dashboard_client, account):
    messages = send(account, [number(n) for n in range(70, 73)])
    url = progress_url(messages[0].batch_id)
    page = dashboard_client.get(url).content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert text_of(page, "send-percent") == "0%"
    assert 'max="3" value="0"' in page

    run_queued_tasks(include_future=True)
    fragment = dashboard_client.get(url, **HTMX, HTTP_HX_TARGET="send-progress").content.decode()
    assert fragment.lstrip().startswith('<section class="card" id="send-progress"')
    assert text_of(fragment, "send-percent") == "100%"
    assert 'max="3" value="3"' in fragment
    assert "hx-trigger" not in fragment  # done: it stops polling


@pytest.mark.parametrize("whose", ["theirs", "missing"])
def test_another_customers_send_is_not_found(dashboard_client, other_account, whose):
    batch_id = send(other_account, [number(80)])[0].batch_id if whose == "theirs" else uuid.uuid4()
    assert dashboard_client.get(progress_url(batch_id)).status_code == 404


def test_the_pages_take_a_fixed_number_of_queries(
    dashboard_client, account, django_assert_max_num_queries
):
    for n in range(5):
        send(account, [number(n, series=2), number(n, series=3)])
    dashboard_client.get(QUEUE)  # warm: session, user
    # Session, user, membership/customer; queue (2), recent sends (2).
    with django_assert_max_num_queries(9) as queries:
        dashboard_client.get(QUEUE)
    baseline = len(queries)
    for n in range(5, 10):
        send(account, [number(n, series=2), number(n, series=3)])
    with django_assert_max_num_queries(baseline):
        dashboard_client.get(QUEUE)
