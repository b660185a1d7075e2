"""Senders pages: the numbers and sender ids the account's messages go out from, per channel.
Read-only: an operator assigns senders in the admin (docs/providers/README.md#senders)."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from billing.dashboard.access import customer_required
from messaging.models import ProviderKind
from messaging.providers.config import SIMULATOR
from messaging.selectors import customer_senders_by_channel, sender_get

LIST = "messaging/sender_list.html"
DETAIL = "messaging/sender_detail.html"
CHANNEL_NAMES = {"sms": "SMS", "whatsapp": "WhatsApp"}


def provider_name(provider: str) -> str:
    """How the page names a provider: Twilio, Meta WhatsApp Cloud API, the simulator."""
    if provider == SIMULATOR:
        return "Simulator (nothing leaves Sent)"
    return ProviderKind(provider).label if provider in ProviderKind.values else provider


@customer_required
@require_GET
def sender_list(request) -> HttpResponse:
    channel = request.GET.get("channel", "")
    channels = [
        {
            "channel": page.channel,
            "name": CHANNEL_NAMES[page.channel],
            "senders": page.senders,
            "default": page.default,
            "default_provider": provider_name(page.default.provider) if page.default else "",
        }
        for page in customer_senders_by_channel(request.customer)
        if not channel or page.channel == channel
    ]
    context = {"channels": channels, "channel": channel}
    if request.htmx.target == "senders":
        return render(request, f"{LIST}#senders", context)
    return render(request, LIST, context)


@customer_required
@require_GET
def sender_detail(request, sender_id) -> HttpResponse:
    sender = sender_get(request.customer, sender_id)
    context = {
        "sender": sender,
        "channel_name": CHANNEL_NAMES.get(sender.channel, sender.channel),
        "provider": provider_name(sender.account.kind),
        "usable": sender.is_active and sender.account.is_active,
    }
    return render(request, DETAIL, context)
