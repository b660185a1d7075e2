"""The inbox (Django test client): conversations most recent first with unread counts and the
WhatsApp window, a thread that marks itself read and follows itself live, replies through
message_send with its rules (the window, opt-outs, the balance), texts shown safely, the
simulator form, keywords — another account's, no login, bad input."""

from datetime import timedelta

import pytest

from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from billing.services import membership_create
from contacts.models import Contact
from messaging.inbound import Inbound, inbound_receive
from messaging.keywords import keyword_match, keyword_set
from messaging.models import Conversation, Keyword, Message
from tests.contacts.factories import make_contact
from tests.factories import make_customer
from tests.messaging.factories import number

pytestmark = pytest.mark.usefixtures("instant_lifecycle")
HTMX = {"HTTP_HX_REQUEST": "true"}
ANA = number(12)  # on WhatsApp in the simulator
BEN = number(60)  # SMS only
XSS = ["<script>window.__xss=1</script>", '"><img src=x onerror=alert(1)>']


def url(name, *args):
    return reverse(f"messaging:{name}", args=args)


def receive(customer, frm=ANA, text="Hi!", channel="whatsapp", **extra):
    """An inbound message as the simulator stores it; its message."""
    result = inbound_receive(
        Inbound(provider="simulator", channel=channel, from_number=frm, text=text,
                customer=customer, sandbox=True, **extra)
    )  # fmt: skip
    assert result.outcome == "stored", result.detail
    return result.message


def conversation_of(message) -> Conversation:
    return Conversation.objects.get(contact_id=message.contact_id)


# ---- the conversations


def test_the_inbox_lists_the_accounts_conversations_most_recent_first(
    dashboard_client, account, other_account
):
    make_contact(account, BEN, metadata={"name": "Ben Okafor"})
    ben = receive(account, BEN, "Is my order on its way?", channel="sms")
    ana = receive(account, ANA, "Can I change the address?")
    receive(account, ANA, "It's 5 Main St.")
    foreign = receive(other_account, number(13), "Globex's customer")
    response = dashboard_client.get(url("inbox"))
    assert response.status_code == 200
    text = response.text
    assert f'id="conversation-{ana.contact_id}"' in text
    assert f'id="conversation-{ben.contact_id}"' in text
    assert f'id="conversation-{foreign.contact_id}"' not in text and "Globex" not in text
    assert text.index(str(ana.contact_id)) < text.index(str(ben.contact_id))  # newest first
    assert "Ben Okafor" in text and "Is my order on its way?" in text
    assert "It&#x27;s 5 Main St." in text  # the last message, escaped
    assert 'aria-label="2 unread"' in text and 'aria-label="1 unread"' in text
    assert "3 unread" in text  # the total, in the heading
    row = text[text.index(f'id="conversation-{ana.contact_id}"') :].split("</tr>")[0]
    assert "open</span> until" in row and "WhatsApp" in row
    row = text[text.index(f'id="conversation-{ben.contact_id}"') :].split("</tr>")[0]
    assert "open</span>" not in row and "SMS" in row
    assert f'href="{url("conversation", ana.contact_id)}"' in text


def test_a_closed_window_shows_as_closed(dashboard_client, account):
    ana = receive(account)
    Contact.objects.filter(pk=ana.contact_id).update(
        whatsapp_window_expires_at=timezone.now() - timedelta(minutes=1)
    )
    text = dashboard_client.get(url("inbox")).text
    assert "closed" in text and "open</span> until" not in text


def test_no_conversations_yet_says_how_to_get_one(dashboard_client, account):
    text = dashboard_client.get(url("inbox")).text
    assert "No conversations yet" in text and "Simulate an inbound message" in text


@pytest.mark.parametrize("conversations", [2, 20])
def test_the_inbox_costs_the_same_queries_for_2_or_20_conversations(
    dashboard_client, account, conversations, django_assert_max_num_queries
):
    for i in range(conversations):
        receive(account, number(i, series=1), f"message {i}", channel="sms")
    # session, user, membership, customer, the page of conversations with their contacts,
    # the unread total
    with django_assert_max_num_queries(6):
        response = dashboard_client.get(url("inbox"))
    assert response.text.count('<tr id="conversation-') == conversations


def test_the_inbox_pages_by_25(dashboard_client, account):
    for i in range(27):
        receive(account, number(i, series=2), "hi", channel="sms")
    first = dashboard_client.get(url("inbox"))
    assert first.text.count('<tr id="conversation-') == 25 and 'href="?page=2"' in first.text
    second = dashboard_client.get(url("inbox"), {"page": 2})
    assert second.text.count('<tr id="conversation-') == 2
    assert 'hx-trigger="every 5s"' not in second.text  # only the first page follows itself


def test_the_live_list_answers_nothing_while_nothing_changed(dashboard_client, account):
    receive(account)
    poll = {**HTMX, "HTTP_HX_TARGET": "conversations"}
    fragment = dashboard_client.get(url("inbox"), **poll)
    assert fragment.status_code == 200
    assert (
        fragment.text.lstrip().startswith('<div id="conversations"')
        and "<html" not in fragment.text
    )
    seen = fragment.text.split('"X-Sent-Seen": "')[1].split('"')[0]
    again = dashboard_client.get(url("inbox"), **poll, HTTP_X_SENT_SEEN=seen)
    assert again.status_code == 204 and again.content == b""
    receive(account, BEN, "A new one", channel="sms")
    changed = dashboard_client.get(url("inbox"), **poll, HTTP_X_SENT_SEEN=seen)
    assert changed.status_code == 200 and "A new one" in changed.text


# ---- a thread


def test_opening_a_thread_shows_both_directions_in_order_and_marks_it_read(
    dashboard_client, account
):
    first = receive(account, ANA, "Hello?", profile_name="Ana")
    dashboard_client.post(url("conversation_reply", first.contact_id),
                          {"text": "Hi Ana, how can we help?", "channel": "whatsapp", "sandbox": "on"})  # fmt: skip
    receive(account, ANA, "Where is my parcel?")
    assert conversation_of(first).unread_count == 2  # nobody opened the thread yet
    response = dashboard_client.get(url("conversation", first.contact_id))
    assert response.status_code == 200
    text = response.text
    positions = [
        text.index(t) for t in ["Hello?", "Hi Ana, how can we help?", "Where is my parcel?"]
    ]
    assert positions == sorted(positions)  # oldest first, as a chat reads
    assert text.count('class="chat-item inbound"') == 2
    assert text.count('class="chat-item outbound"') == 1
    assert "~Ana" in text  # the WhatsApp profile name
    assert "WhatsApp window open" in text
    conversation = conversation_of(first)
    assert conversation.unread_count == 0 and conversation.read_at is not None
    assert 'aria-label="1 unread"' not in dashboard_client.get(url("inbox")).text


def test_another_accounts_or_a_missing_thread_is_the_404_page(
    dashboard_client, account, other_account
):
    foreign = receive(other_account, ANA, "Globex's")
    for contact_id in [foreign.contact_id, "0190f000-0000-7000-8000-000000000000"]:
        assert dashboard_client.get(url("conversation", contact_id)).status_code == 404
        reply = dashboard_client.post(
            url("conversation_reply", contact_id), {"text": "hi", "channel": "sms"}
        )
        assert reply.status_code == 404
    assert conversation_of(foreign).unread_count == 1  # not marked read by another account
    assert Message.objects.filter(direction="OUTBOUND").count() == 0


def test_the_pages_need_a_signed_in_user(client, account):
    message = receive(account)
    pages = [url("inbox"), url("conversation", message.contact_id), url("keywords")]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    posts = [url("conversation_reply", message.contact_id), url("inbox_simulate"),
             url("keyword_toggle")]  # fmt: skip
    for action in posts:
        response = client.post(action, {"text": "x", "word": "STOP"})
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert Message.objects.count() == 1 and not Keyword.objects.exists()


def test_the_thread_follows_itself_answering_nothing_until_something_changes(
    dashboard_client, account
):
    first = receive(account)
    poll = {**HTMX, "HTTP_HX_TARGET": "thread-live"}
    thread = url("conversation", first.contact_id)
    fragment = dashboard_client.get(thread, {"window": "open"}, **poll)
    assert fragment.text.lstrip().startswith('<section id="thread-live"')
    assert 'hx-trigger="every 3s"' in fragment.text and "<html" not in fragment.text
    assert 'id="reply-channels"' not in fragment.text  # the window didn't change
    seen = fragment.text.split('"X-Sent-Seen": "')[1].split('"')[0]
    assert dashboard_client.get(thread, {"window": "open"}, **poll,
                                HTTP_X_SENT_SEEN=seen).status_code == 204  # fmt: skip

    receive(account, ANA, "And another thing")  # arrives while the thread is open
    changed = dashboard_client.get(thread, {"window": "open"}, **poll, HTTP_X_SENT_SEEN=seen)
    assert changed.status_code == 200 and "And another thing" in changed.text
    assert conversation_of(first).unread_count == 0  # seen as it arrived

    # The window closed meanwhile: the reply box's channels follow, out of band.
    Contact.objects.filter(pk=first.contact_id).update(
        whatsapp_window_expires_at=timezone.now() - timedelta(seconds=1)
    )
    closed = dashboard_client.get(thread, {"window": "open", "channel": "whatsapp"}, **poll)
    assert 'id="reply-channels" hx-swap-oob="true"' in closed.text
    assert 'value="whatsapp" disabled' in closed.text and "WhatsApp window closed" in closed.text


def test_an_outbound_status_change_reaches_the_open_thread(dashboard_client, account):
    from tests.tasks import run_queued_tasks

    first = receive(account)
    dashboard_client.post(url("conversation_reply", first.contact_id),
                          {"text": "On its way", "channel": "whatsapp", "sandbox": "on"})  # fmt: skip
    poll = {**HTMX, "HTTP_HX_TARGET": "thread-live"}
    thread = url("conversation", first.contact_id)
    before = dashboard_client.get(thread, {"window": "open"}, **poll)
    assert "Queued" in before.text
    seen = before.text.split('"X-Sent-Seen": "')[1].split('"')[0]
    run_queued_tasks(include_future=True)  # sent, delivered, read (the simulator)
    after = dashboard_client.get(thread, {"window": "open"}, **poll, HTTP_X_SENT_SEEN=seen)
    assert after.status_code == 200 and ">Read</span>" in after.text


# ---- replies


def test_a_whatsapp_reply_outside_the_window_is_refused_with_the_reason_sms_goes(
    dashboard_client, account
):
    ana = make_contact(account, ANA)  # on WhatsApp, but it never wrote: no window
    page = dashboard_client.get(url("conversation", ana.pk)).text
    assert 'value="whatsapp" disabled' in page
    assert "free-form WhatsApp text is allowed only within 24 hours" in page
    assert 'value="sms" checked' in page

    # Forced anyway (no browser stops a crafted post): the service's rule, BLOCKED.
    refused = dashboard_client.post(
        url("conversation_reply", ana.pk),
        {"text": "Hello there", "channel": "whatsapp", "sandbox": "on"},
        **HTMX,
        HTTP_HX_TARGET="reply-form",
    )
    blocked = Message.objects.get(contact=ana)
    assert (blocked.status, blocked.reason_code) == ("BLOCKED", "BUSINESS_009")
    assert "Not sent:" in refused.text and "BUSINESS_009" in refused.text
    assert escape(blocked.reason) in refused.text
    assert "Hello there</textarea>" in refused.text  # kept, to send by SMS instead
    assert 'id="thread-live" aria-label="Messages" data-chat hx-swap-oob="true"' in refused.text

    sent = dashboard_client.post(
        url("conversation_reply", ana.pk),
        {"text": "Hello there", "channel": "sms", "sandbox": "on"},
        **HTMX,
        HTTP_HX_TARGET="reply-form",
    )
    sms = Message.objects.get(contact=ana, channel="sms")
    assert (sms.status, sms.text, sms.sandbox) == ("QUEUED", "Hello there", True)
    assert "Reply queued on SMS" in sent.text and "Not sent" not in sent.text
    assert "Hello there</textarea>" not in sent.text  # a fresh box


def test_a_reply_inside_the_window_goes_by_whatsapp_and_tops_the_inbox(dashboard_client, account):
    ana = receive(account, ANA, "Can I change my order?")
    ben = receive(account, BEN, "Later message", channel="sms")
    page = dashboard_client.get(url("conversation", ana.contact_id)).text
    assert 'value="whatsapp" checked' in page  # the channel it wrote on
    response = dashboard_client.post(
        url("conversation_reply", ana.contact_id),
        {"text": "Sure, which one?", "channel": "whatsapp"},
    )
    assert response.status_code == 302  # without JavaScript: back to the thread
    assert response["Location"] == url("conversation", ana.contact_id)
    reply = Message.objects.get(direction="OUTBOUND")
    assert (reply.channel, reply.status, reply.sandbox) == ("whatsapp", "QUEUED", False)
    assert reply.price > 0  # a real reply is charged like any send
    conversation = conversation_of(ana)
    assert (conversation.last_direction, conversation.last_text) == ("OUTBOUND", "Sure, which one?")
    inbox = dashboard_client.get(url("inbox")).text
    rows = [f'id="conversation-{m.contact_id}"' for m in (ana, ben)]
    assert inbox.index(rows[0]) < inbox.index(rows[1])  # the reply is the latest activity
    assert "You:</span> Sure, which one?" in inbox


def test_a_reply_the_balance_cannot_pay_says_so_and_sends_nothing(client, db):
    broke = make_customer("Broke", balance="0")
    client.force_login(membership_create(broke, username="bo", password="a long password").user)
    ana = receive(broke)
    response = client.post(
        url("conversation_reply", ana.contact_id),
        {"text": "Thanks!", "channel": "whatsapp"},
        **HTMX,
        HTTP_HX_TARGET="reply-form",
    )
    assert response.status_code == 200
    assert "can&#x27;t pay for this reply" in response.text and "BUSINESS_003" in response.text
    assert not Message.objects.filter(direction="OUTBOUND").exists()
    assert "Thanks!</textarea>" in response.text


def test_a_reply_to_an_opted_out_contact_is_refused(dashboard_client, account):
    ben = receive(account, BEN, "STOP", channel="sms")  # opts out (and is confirmed)
    before = Message.objects.count()
    response = dashboard_client.post(
        url("conversation_reply", ben.contact_id),
        {"text": "Are you sure?", "channel": "sms", "sandbox": "on"},
        **HTMX,
        HTTP_HX_TARGET="reply-form",
    )
    assert "Every recipient has opted out of messages." in response.text
    assert Message.objects.count() == before


@pytest.mark.parametrize(
    "post, error",
    [
        ({"text": "", "channel": "sms"}, "Write the reply first."),
        ({"text": "hi", "channel": "fax"}, "Reply on SMS or WhatsApp."),
        ({"text": "a\x00b", "channel": "sms"}, "Null characters are not allowed."),
        ({"text": "x" * 4097, "channel": "sms"}, "at most 4096 characters"),
    ],
)
def test_a_bad_reply_says_what_is_wrong(dashboard_client, account, post, error):
    ben = receive(account, BEN, "hi", channel="sms")
    response = dashboard_client.post(url("conversation_reply", ben.contact_id), post)
    assert response.status_code == 200 and error in response.text
    assert not Message.objects.filter(direction="OUTBOUND").exists()


def test_the_reply_box_defaults_to_sandbox_for_a_simulated_conversation(dashboard_client, account):
    ana = receive(account)
    page = dashboard_client.get(url("conversation", ana.contact_id)).text
    assert 'name="sandbox" id="id_sandbox" checked' in page


# ---- safety


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_any_text_is_stored_and_shown_as_text(dashboard_client, account, channel):
    texts = [*XSS, "🎉 مرحبا بك — שלום 👋🏽", "before\x00after"]
    frm = ANA if channel == "whatsapp" else BEN
    for text in texts:
        message = receive(account, frm, text, channel=channel, profile_name="<b onmouseover=x>")
    media = receive(account, frm, "pic", channel=channel,
                    media=({"url": "javascript:alert(1)"},))  # fmt: skip
    stored = set(Message.objects.filter(direction="INBOUND").values_list("text", flat=True))
    assert "before\ufffdafter" in stored and XSS[0] in stored  # NUL can't reach the database
    pages = [
        dashboard_client.get(url("conversation", message.contact_id)),
        dashboard_client.get(url("inbox")),
    ]
    for response in pages:
        assert response.status_code == 200
        body = response.text
        assert "<script>window.__xss" not in body and "<img src=x" not in body
        assert "<b onmouseover" not in body and "javascript:" not in body
    thread = pages[0].text
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in thread
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in thread
    assert "🎉 مرحبا بك — שלום 👋🏽" in thread and "before\ufffdafter" in thread
    assert "~&lt;b onmouseover=x&gt;" in thread  # the profile name, too
    assert f'id="thread-{media.pk}"' in thread and "[media]" in thread  # not a link


# ---- the simulator form


def test_the_simulator_form_stores_a_sandbox_inbound_message(dashboard_client, account):
    response = dashboard_client.post(
        url("inbox_simulate"), {"from_number": "+1 415 555 0012", "channel": "whatsapp",
                                "text": "Simulated hello"}
    )  # fmt: skip
    message = Message.objects.get(direction="INBOUND")
    assert (message.provider, message.sandbox, message.channel) == ("simulator", True, "whatsapp")
    assert message.text == "Simulated hello" and message.phone == ANA
    assert response.status_code == 302
    assert response["Location"] == url("conversation", message.contact_id)
    assert conversation_of(message).unread_count == 1
    assert message.contact.whatsapp_window_expires_at > timezone.now()


def test_the_simulator_form_with_htmx_refreshes_the_list(dashboard_client, account):
    response = dashboard_client.post(
        url("inbox_simulate"), {"from_number": BEN, "channel": "sms", "text": "hi"},
        **HTMX, HTTP_HX_TARGET="simulate-form",
    )  # fmt: skip
    assert "conversationsChanged" in response["HX-Trigger"]
    assert "Simulated SMS message from +1 415-555-0060 stored" in response.text
    assert f'value="{BEN}"' in response.text  # the same contact again, for the next one


@pytest.mark.parametrize(
    "post, error",
    [
        ({"from_number": "12", "channel": "sms", "text": "hi"}, "From &#x27;12&#x27;"),
        ({"from_number": BEN, "channel": "fax", "text": "hi"}, "Select a valid choice"),
        ({"from_number": BEN, "channel": "sms", "text": ""}, "This field is required."),
    ],
)
def test_the_simulator_form_refuses_bad_input(dashboard_client, account, post, error):
    response = dashboard_client.post(url("inbox_simulate"), post, **HTMX,
                                     HTTP_HX_TARGET="simulate-form")  # fmt: skip
    assert response.status_code == 200 and error in response.text
    assert not Message.objects.exists()


# ---- keywords


def test_the_keywords_page_lists_the_defaults_and_the_accounts_own(
    dashboard_client, account, other_account
):
    keyword_set(account, word="hours", action="OTHER", reply="We open 9-17.")
    keyword_set(other_account, word="globex", action="OTHER", reply="Theirs")
    text = dashboard_client.get(url("keywords")).text
    for word in ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "START", "UNSTOP",
                 "YES", "HELP"]:  # fmt: skip
        assert f'id="default-{word}"' in text
    assert "You are unsubscribed from Acme" in text  # the default sentence, with the name
    assert "HOURS" in text and "We open 9-17." in text
    assert "GLOBEX" not in text and "Theirs" not in text


def test_add_change_and_turn_off_a_keyword(dashboard_client, account):
    response = dashboard_client.post(
        url("keywords"), {"word": "hours", "action": "OTHER", "reply": "We open 9-17.",
                          "is_active": "on"}
    )  # fmt: skip
    assert response.status_code == 302
    assert keyword_match(account.pk, "Hours?").reply == "We open 9-17."
    form = dashboard_client.get(url("keywords"), {"word": "hours"}).text
    assert "Change HOURS" in form and "We open 9-17.</textarea>" in form

    dashboard_client.post(url("keywords"), {"word": "HOURS", "action": "OTHER",
                                            "reply": "We open 8-18.", "is_active": "on"})  # fmt: skip
    assert Keyword.objects.get(customer=account).reply == "We open 8-18."
    dashboard_client.post(url("keyword_toggle"), {"word": "HOURS"})
    assert keyword_match(account.pk, "hours") is None
    dashboard_client.post(url("keyword_toggle"), {"word": "HOURS"})
    assert keyword_match(account.pk, "hours").word == "HOURS"


def test_a_default_keyword_can_be_turned_off_and_on(dashboard_client, account, other_account):
    response = dashboard_client.post(url("keyword_toggle"), {"word": "HELP"})
    assert response.status_code == 302
    assert keyword_match(account.pk, "help") is None
    assert keyword_match(other_account.pk, "help").action == "HELP"  # only this account's
    text = dashboard_client.get(url("keywords")).text
    row = text[text.index('id="default-HELP"') :].split("</tr>")[0]
    assert ">off</span>" in row and "Turn on" in row
    dashboard_client.post(url("keyword_toggle"), {"word": "HELP"})
    assert keyword_match(account.pk, "HELP").action == "HELP"


def test_a_default_word_can_get_another_reply(dashboard_client, account):
    dashboard_client.post(url("keywords"), {"word": "help", "action": "HELP",
                                            "reply": "Call us on 0800 123.", "is_active": "on"})  # fmt: skip
    ben = receive(account, BEN, "HELP", channel="sms")
    reply = Message.objects.get(direction="OUTBOUND", contact_id=ben.contact_id)
    assert reply.keyword_reply and reply.body == "Call us on 0800 123."


@pytest.mark.parametrize(
    "post, error",
    [
        ({"word": "Stop!", "action": "OTHER"}, "is not a keyword"),
        ({"word": "", "action": "OTHER"}, "This field is required."),
        ({"word": "x" * 33, "action": "OTHER"}, "at most 32 characters"),
        ({"word": "HOURS", "action": "DELETE_ALL"}, "Select a valid choice"),
        ({"word": "HOURS", "action": "OTHER", "reply": "r" * 321}, "at most 320 characters"),
    ],
)
def test_a_bad_keyword_says_what_is_wrong(dashboard_client, account, post, error):
    response = dashboard_client.post(url("keywords"), post, **HTMX, HTTP_HX_TARGET="keyword-form")
    assert response.status_code == 200 and error in response.text
    assert response.text.lstrip().startswith('<form id="keyword-form"')
    assert not Keyword.objects.exists()


def test_turning_off_a_word_that_is_no_keyword_is_the_404_page(dashboard_client, account):
    assert dashboard_client.post(url("keyword_toggle"), {"word": "NOPE"}).status_code == 404
    assert not Keyword.objects.exists()


# ---- the contact page


def test_the_contact_page_links_to_its_conversation_and_shows_the_window(dashboard_client, account):
    ana = receive(account)
    text = dashboard_client.get(reverse("contacts:contact_detail", args=[ana.contact_id])).text
    assert f'href="{url("conversation", ana.contact_id)}"' in text
    assert "WhatsApp window open" in text
    ben = make_contact(account, BEN)
    text = dashboard_client.get(reverse("contacts:contact_detail", args=[ben.pk])).text
    assert "No WhatsApp window" in text


@pytest.mark.parametrize("messages", [2, 20])
def test_the_thread_costs_the_same_queries_for_2_or_20_messages(
    dashboard_client, account, messages, django_assert_max_num_queries
):
    first = receive(account)
    for i in range(messages - 1):
        receive(account, ANA, f"message {i}")
    # session, user, membership, customer, the contact, mark read, the thread, the inbox row
    with django_assert_max_num_queries(8):
        response = dashboard_client.get(url("conversation", first.contact_id))
    assert response.text.count('class="chat-item inbound"') == messages
