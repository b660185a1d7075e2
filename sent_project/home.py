"""What the home page shows: what needs attention, the first steps still to take and,
once there are messages, today's traffic. Apps that have not landed yet are skipped (their
models don't exist), so no panel ever shows a made-up number."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.apps import apps
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from billing.models import Customer
from billing.selectors import api_keys_for
from messaging.selectors import channel_delivery_rates, message_status_counts, messages_for
from messaging.statuses import MessageStatus
from messaging.webhooks.selectors import webhooks_for

RATE_DAYS = 7  # delivery rates over the last week: one day is too few messages to tell
RECENT_FAILURES = 5


@dataclass(frozen=True)
class Notice:
    level: str  # "warn" or "bad"
    text: str
    link: str = ""
    link_text: str = ""


@dataclass(frozen=True)
class Step:
    title: str
    text: str
    url: str
    done: bool


def _url(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _model(label: str):
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def attention(customer: Customer) -> list[Notice]:
    """Things to fix: a low balance, webhook endpoints Sent had to turn off."""
    notices = []
    if customer.balance < customer.low_balance_threshold:
        notices.append(
            Notice(
                "warn",
                f"Your balance ({customer.balance:.2f} {customer.currency}) is below your "
                f"warning threshold of {customer.low_balance_threshold:.2f}: top up so sends "
                "are not refused.",
                _url("billing:billing"),
                "Billing",
            )
        )
    for endpoint in webhooks_for(customer, is_active=False).exclude(disabled_reason="")[:3]:
        notices.append(
            Notice(
                "bad",
                f"Sent disabled the webhook “{endpoint}”: {endpoint.disabled_reason}.",
                _url("messaging:webhook_detail", endpoint.pk),
                "Open it",
            )
        )
    return notices


def _has(label: str, customer: Customer) -> bool | None:
    model = _model(label)
    if model is None:
        return None
    return model._default_manager.filter(customer=customer).exists()


def first_steps(customer: Customer) -> list[Step]:
    """The getting-started checklist: one step per page that exists."""
    candidates = [
        (
            "Call the API",
            "Create a key, then send with it in the x-api-key header.",
            _url("billing:api_key_list"),
            api_keys_for(customer).filter(last_used_at__isnull=False).exists(),
        ),
        (
            "Add contacts",
            "Type a number in any format, or import a CSV.",
            _url("contacts:contact_list"),
            _has("contacts.Contact", customer),
        ),
        (
            "Create a template",
            "Write once, fill in variables per recipient.",
            _url("templates_app:template_list"),
            _has("templates_app.Template", customer),
        ),
        (
            "Send a message",
            "Try it in the playground in sandbox mode: nothing is charged.",
            _url("messaging:playground"),
            _has("messaging.Message", customer),
        ),
        (
            "Add a webhook endpoint",
            "Hear about deliveries as they happen.",
            _url("messaging:webhook_list"),
            webhooks_for(customer).exists(),
        ),
    ]
    return [
        Step(title, text, url, bool(done))
        for title, text, url, done in candidates
        if url and done is not None
    ]


@dataclass(frozen=True)
class Traffic:
    today: dict[str, int]  # status → messages created today (UTC)
    rates: list[dict]  # per channel, the last RATE_DAYS days (messaging.selectors)
    failures: list  # the latest FAILED messages

    @property
    def today_total(self) -> int:
        return sum(self.today.values())


def traffic(customer: Customer) -> Traffic | None:
    """Today's messages by status, the delivery rate per channel and the latest failures;
    None for an account that never sent a message (the first steps say how)."""
    start_of_today = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    today = message_status_counts(customer, since=start_of_today)
    rates = channel_delivery_rates(customer, since=timezone.now() - timedelta(days=RATE_DAYS))
    failures = list(messages_for(customer, statuses=[MessageStatus.FAILED])[:RECENT_FAILURES])
    if not (today or rates or failures):
        return None
    return Traffic(today=today, rates=rates, failures=failures)
