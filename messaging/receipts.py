"""Provider status updates (delivery receipts): the one path every receipt takes.

A provider's HTTP callback, the simulator's scheduled callbacks and the reconciler's
findings all become `Receipt`s applied by `receipts_apply`:

- the message is found by the provider's id (or by our id when the provider echoes it; the
  provider's id is then kept on the message if it had none yet);
- the state machine decides: forward only, so DELIVERED after READ, a repeated DELIVERED or
  a SENT arriving late is recorded in the status history but changes nothing (and emits no
  webhook);
- a receipt about another channel than the message's (a late WhatsApp receipt after the
  fallback to SMS) is recorded only;
- a receipt that finds its message by our id while the message has no provider id yet (a
  status callback faster than the send's reply) leaves the provider's id on it, so the
  reconciler knows the provider has it; WhatsApp's pricing category and conversation id are
  kept on the message;
- receipts never touch billing: a message is billed once, at acceptance;
- a message's final outcome (DELIVERED/READ, or FAILED) is counted once in its contact's
  delivery statistics.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from messaging import reasons
from messaging.dispatch import contacts_update, count_outcome, retrying
from messaging.lifecycle import Journal, hold, save_held, status_set
from messaging.models import ActivityKind, Message, Sender
from messaging.statuses import MessageStatus

logger = logging.getLogger(__name__)
S = MessageStatus
RECEIPT_STATUSES = frozenset({S.SENT, S.DELIVERED, S.READ, S.FAILED})
DESCRIPTIONS = {
    S.SENT: "The provider confirmed it has the message",
    S.DELIVERED: "Delivered to the handset",
    S.READ: "Read by the recipient",
    S.FAILED: "The provider reported it undelivered",
}


@dataclass(frozen=True)
class Receipt:
    status: str  # SENT, DELIVERED, READ or FAILED (our wire values; adapters map theirs)
    provider_message_id: str = ""
    message_id: str = ""  # ours, when the provider echoes it back
    channel: str = ""  # the channel the provider speaks for ("" = the message's)
    reason_code: str = ""
    reason: str = ""
    occurred_at: datetime | None = None
    raw: dict = field(default_factory=dict)
    # A FAILED receipt saying the number isn't on the channel (WhatsApp's 131026): the
    # contact is marked unreachable there, as a refused send marks it.
    not_reachable: bool = False
    # What the provider bills the message as (WhatsApp: `pricing.category`, conversation id).
    pricing_category: str = ""
    conversation_id: str = ""
    # Whose messages it may touch, for a provider's callback: the provider accounts of their
    # senders (None in it: the install's default route), as the callback's signature says
    # (messaging.callbacks.records.signed_scope). None: any (the simulator, the reconciler).
    accounts: frozenset | None = None

    @classmethod
    def from_job(cls, item: dict) -> "Receipt":
        """A receipt from a receipt-job item (see `dispatch.receipt_jobs`)."""
        return cls(
            status=item["status"],
            provider_message_id=item.get("provider_message_id", ""),
            message_id=item.get("message_id", ""),
            channel=item.get("channel", ""),
            reason_code=item.get("reason_code", ""),
            occurred_at=parse_datetime(item["due_at"]) if item.get("due_at") else None,
        )


def _find(receipts: list[Receipt]) -> dict:
    """The messages the receipts are about, held until commit, by provider id and by id."""
    provider_ids = {r.provider_message_id for r in receipts if r.provider_message_id}
    message_ids = {r.message_id for r in receipts if r.message_id}
    rows = hold(
        Message.objects.filter(Q(provider_message_id__in=provider_ids) | Q(pk__in=message_ids))
    )
    found: dict = {}
    for message in rows:
        found[("id", str(message.pk))] = message
        if message.provider_message_id:
            found[("provider", message.provider_message_id)] = message
    return found


def receipts_apply(receipts: list[Receipt]) -> dict:
    """Apply provider status updates in order, in one transaction. Returns counts:
    `applied` (the status moved), `recorded` (history only) and `unknown` (no such message)."""
    counts = {"applied": 0, "recorded": 0, "unknown": 0}
    for outcome in receipts_apply_each(receipts):
        if outcome in counts:
            counts[outcome] += 1
    return counts


@retrying
def receipts_apply_each(receipts: list[Receipt]) -> list[str]:
    """`receipts_apply`, saying what happened to each receipt, in order: `applied`,
    `recorded`, `unknown`, or `ignored` (a status receipts don't carry)."""
    outcomes = ["ignored"] * len(receipts)
    applicable = [(n, r) for n, r in enumerate(receipts) if r.status in RECEIPT_STATUSES]
    if not applicable:
        return outcomes
    with transaction.atomic():
        found = _find([receipt for _, receipt in applicable])
        sent_by = _sender_accounts(found.values(), [receipt for _, receipt in applicable])
        journal, stats, changed = Journal(), [], {}
        now = timezone.now()  # one time for the batch: its changes become one UPDATE
        for n, receipt in applicable:
            message = found.get(("provider", receipt.provider_message_id)) or found.get(
                ("id", receipt.message_id)
            )
            if (
                message is not None
                and receipt.accounts is not None
                and sent_by.get(message.sender_id) not in receipt.accounts
            ):
                message = None  # another account's message: not this callback's to change
            if message is None:
                logger.warning("receipt for an unknown message: %s", receipt)
                outcomes[n] = "unknown"
                continue
            if _apply(message, receipt, journal, stats, now):
                outcomes[n] = "applied"
                changed[message.pk] = message
            else:
                outcomes[n] = "recorded"
            if _note_provider_facts(message, receipt):
                changed[message.pk] = message
        save_held(list(changed.values()))
        journal.flush()
        contacts_update(stats)
    return outcomes


def _sender_accounts(messages, receipts: list[Receipt]) -> dict:
    """sender id → its provider account's id (None → None: the default route), for the
    messages of receipts whose `accounts` are known; one query, none when no receipt is."""
    if all(receipt.accounts is None for receipt in receipts):
        return {}
    senders = {message.sender_id for message in messages if message.sender_id}
    return {
        None: None,
        **dict(Sender.objects.filter(pk__in=senders).values_list("pk", "account_id")),
    }


def _note_provider_facts(message: Message, receipt: Receipt) -> bool:
    """Keep what the receipt tells about the message on its channel beyond its status: the
    provider's id when the message has none yet, WhatsApp's pricing category and
    conversation. True if the row changed."""
    if (receipt.channel or message.channel) != message.channel:
        return False
    facts = {
        "provider_message_id": receipt.provider_message_id
        if not message.provider_message_id
        else "",
        "pricing_category": receipt.pricing_category,
        "conversation_id": receipt.conversation_id,
    }
    changed = False
    for name, value in facts.items():
        if value and getattr(message, name) != value:
            setattr(message, name, value)
            changed = True
    return changed


def _apply(message: Message, receipt: Receipt, journal: Journal, stats: list, at) -> bool:
    """`at`: when we learnt it (not the provider's time), so the history stays in order."""
    channel = receipt.channel or message.channel
    data = {"provider_message_id": receipt.provider_message_id, "provider_response": receipt.raw}
    if receipt.occurred_at:
        data["occurred_at"] = receipt.occurred_at.isoformat()
    if channel != message.channel:
        journal.note(
            message,
            ActivityKind.RECEIPT,
            f"Late {channel} receipt {receipt.status} after the fallback to "
            f"{message.channel}: recorded, not charged",
            status=receipt.status,
            at=at,
            **data,
        )
        return False
    reason_code = receipt.reason_code or (reasons.UNDELIVERED if receipt.status == S.FAILED else "")
    reason = receipt.reason or (reasons.reason_text(reason_code) if reason_code else "")
    if not status_set(
        message,
        receipt.status,
        journal,
        at=at,
        reason_code=reason_code,
        reason=reason,
        description=DESCRIPTIONS[receipt.status],
        **data,
    ):
        return False
    if not message.stats_recorded and receipt.status in (S.DELIVERED, S.READ, S.FAILED):
        message.stats_recorded = True
        count_outcome(
            stats,
            message,
            delivered=receipt.status != S.FAILED,
            not_reachable=receipt.not_reachable,
        )
    return True
