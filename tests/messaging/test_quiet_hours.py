"""Quiet hours (docs/api/messages.md#quiet-hours): the zone math over numbers with one and
several zones and across daylight-saving changes, and the hold at acceptance end to end."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from django.utils import timezone

from messaging.models import Message
from messaging.quiet_hours import applies, is_quiet, next_allowed, zones_for_number
from tests.messaging.factories import make_approved_template, number, send_body
from tests.tasks import queued_tasks, run_queued_tasks

NIGHT = (time(21, 0), time(8, 0))
NY, LA = ZoneInfo("America/New_York"), ZoneInfo("America/Los_Angeles")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_number_gets_its_own_zone_or_its_countrys():
    assert zones_for_number("+14155550123") == (LA,)
    assert zones_for_number("+33612345678") == (ZoneInfo("Europe/Paris"),)
    # a UK number the data does not place by its prefix: the country's zone
    assert zones_for_number("+441632960961") == (ZoneInfo("Europe/London"),)
    toll_free = zones_for_number("+18005550123")
    assert {NY, LA} <= set(toll_free) and len(toll_free) > 10


def test_a_single_zone_country():
    paris = zones_for_number("+33612345678")
    # 22:30 in Paris (UTC+1 in January) → 08:00 the next morning, 07:00 UTC
    assert next_allowed(utc(2026, 1, 15, 21, 30), paris, *NIGHT) == utc(2026, 1, 16, 7, 0)
    # 14:00 in Paris: allowed, nothing to hold
    assert next_allowed(utc(2026, 1, 15, 13, 0), paris, *NIGHT) is None


def test_several_zones_wait_for_the_last_one_to_wake():
    zones = (NY, LA)
    # 08:30 in New York, 05:30 in Los Angeles: quiet in one of them → 08:00 in LA
    assert is_quiet(utc(2026, 1, 15, 13, 30), zones, *NIGHT)
    assert next_allowed(utc(2026, 1, 15, 13, 30), zones, *NIGHT) == utc(2026, 1, 15, 16, 0)
    # 20:30 in LA is 23:30 in NY: quiet in NY already → the next morning in LA
    assert next_allowed(utc(2026, 1, 16, 4, 30), zones, *NIGHT) == utc(2026, 1, 16, 16, 0)


def test_zones_quiet_all_day_together_wait_until_each_has_woken_once():
    toll_free = zones_for_number("+18005550123")  # Guam to Hawaii: no minute allowed in all
    start = utc(2026, 1, 15, 12, 0)
    released = next_allowed(start, toll_free, *NIGHT)
    assert start < released <= start + timedelta(hours=24)
    for zone in toll_free:  # every zone quiet at the start has reached its 08:00 since
        if not is_quiet(start, (zone,), *NIGHT):
            continue
        local_start = start.astimezone(zone)
        woke = datetime.combine(local_start.date(), time(8), tzinfo=zone)
        if woke <= local_start:
            woke += timedelta(days=1)
        assert woke.astimezone(UTC) <= released


def test_daylight_saving_days():
    ny = (NY,)
    # 8 March 2026, clocks go forward in New York: 08:00 is EDT (UTC-4) → 12:00 UTC
    assert next_allowed(utc(2026, 3, 8, 6, 0), ny, *NIGHT) == utc(2026, 3, 8, 12, 0)
    # 1 November 2026, clocks go back: 08:00 is EST (UTC-5) → 13:00 UTC
    assert next_allowed(utc(2026, 11, 1, 6, 0), ny, *NIGHT) == utc(2026, 11, 1, 13, 0)
    # a window ending inside the skipped hour (02:30) ends at 03:30 EDT, 07:30 UTC
    assert next_allowed(utc(2026, 3, 8, 6, 30), ny, time(1, 0), time(2, 30)) == utc(
        2026, 3, 8, 7, 30
    )


def test_which_messages_are_held():
    assert applies("MARKETING", enabled=True, override=None)
    assert not applies("MARKETING", enabled=False, override=None)
    assert applies("MARKETING", enabled=False, override="respect")
    assert not applies("MARKETING", enabled=True, override="skip")
    assert not applies("AUTHENTICATION", enabled=True, override="respect")
    assert not applies("UTILITY", enabled=True, override=None)
    assert not applies("", enabled=True, override=None)  # free-form text


# --- end to end: a window around the recipient's current time ----------------------------


@pytest.fixture
def quiet_now(account):
    """Quiet hours on, from an hour ago to an hour ahead in Los Angeles (the test numbers'
    zone): whenever the test runs, the recipient is in them. Returns when they end, UTC."""
    local = timezone.now().astimezone(LA).replace(second=0, microsecond=0)
    start, end = local - timedelta(hours=1), local + timedelta(hours=1)
    account.quiet_hours_enabled = True
    account.quiet_hours_start, account.quiet_hours_end = start.time(), end.time()
    account.save()
    return end.astimezone(UTC)


@pytest.fixture
def promo(account):
    return make_approved_template(account, name="promo", category="MARKETING")


def send_template(api_client, name: str, **extra):
    response = api_client.post(
        "/v3/messages", send_body(number(65), template=name, **extra), format="json"
    )
    assert response.status_code == 202, response.content
    return Message.objects.get(pk=response.json()["data"]["recipients"][0]["message_id"])


def test_a_marketing_message_in_quiet_hours_is_held_until_they_end(api_client, quiet_now, promo):
    message = send_template(api_client, "promo")

    assert message.status == "SCHEDULED" and message.schedule_reason == "quiet_hours"
    assert message.next_attempt_at == quiet_now
    shown = api_client.get(f"/v3/messages/{message.pk}").json()["data"]
    assert shown["schedule_reason"] == "quiet_hours"
    assert shown["scheduled_at"] == quiet_now.strftime("%Y-%m-%dT%H:%M:%SZ")
    kinds = [
        a["kind"]
        for a in api_client.get(f"/v3/messages/{message.pk}/activities").json()["data"][
            "activities"
        ]
    ]
    assert "quiet_hours" in kinds
    run_queued_tasks()
    message.refresh_from_db()
    assert message.status == "SCHEDULED"  # still held

    past = timezone.now() - timedelta(seconds=1)  # morning comes
    Message.objects.filter(pk=message.pk).update(next_attempt_at=past)
    queued_tasks("messaging.tasks.message_dispatch").update(run_after=past)
    run_queued_tasks()
    message.refresh_from_db()
    assert message.status == "DELIVERED"


def test_the_send_may_skip_quiet_hours(api_client, quiet_now, promo):
    assert send_template(api_client, "promo", quiet_hours="skip").status == "QUEUED"


def test_other_categories_are_not_held(api_client, account, quiet_now):
    make_approved_template(account, name="otp", category="AUTHENTICATION")
    make_approved_template(account, name="order_shipped")  # UTILITY
    assert send_template(api_client, "otp", quiet_hours="respect").status == "QUEUED"
    assert send_template(api_client, "order_shipped").status == "QUEUED"


def test_a_scheduled_time_inside_quiet_hours_moves_to_their_end(api_client, quiet_now, promo):
    when = (timezone.now() + timedelta(minutes=30)).isoformat()
    message = send_template(api_client, "promo", scheduled_at=when)
    assert message.next_attempt_at == quiet_now and message.schedule_reason == "quiet_hours"


def test_an_unknown_override_is_refused(api_client, quiet_now, promo):
    response = api_client.post(
        "/v3/messages", send_body(number(65), template="promo", quiet_hours="later"), format="json"
    )
    assert response.status_code == 400
