"""The home page: what needs attention, the first steps still to take and, once there are
messages, today's traffic. Every figure comes from the apps' selectors.

Project wiring, like `urls.py`: it sits outside the layers and reads every app
(docs/architecture.md)."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from billing.dashboard.access import customer_required
from billing.models import Customer
from billing.selectors import api_keys_for
from contacts.selectors import contacts_for
from messaging.selectors import channel_delivery_rates, message_status_counts, messages_for
from messaging.statuses import MessageStatus
from messaging.webhooks.selectors import webhooks_for
from sent_project.templatetags.sent import money
from templates_app.selectors import templates_for

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


def attention(customer: Customer) -> list[Notice]:
    """Things to fix: a low balance, webhook endpoints Sent had to turn off."""
    notices = []
    if customer.balance < customer.low_balance_threshold:
        notices.append(
            Notice(
                "warn",
                f"Your balance ({money(customer.balance)} {customer.currency}) is below your "
                f"warning threshold of {money(customer.low_balance_threshold)}: top up so sends "
                "are not refused.",
                reverse("billing:billing"),
                "Billing",
            )
        )
    for endpoint in webhooks_for(customer, is_active=False).exclude(disabled_reason="")[:3]:
        notices.append(
            Notice(
                "bad",
                f"Sent disabled the webhook “{endpoint}”: {endpoint.disabled_reason}.",
                reverse("messaging:webhook_detail", args=[endpoint.pk]),
                "Open it",
            )
        )
    return notices


def first_steps(customer: Customer) -> list[Step]:
    """The getting-started checklist, each step done or not."""
    return [
        Step(
            "Call the API",
            "Create a key, then send with it in the x-api-key header.",
            reverse("billing:api_key_list"),
            api_keys_for(customer).filter(last_used_at__isnull=False).exists(),
        ),
        Step(
            "Add contacts",
            "Type a number in any format, or import a CSV.",
            reverse("contacts:contact_list"),
            contacts_for(customer).exists(),
        ),
        Step(
            "Create a template",
            "Write once, fill in variables per recipient.",
            reverse("templates_app:template_list"),
            templates_for(customer).exists(),
        ),
        Step(
            "Send a message",
            "Try it in the playground in sandbox mode: nothing is charged.",
            reverse("messaging:playground"),
            messages_for(customer).exists(),
        ),
        Step(
            "Add a webhook endpoint",
            "Hear about deliveries as they happen.",
            reverse("messaging:webhook_list"),
            webhooks_for(customer).exists(),
        ),
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


@customer_required
def home(request: HttpRequest) -> HttpResponse:
    customer = request.customer
    steps = first_steps(customer)
    context = {
        "customer": customer,
        "notices": attention(customer),
        "steps": steps if not all(step.done for step in steps) else [],
        "steps_done": sum(step.done for step in steps),
        "traffic": traffic(customer),
        "rate_days": RATE_DAYS,
    }
    return render(request, "home.html", context)
