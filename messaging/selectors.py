"""Reads of messages, always starting from the customer."""

import uuid
from datetime import datetime

from django.db.models import Prefetch, QuerySet

from billing.models import Customer
from messaging.errors import MessageNotFound
from messaging.models import HISTORY_KINDS, Message, MessageActivity


def messages_for(
    customer: Customer,
    *,
    statuses: list[str] | None = None,
    channels: list[str] | None = None,
    contact_id: uuid.UUID | None = None,
    template_id: uuid.UUID | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> QuerySet[Message]:
    """The customer's messages, newest first, filtered (each filter served by an index)."""
    messages = Message.objects.filter(customer=customer)
    if statuses:
        messages = messages.filter(status__in=statuses)
    if channels:
        messages = messages.filter(channel__in=channels)
    if contact_id:
        messages = messages.filter(contact_id=contact_id)
    if template_id:
        messages = messages.filter(template_id=template_id)
    if created_after:
        messages = messages.filter(created_at__gte=created_after)
    if created_before:
        messages = messages.filter(created_at__lt=created_before)
    return messages.order_by("-created_at", "-id")


def with_history(messages: QuerySet[Message]) -> QuerySet[Message]:
    """Messages with their status history prefetched (`message.history`, oldest first)."""
    return messages.prefetch_related(
        Prefetch(
            "activities",
            queryset=MessageActivity.objects.filter(kind__in=HISTORY_KINDS).order_by("id"),
            to_attr="history",
        )
    )


def message_get(customer: Customer, *, message_id) -> Message:
    """The customer's message with its history, or 404 RESOURCE_003 (missing and other
    tenants' alike)."""
    try:
        message_id = uuid.UUID(str(message_id))
    except ValueError:
        raise MessageNotFound() from None
    message = with_history(Message.objects.filter(customer=customer, pk=message_id)).first()
    if message is None:
        raise MessageNotFound()
    return message


def message_activities(message: Message) -> QuerySet[MessageActivity]:
    """Everything that happened to the message, most recent first."""
    return MessageActivity.objects.filter(message=message).order_by("-id")
