"""The dashboard's side of scheduled sends and quiet hours (docs/api/messages.md#scheduling):
the playground's "Send at", the message page's scheduled time and Cancel, the quiet-hours
setting on the billing page."""

from datetime import time, timedelta

import pytest

from django.urls import reverse
from django.utils import timezone

from messaging.models import Message
from tests.dashboard.test_playground_pages import compose
from tests.messaging.factories import make_approved_template, number, send

pytestmark = pytest.mark.usefixtures("instant_lifecycle")
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def template(account):
    return make_approved_template(account)


def local_input(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_the_playground_sends_at_a_time(dashboard_client, account, template):
    page = dashboard_client.get(reverse("messaging:playground")).text
    assert 'name="send_at"' in page and 'type="datetime-local"' in page
    when = timezone.now() + timedelta(hours=2)

    dashboard_client.post(
        reverse("messaging:playground_send"), compose(template, send_at=local_input(when)), **HTMX
    )

    message = Message.objects.get(customer=account)
    assert message.status == "SCHEDULED"
    assert message.scheduled_at == timezone.localtime(when).replace(second=0, microsecond=0)


def test_a_past_send_at_is_refused_next_to_its_field(dashboard_client, account, template):
    past = local_input(timezone.now() - timedelta(days=1))
    response = dashboard_client.post(
        reverse("messaging:playground_send"), compose(template, send_at=past), **HTMX
    )
    assert "has passed" in response.text
    assert not Message.objects.filter(customer=account).exists()


def test_the_message_page_shows_the_time_and_cancels(dashboard_client, account, template):
    [message] = send(account, [number(60)], scheduled_at=timezone.now() + timedelta(hours=2))
    detail = reverse("messaging:message_detail", args=[message.pk])
    text = dashboard_client.get(detail).text
    assert 'id="message-schedule"' in text and "Scheduled</strong> for" in text
    assert f'action="{reverse("messaging:message_cancel", args=[message.pk])}"' in text

    response = dashboard_client.post(reverse("messaging:message_cancel", args=[message.pk]), **HTMX)

    assert response["HX-Redirect"] == detail
    message.refresh_from_db()
    assert message.status == "CANCELLED"
    assert "Was scheduled for" in dashboard_client.get(detail).text


def test_quiet_hours_are_set_on_the_billing_page(dashboard_client, account):
    assert "Quiet hours" in dashboard_client.get(reverse("billing:billing")).text
    response = dashboard_client.post(
        reverse("billing:quiet_hours"),
        {"quiet_hours_enabled": "on", "quiet_hours_start": "22:00", "quiet_hours_end": "07:30"},
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.quiet_hours_enabled
    assert (account.quiet_hours_start, account.quiet_hours_end) == (time(22), time(7, 30))
    assert "on, 22:00 → 07:30" in dashboard_client.get(reverse("billing:billing")).text


def test_an_empty_window_is_refused(dashboard_client, account):
    dashboard_client.post(
        reverse("billing:quiet_hours"),
        {"quiet_hours_enabled": "on", "quiet_hours_start": "08:00", "quiet_hours_end": "08:00"},
    )
    account.refresh_from_db()
    assert not account.quiet_hours_enabled
