"""Message history and the message page (Django test client): filters, pages that keep the
URL, the status timeline, activities, provider answers, pricing, resend and cancel —
success, another account, no login, bad input, wrong method."""

from datetime import timedelta
from decimal import Decimal

import pytest

from django.urls import reverse
from django.utils import timezone

from messaging.models import Message
from tests.messaging.factories import make_approved_template, make_contact, number, send
from tests.tasks import run_queued_tasks

pytestmark = pytest.mark.usefixtures("instant_lifecycle")
HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name, *args):
    return reverse(f"messaging:{name}", args=args)


@pytest.fixture
def template(account):
    return make_approved_template(account)


def rows(response) -> set:
    """The ids of the messages a list response shows."""
    return {
        message.pk
        for message in Message.objects.all()
        if f'<tr id="message-{message.pk}">' in response.text
    }


# ---- the list


def test_the_list_shows_the_accounts_messages_only_newest_first(
    dashboard_client, account, other_account, template, django_assert_max_num_queries
):
    [first] = send(account, [number(60)])
    [second] = send(account, [number(12)])
    make_approved_template(other_account)
    [foreign] = send(other_account, [number(61)])
    # session, user, membership, customer, the page of messages (+1 row), templates for the filter
    with django_assert_max_num_queries(6):
        response = dashboard_client.get(url("message_list"))
    assert response.status_code == 200
    assert rows(response) == {first.pk, second.pk}
    assert response.text.index(str(second.pk)) < response.text.index(str(first.pk))
    assert f'href="{url("message_detail", first.pk)}"' in response.text
    assert "+1 415-555-0060" in response.text and "order_shipped" in response.text


def test_filters_by_status_channel_template_and_contact(dashboard_client, account, template):
    other_template = make_approved_template(account, name="payment_due")
    [sms] = send(account, [number(60)])
    [whatsapp] = send(account, [number(12)])
    [failed] = send(account, [number(90)])
    [due] = send(account, [number(60)], template_name="payment_due")
    run_queued_tasks()

    def shown(**query):
        return rows(dashboard_client.get(url("message_list"), query))

    assert shown(status="FAILED") == {failed.pk}
    assert shown(status="DELIVERED") == {sms.pk, due.pk}
    assert shown(channel="whatsapp") == {whatsapp.pk, failed.pk}
    assert shown(template=other_template.pk) == {due.pk}
    assert shown(contact=sms.contact_id) == {sms.pk, due.pk}
    assert shown(contact=sms.contact_id, template=template.pk) == {sms.pk}
    assert shown(status="NOT_A_STATUS") == {sms.pk, whatsapp.pk, failed.pk, due.pk}  # ignored


def test_the_contact_filter_names_the_contact(dashboard_client, account, template):
    contact = make_contact(account, number(60))
    send(account, [number(60)])
    response = dashboard_client.get(url("message_list"), {"contact": contact.pk})
    assert "To +1 415-555-0060" in response.text
    assert f'<input type="hidden" name="contact" value="{contact.pk}">' in response.text


def test_another_accounts_contact_as_filter_shows_nothing(
    dashboard_client, account, other_account, template
):
    send(account, [number(60)])
    make_approved_template(other_account)
    [foreign] = send(other_account, [number(60)])
    response = dashboard_client.get(url("message_list"), {"contact": foreign.contact_id})
    assert rows(response) == set() and "No message matches" in response.text
    assert "+1 415-555-0060" not in response.text


def test_the_date_filter_includes_both_days(dashboard_client, account, template):
    [old, middle, new] = [send(account, [number(60 + i)])[0] for i in range(3)]
    today = timezone.now()
    for message, days_ago in [(old, 3), (middle, 2), (new, 0)]:
        Message.objects.filter(pk=message.pk).update(created_at=today - timedelta(days=days_ago))

    def shown(**query):
        return rows(dashboard_client.get(url("message_list"), query))

    two_days_ago = (today - timedelta(days=2)).date().isoformat()
    assert shown(since=two_days_ago) == {middle.pk, new.pk}
    assert shown(until=two_days_ago) == {old.pk, middle.pk}
    assert shown(since=two_days_ago, until=two_days_ago) == {middle.pk}
    assert shown(since="not a date") == {old.pk, middle.pk, new.pk}
    assert shown(until="9999-12-31") == {old.pk, middle.pk, new.pk}  # no next day: no 500
    assert shown(since="0001-01-01", until="0001-01-01") == set()


def _free_text(account, to, text):
    [message] = send(account, [to], template_name=None, text=text)
    return message


def test_search_finds_a_number_in_any_format_and_part_of_one(dashboard_client, account, template):
    [first] = send(account, [number(60)])
    [second] = send(account, [number(61, series=7)])

    def shown(search):
        return rows(dashboard_client.get(url("message_list"), {"search": search}))

    assert shown("+1 415-555-0060") == {first.pk}  # a whole number: exactly it
    assert shown("(415) 555-0060") == {first.pk}  # national format, the account's region
    assert shown("tel:+1-415-555-07-61") == {second.pk}
    assert shown("555-07") == {second.pk}  # part of a number: its digits anywhere
    assert shown("+1415") == {first.pk, second.pk}  # the start of an E.164 number
    assert shown("+1416") == set()


def test_search_finds_a_message_by_its_id_or_the_start_of_it(dashboard_client, account, template):
    [first, second] = send(account, [number(60), number(61)])
    whole = str(first.pk)

    def shown(search):
        return rows(dashboard_client.get(url("message_list"), {"search": search}))

    assert shown(whole.upper()) == {first.pk}
    assert shown(whole[:-1]) == {first.pk}  # all but its last digit: still only this one
    assert shown(whole[:-1].replace("-", "")) == {first.pk}  # dashes count for nothing
    common = next(i for i, (a, b) in enumerate(zip(whole, str(second.pk), strict=True)) if a != b)
    assert common >= 4  # uuid7: both start with the same millisecond's timestamp
    assert shown(whole[:common]) == {first.pk, second.pk}
    assert shown(whole[-12:]) == set()  # the end of an id is not its start


def test_search_finds_text_of_the_rendered_body(dashboard_client, account, template):
    [shipped] = send(account, [number(60)])  # "Hi Ana, your order A-1001 has shipped…"
    note = _free_text(account, number(61), "Your table for 100% of the guests is ready")
    other = _free_text(account, number(62), "Your table for 100 guests is ready")

    def shown(search):
        return rows(dashboard_client.get(url("message_list"), {"search": search}))

    assert shown("order a-1001") == {shipped.pk}  # case-insensitive
    assert shown("table for") == {note.pk, other.pk}
    assert shown("100%") == {note.pk}  # % is a character, not a wildcard
    assert shown("   ") == {shipped.pk, note.pk, other.pk}  # blank: no search
    assert shown("nowhere to be found") == set()
    response = dashboard_client.get(url("message_list"), {"search": "nowhere to be found"})
    assert "No message matches" in response.text
    assert 'value="nowhere to be found"' in response.text  # the box keeps the term


def test_search_combines_with_the_filters_and_pages(dashboard_client, account, template):
    sent = send(account, [number(i) for i in range(60, 80)])  # SMS
    sent += send(account, [number(i, series=1) for i in range(60, 70)])  # SMS
    send(account, [number(12)])  # WhatsApp
    _free_text(account, number(63, series=2), "A different text")
    query = {"search": "order A-1001", "channel": "sms"}
    first = dashboard_client.get(url("message_list"), query)
    assert len(rows(first)) == 25
    assert 'href="?search=order+A-1001&amp;channel=sms&amp;page=2"' in first.text
    second = dashboard_client.get(url("message_list"), {**query, "page": 2})
    assert rows(first) | rows(second) == {m.pk for m in sent}
    assert rows(dashboard_client.get(url("message_list"), {**query, "status": "READ"})) == set()


def test_search_never_finds_another_accounts_messages(
    dashboard_client, account, other_account, template
):
    [mine] = send(account, [number(60)])
    make_approved_template(other_account)
    [foreign] = send(other_account, [number(60)])
    for search in (number(60), "555-0060", "order A-1001", str(foreign.pk), str(foreign.pk)[:8]):
        found = rows(dashboard_client.get(url("message_list"), {"search": search}))
        assert foreign.pk not in found
    assert rows(dashboard_client.get(url("message_list"), {"search": number(60)})) == {mine.pk}
    assert rows(dashboard_client.get(url("message_list"), {"search": str(foreign.pk)})) == set()


def test_the_pager_keeps_the_filters_in_its_links(dashboard_client, account, template):
    send(account, [number(i) for i in range(60, 80)])
    send(account, [number(i, series=1) for i in range(60, 70)])
    response = dashboard_client.get(url("message_list"), {"channel": "sms"})
    assert len(rows(response)) == 25
    assert 'href="?channel=sms&amp;page=2"' in response.text
    assert 'hx-push-url="true"' in response.text  # the back button works
    second = dashboard_client.get(url("message_list"), {"channel": "sms", "page": 2})
    assert len(rows(second)) == 5 and 'href="?channel=sms&amp;page=1"' in second.text


def test_a_filter_change_answers_the_list_only(dashboard_client, account, template):
    send(account, [number(60)])
    response = dashboard_client.get(
        url("message_list"), {"status": "QUEUED"}, **HTMX, HTTP_HX_TARGET="messages"
    )
    assert response.text.lstrip().startswith('<div id="messages">')
    assert "<html" not in response.text
    assert "HX-Request" in response["Vary"]


def test_empty_states_differ_for_no_messages_and_no_match(dashboard_client, account, template):
    assert "No messages yet" in dashboard_client.get(url("message_list")).text
    send(account, [number(60)])
    assert (
        "No message matches" in dashboard_client.get(url("message_list"), {"status": "READ"}).text
    )


def test_the_pages_need_a_signed_in_user(client, account, template):
    [message] = send(account, [number(60)])
    for page in [url("message_list"), url("message_detail", message.pk)]:
        response = client.get(page)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    for action in ["message_resend", "message_cancel"]:
        assert client.post(url(action, message.pk)).status_code == 302
    message.refresh_from_db()
    assert message.status == "QUEUED"


# ---- the message page


def test_the_message_page_shows_timeline_activities_provider_answer_and_price(
    dashboard_client, account, template, django_assert_max_num_queries
):
    [message] = send(account, [number(60)])
    run_queued_tasks()
    message.refresh_from_db()
    assert message.status == "DELIVERED"
    # session, user, membership, customer, the message, its history, its activities
    with django_assert_max_num_queries(7):
        response = dashboard_client.get(url("message_detail", message.pk))
    assert response.status_code == 200
    timeline = response.text.split('id="timeline"')[1].split("</ol>")[0]
    steps = [timeline.index(f">{s}</span>") for s in ("Queued", "Processed", "Sent", "Delivered")]
    assert steps == sorted(steps)  # oldest first
    activities = response.text.split('id="activities"')[1]
    for kind in ("Routed", "Charged", "Status"):
        assert f'<span class="badge">{kind}</span>' in activities
    assert message.provider_message_id in response.text
    assert 'id="message-price">0.0083 USD' in response.text
    assert "Hi Ana, your order A-1001 has shipped and arrives soon." in response.text
    assert "sms: whatsapp unavailable" in response.text
    assert "hx-trigger" not in response.text.split('id="message-live"')[1].split(">")[0]  # final


def test_a_message_on_its_way_is_followed_live(dashboard_client, account, template):
    [message] = send(account, [number(60)])
    response = dashboard_client.get(url("message_detail", message.pk))
    assert f'<div id="message-live" hx-get="{url("message_detail", message.pk)}"' in response.text
    live = dashboard_client.get(
        url("message_detail", message.pk), **HTMX, HTTP_HX_TARGET="message-live"
    )
    assert live.text.lstrip().startswith('<div id="message-live"')
    assert "Cancel" in live.text


def test_a_refunded_message_says_so(dashboard_client, account, template):
    [message] = send(account, [number(90)])  # fails before a provider takes it: refunded
    run_queued_tasks()
    response = dashboard_client.get(url("message_detail", message.pk))
    assert 'id="message-refunded">0.0084 USD' in response.text
    assert "Message undeliverable" in response.text and "Resend" in response.text


def test_a_message_the_provider_refused_says_which_provider_refused_it(
    dashboard_client, account, template
):
    """The summary agrees with the activities: the simulator refused it, so the page says
    so, not that it never reached a provider."""
    [message] = send(account, [number(90)])
    run_queued_tasks()
    message.refresh_from_db()
    assert message.status == "FAILED"
    text = dashboard_client.get(url("message_detail", message.pk)).text
    summary = text.split('id="message-summary"')[1].split("</div>")[0]
    assert f"Refused by the simulator {message.channel} provider" in summary
    assert "before reaching a provider" not in text and "never reached" not in text
    assert "simulator refused the" in text.split('id="activities"')[1]  # what happened


def test_fallback_is_shown_only_when_it_was_used(dashboard_client, account, template):
    [on_whatsapp, fell_back] = send(account, [number(12), number(85)])
    run_queued_tasks()
    on_whatsapp.refresh_from_db()
    assert on_whatsapp.channel == "whatsapp" and on_whatsapp.fallbacks == ["sms"]  # planned
    page = dashboard_client.get(url("message_detail", on_whatsapp.pk)).text
    assert "<dt>Fallback</dt>" not in page  # SMS was never tried
    page = dashboard_client.get(url("message_detail", fell_back.pk)).text
    used = page.split('id="message-fallback">')[1].split("</dd>")[0]
    assert "WhatsApp → SMS" in used


def test_the_page_offers_resend_or_cancel_only_where_the_service_allows_it(
    dashboard_client, account, template
):
    [queued, failed, delivered] = send(account, [number(60), number(90), number(61)])
    run_queued_tasks()
    Message.objects.filter(pk=queued.pk).update(status="QUEUED")

    def actions(message):
        text = dashboard_client.get(url("message_detail", message.pk)).text
        return {
            name
            for name in ("resend", "cancel")
            if f'action="{url(f"message_{name}", message.pk)}"' in text
        }

    assert actions(queued) == {"cancel"}
    assert actions(failed) == {"resend"}
    assert actions(delivered) == set()


def test_another_accounts_message_is_not_found(dashboard_client, other_account):
    make_approved_template(other_account)
    [foreign] = send(other_account, [number(60)])
    assert dashboard_client.get(url("message_detail", foreign.pk)).status_code == 404
    for action in ["message_resend", "message_cancel"]:
        assert dashboard_client.post(url(action, foreign.pk)).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "QUEUED"
    assert Message.objects.count() == 1


# ---- resend and cancel


def test_resending_a_failed_message_sends_a_new_one(dashboard_client, account, template):
    [failed] = send(account, [number(90)])
    run_queued_tasks()
    response = dashboard_client.post(url("message_resend", failed.pk), **HTMX)
    resent = Message.objects.exclude(pk=failed.pk).get()
    assert response["HX-Redirect"] == url("message_detail", resent.pk)
    assert resent.contact_id == failed.contact_id and resent.body == failed.body
    page = dashboard_client.get(url("message_detail", resent.pk))
    assert "Sent again as a new message." in page.text


def test_a_message_that_cant_be_resent_says_why(dashboard_client, account, template):
    [message] = send(account, [number(60)])
    response = dashboard_client.post(url("message_resend", message.pk))
    assert response.status_code == 302 and response["Location"] == url("message_detail", message.pk)
    page = dashboard_client.get(response["Location"])
    assert "A QUEUED message can't be resent" in page.text.replace("&#x27;", "'")
    assert Message.objects.count() == 1


def test_cancelling_a_queued_message_refunds_it(dashboard_client, account, template):
    [message] = send(account, [number(60)])
    account.refresh_from_db()
    assert account.balance == Decimal("100") - message.price
    response = dashboard_client.post(url("message_cancel", message.pk), **HTMX)
    assert response["HX-Redirect"] == url("message_detail", message.pk)
    message.refresh_from_db()
    account.refresh_from_db()
    assert message.status == "CANCELLED" and account.balance == Decimal("100")
    assert "Cancelled and refunded." in dashboard_client.get(url("message_detail", message.pk)).text


def test_a_message_already_sent_cant_be_cancelled(dashboard_client, account, template):
    [message] = send(account, [number(60)])
    run_queued_tasks()
    dashboard_client.post(url("message_cancel", message.pk))
    message.refresh_from_db()
    assert message.status == "DELIVERED"
    page = dashboard_client.get(url("message_detail", message.pk))
    assert "A DELIVERED message can't be cancelled" in page.text.replace("&#x27;", "'")


def test_resend_and_cancel_refuse_the_wrong_method(dashboard_client, account, template):
    [message] = send(account, [number(60)])
    for action in ["message_resend", "message_cancel"]:
        assert dashboard_client.get(url(action, message.pk)).status_code == 405
    message.refresh_from_db()
    assert message.status == "QUEUED"


def test_a_refund_older_than_the_page_of_activities_still_counts(
    dashboard_client, account, template
):
    from messaging.models import ActivityKind, MessageActivity
    from messaging.selectors import message_activities_and_refunded

    [message] = send(account, [number(90)])  # refunded: no provider accepted it
    run_queued_tasks()
    for step in range(3):  # later steps push the refund off a page of one activity
        MessageActivity.objects.create(
            message=message, kind=ActivityKind.RECONCILED, status=message.status,
            description=f"checked {step}",
        )  # fmt: skip
    activities, refunded = message_activities_and_refunded(message, limit=1)
    assert [a.kind for a in activities] == [ActivityKind.RECONCILED]
    assert str(refunded) == "0.0084"
