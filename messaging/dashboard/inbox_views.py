"""The inbox (docs/api/inbound.md): conversations, most recent first; a thread per contact
with both directions, following itself live, and a reply box that sends through
`message_send` like the API; a simulator of inbound messages; keywords.

Live regions poll (htmx, every few seconds) the same view, which answers 204 — nothing to
swap — while what the region shows is unchanged: the region's poller sends the version it
shows (`X-Sent-Seen`), a digest of what the region is made of."""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages as flash
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from billing.dashboard.access import customer_required
from billing.errors import InsufficientBalance
from contacts.models import Contact
from contacts.selectors import contact_get
from messaging.dashboard.forms import KeywordForm, ReplyForm, SimulatedInboundForm
from messaging.inbound import Inbound, conversation_mark_read, inbound_receive
from messaging.keywords import DEFAULT_KEYWORDS, DEFAULT_REPLIES, keyword_set
from messaging.models import Direction, KeywordAction
from messaging.selectors import (
    conversation_get,
    conversation_thread,
    conversation_unread_total,
    conversations_for,
    keyword_for,
    keywords_for,
)
from messaging.services import message_send
from messaging.statuses import MessageStatus
from sent_project.dashboard import form_add_sent_error, go_to, list_page
from sent_project.errors import SentError
from sent_project.templatetags.sent import money
from templates_app.selectors import auto_reply_template

INBOX = "messaging/inbox.html"
THREAD = "messaging/conversation.html"
KEYWORDS = "messaging/keywords.html"
THREAD_SIZE = 100  # the newest messages a thread shows; older ones are in the history
SEEN = "X-Sent-Seen"  # the version a live region shows (sent by its poller)


@dataclass(frozen=True)
class WhatsAppWindow:
    """The contact's WhatsApp customer-service window: free-form WhatsApp text may be sent
    while it is open (24 hours after the contact's last WhatsApp message)."""

    expires_at: datetime | None
    open: bool

    @classmethod
    def of(cls, contact: Contact, now: datetime) -> "WhatsAppWindow":
        expires = contact.whatsapp_window_expires_at
        return cls(expires, expires is not None and expires > now)


def _version(parts) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:20]


def _unchanged(request, version: str) -> bool:
    return bool(request.htmx) and request.headers.get(SEEN) == version


# ---- the conversations


def _inbox_context(request, **extra) -> dict:
    customer = request.customer
    now = timezone.now()
    page = list_page(request, conversations_for(customer))
    rows = [
        {"conversation": conversation, "window": WhatsAppWindow.of(conversation.contact, now)}
        for conversation in page.rows
    ]
    version = _version(
        [(row["conversation"].pk, row["conversation"].last_message_at,
          row["conversation"].unread_count, row["window"].open) for row in rows]
    )  # fmt: skip
    return {
        "page": page,
        "rows": rows,
        "version": version,
        "simulate_form": extra.pop("simulate_form", None) or SimulatedInboundForm(),
        **extra,
    }


@customer_required
@require_GET
def inbox(request) -> HttpResponse:
    context = _inbox_context(request)
    if request.htmx.target == "conversations":
        if _unchanged(request, context["version"]):
            return HttpResponse(status=204)
        return render(request, f"{INBOX}#conversations", context)
    context["unread_total"] = conversation_unread_total(request.customer)
    return render(request, INBOX, context)


@customer_required
@require_POST
def inbox_simulate(request) -> HttpResponse:
    """A message as if a contact had sent it to your number: what POST /v3/simulator/inbound
    does (a sandbox message; keywords act on the contact as a real one would)."""
    form = SimulatedInboundForm(request.POST)
    result = None
    if form.is_valid():
        data = form.cleaned_data
        result = inbound_receive(
            Inbound(
                provider="simulator",
                channel=data["channel"],
                from_number=data["from_number"],
                text=data["text"],
                raw={"simulated": True, "from": "dashboard"},
                customer=request.customer,
                sandbox=True,
            )
        )
        if result.message is None:
            form.add_error("from_number", result.detail)
            result = None
    if not request.htmx:
        if result is None:
            context = _inbox_context(request, simulate_form=form)
            context["unread_total"] = conversation_unread_total(request.customer)
            return render(request, INBOX, context)
        flash.success(request, "Simulated message stored.")
        return go_to(request, "messaging:conversation", result.message.contact_id)
    if result is None:
        return render(request, f"{INBOX}#simulate-form", {"simulate_form": form})
    fresh = SimulatedInboundForm(
        initial={"from_number": data["from_number"], "channel": data["channel"]}
    )
    context = {"simulate_form": fresh, "simulated": result.message}
    response = render(request, f"{INBOX}#simulate-form", context)
    return trigger_client_event(response, "conversationsChanged")


# ---- a thread


def _reply_channel(wanted: str, contact: Contact, window: WhatsAppWindow, thread) -> str:
    """The channel the reply box offers first: the one asked for if it can carry free text
    now, else the channel the contact last wrote on, else SMS."""
    usable = {"sms": contact.sms_available, "whatsapp": window.open}
    if usable.get(wanted):
        return wanted
    inbound = [m for m in thread if m.direction == Direction.INBOUND]
    last = (
        "sms"
        if inbound and inbound[-1].channel == "mms"
        else (inbound[-1].channel if inbound else "")
    )
    if usable.get(last):
        return last
    return "sms" if contact.sms_available or not window.open else "whatsapp"


def _thread_context(request, contact: Contact, *, wanted: str = "", **extra) -> dict:
    customer = request.customer
    window = WhatsAppWindow.of(contact, timezone.now())
    thread, has_older = conversation_thread(customer, contact, limit=THREAD_SIZE)
    channel = _reply_channel(wanted, contact, window, thread)
    last_inbound = next((m for m in reversed(thread) if m.direction == Direction.INBOUND), None)
    form = extra.pop("form", None) or ReplyForm(
        initial={"channel": channel, "sandbox": last_inbound.sandbox if last_inbound else False}
    )
    return {
        "contact": contact,
        "name": contact.display_name or None,
        "profile_name": next(
            (
                m.content.get("profile_name")
                for m in reversed(thread)
                if m.direction == Direction.INBOUND and (m.content or {}).get("profile_name")
            ),
            None,
        ),  # fmt: skip
        "thread": thread,
        "has_older": has_older,
        "window": window,
        "form": form,
        "channel": form["channel"].value() or channel,
        "version": _version(
            [(m.pk, m.status, m.updated_at) for m in thread] + [window.open, window.expires_at]
        ),
        "window_state": "open" if window.open else "closed",
        **extra,
    }


@customer_required
@require_GET
def conversation(request, contact_id) -> HttpResponse:
    """The thread; opening it (and each live update) marks it read."""
    contact = contact_get(request.customer, contact_id=contact_id)
    conversation_mark_read(request.customer, contact)
    context = _thread_context(request, contact, wanted=request.GET.get("channel", ""))
    if request.htmx.target == "thread-live":
        if _unchanged(request, context["version"]):
            return HttpResponse(status=204)
        # The reply box's channels follow the window when it opened or closed meanwhile.
        context["channels_oob"] = request.GET.get("window") != context["window_state"]
        return render(request, f"{THREAD}#thread-update", context)
    context["conversation"] = conversation_get(request.customer, contact)
    return render(request, THREAD, context)


NOT_SENT = {MessageStatus.BLOCKED, MessageStatus.FILTERED, MessageStatus.FAILED}


@customer_required
@require_POST
def conversation_reply(request, contact_id) -> HttpResponse:
    """Send the reply with `message_send`, exactly as POST /v3/messages would: free-form
    WhatsApp only inside the window (else BLOCKED, BUSINESS_009), never to an opted-out
    contact, charged unless in sandbox (402 BUSINESS_003 when the balance can't pay)."""
    customer = request.customer
    contact = contact_get(customer, contact_id=contact_id)
    form = ReplyForm(request.POST)
    sent = None
    if form.is_valid():
        try:
            [sent] = message_send(customer, request=form.send_request(contact)).messages
        except InsufficientBalance:
            form.add_error(
                None,
                f"Your balance ({money(customer.balance)} {customer.currency}) can't pay for this "
                "reply, so it was not sent (BUSINESS_003). Top up in Billing, or tick Sandbox "
                "to try it on the simulator.",
            )
        except SentError as error:
            form_add_sent_error(form, error)
    refused = sent is not None and sent.status in NOT_SENT
    if not request.htmx:
        if sent is not None:
            if refused:
                flash.error(request, f"Not sent: {sent.reason} ({sent.reason_code})")
            else:
                flash.success(request, "Reply sent.")
            return go_to(request, "messaging:conversation", contact.pk)
        context = _thread_context(request, contact, form=form)
        context["conversation"] = conversation_get(customer, contact)
        return render(request, THREAD, context)
    wanted = form.cleaned_data.get("channel", "") if form.is_bound else ""
    if sent is not None and not refused:  # a fresh box, on the same channel and mode
        form = ReplyForm(initial={"channel": sent.requested_channel, "sandbox": sent.sandbox})
    context = _thread_context(
        request, contact, wanted=wanted, form=form, sent=sent, refused=refused
    )
    return render(request, f"{THREAD}#reply-result", context)


# ---- keywords (docs/api/inbound.md#keywords)

ACTION_LABELS = dict(KeywordForm.ACTIONS)


def _keywords_context(request, form: KeywordForm) -> dict:
    customer = request.customer
    own = list(keywords_for(customer))
    by_word = {keyword.word: keyword for keyword in own}
    replies = {}  # per action, the reply when the keyword has none of its own
    for action in (KeywordAction.OPT_OUT, KeywordAction.OPT_IN, KeywordAction.HELP):
        template = auto_reply_template(customer, action)
        replies[action] = (
            {"text": template[1], "from_template": True}
            if template
            else {
                "text": DEFAULT_REPLIES[action].format(name=customer.name),
                "from_template": False,
            }
        )
    replies[KeywordAction.OTHER] = {"text": "", "from_template": False}

    def row(word: str, action: str, keyword) -> dict:
        reply = replies[keyword.action if keyword else action]
        return {
            "word": word,
            "label": ACTION_LABELS[action],
            "keyword": keyword,
            "keyword_label": ACTION_LABELS[keyword.action] if keyword else "",
            "reply": keyword.reply if keyword and keyword.reply else reply["text"],
            "from_template": not (keyword and keyword.reply) and reply["from_template"],
            "on": keyword.is_active if keyword else True,
        }

    return {
        "form": form,
        "defaults": [
            row(word, action, by_word.get(word)) for word, action in DEFAULT_KEYWORDS.items()
        ],
        "own": [row(keyword.word, keyword.action, keyword) for keyword in own],
        "editing": form.data.get("word") if form.is_bound else form.initial.get("word"),
    }


@customer_required
@require_http_methods(["GET", "POST"])
def keywords(request) -> HttpResponse:
    """The default keywords and yours; add or change one (`?word=` fills the form with it)."""
    customer = request.customer
    form = KeywordForm(request.POST or None, initial=_keyword_initial(customer, request.GET))
    if request.method == "POST" and form.is_valid():
        try:
            keyword = keyword_set(customer, **form.cleaned_data)
        except ValueError as error:
            form.add_error("word", str(error))
        else:
            flash.success(request, f"Keyword {keyword.word} saved.")
            return go_to(request, "messaging:keywords")
    context = _keywords_context(request, form)
    if request.htmx.target == "keyword-form":
        return render(request, f"{KEYWORDS}#keyword-form", context)
    return render(request, KEYWORDS, context)


def _keyword_initial(customer, query) -> dict:
    word = " ".join(query.get("word", "").split()).upper()[:32]
    if not word:
        return {"action": KeywordAction.OTHER, "is_active": True}
    own = keyword_for(customer, word)
    if own is not None:
        return {"word": own.word, "action": own.action, "reply": own.reply,
                "is_active": own.is_active}  # fmt: skip
    return {
        "word": word,
        "action": DEFAULT_KEYWORDS.get(word, KeywordAction.OTHER),
        "is_active": True,
    }


@customer_required
@require_POST
def keyword_toggle(request) -> HttpResponse:
    """Turn one of your keywords, or a default one, off — or back on."""
    customer = request.customer
    word = request.POST.get("word", "")
    own = keyword_for(customer, word)
    if own is not None:
        keyword = keyword_set(
            customer, word=own.word, action=own.action, reply=own.reply, is_active=not own.is_active
        )
    elif word in DEFAULT_KEYWORDS:
        keyword = keyword_set(customer, word=word, action=DEFAULT_KEYWORDS[word], is_active=False)
    else:
        raise Http404("No such keyword")
    if keyword.is_active:
        flash.success(request, f"{keyword.word} is on again.")
    else:
        flash.warning(
            request,
            f"{keyword.word} is off: a message saying only {keyword.word} is now an ordinary message.",
        )
    return go_to(request, "messaging:keywords")
