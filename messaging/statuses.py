"""Message statuses (the wire values, UPPERCASE) and the one state machine that moves them.

Outbound lifecycle:  QUEUED → PROCESSED (claimed by a worker) → SENT (provider accepted)
→ DELIVERED → READ (WhatsApp). A message held for later — a `scheduled_at` or the
recipient's quiet hours — starts SCHEDULED instead, and goes SCHEDULED → PROCESSED when a
worker claims it at its due time (`next_attempt_at`); until then it may be CANCELLED.  Terminal: FAILED, FILTERED (policy, e.g. opted out),
BLOCKED (account precondition), CANCELLED. An inbound message is RECEIVED, and stays so.

Rules:
- Forward only. A receipt that would lower the status (DELIVERED after READ, SENT after
  DELIVERED) is recorded in the history but does not change the status.
- One terminal outcome: once FAILED/FILTERED/BLOCKED/CANCELLED, nothing changes it; a
  success status (SENT/DELIVERED/READ) can't become FAILED… except SENT → FAILED, which is
  how carriers report an undeliverable message after accepting it.
- PROCESSED → QUEUED is allowed only to requeue a transient failure for a retry.
- SCHEDULED is only ever a message's first status: nothing moves back to it. It goes to
  PROCESSED (claimed when due), CANCELLED, or a final outcome decided before the hand-off.
"""

from django.db import models


class MessageStatus(models.TextChoices):
    SCHEDULED = "SCHEDULED"  # held until `next_attempt_at` (docs/api/messages.md#scheduling)
    QUEUED = "QUEUED"
    PROCESSED = "PROCESSED"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    READ = "READ"
    FAILED = "FAILED"
    FILTERED = "FILTERED"
    BLOCKED = "BLOCKED"
    CANCELLED = "CANCELLED"
    RECEIVED = "RECEIVED"  # inbound: a contact's message to one of our numbers


S = MessageStatus

# Position in the forward order; statuses with the same rank can't follow each other.
RANK = {S.SCHEDULED: -1, S.QUEUED: 0, S.PROCESSED: 1, S.SENT: 2, S.DELIVERED: 3, S.READ: 4}
TERMINAL = frozenset({S.FAILED, S.FILTERED, S.BLOCKED, S.CANCELLED})
SUCCESS = frozenset({S.SENT, S.DELIVERED, S.READ})
# Not yet with a provider: the reconciler watches these.
IN_FLIGHT = frozenset({S.SCHEDULED, S.QUEUED, S.PROCESSED})

ALLOWED: dict[str, frozenset[str]] = {
    # Claimed when due (PROCESSED), called off (CANCELLED), or stopped before its hand-off:
    # opted out (FILTERED), no sender any more (BLOCKED), FAILED.
    S.SCHEDULED: frozenset({S.PROCESSED, S.FAILED, S.FILTERED, S.BLOCKED, S.CANCELLED}),
    S.QUEUED: frozenset(
        {S.PROCESSED, S.SENT, S.DELIVERED, S.READ, S.FAILED, S.FILTERED, S.BLOCKED, S.CANCELLED}
    ),
    # FILTERED: the contact opted out after acceptance, before the hand-off.
    S.PROCESSED: frozenset({S.QUEUED, S.SENT, S.DELIVERED, S.READ, S.FAILED, S.FILTERED}),
    S.SENT: frozenset({S.DELIVERED, S.READ, S.FAILED}),
    S.DELIVERED: frozenset({S.READ}),
    S.READ: frozenset(),
    S.RECEIVED: frozenset(),
    **{terminal: frozenset() for terminal in TERMINAL},
}


def can_transition(current: str, new: str) -> bool:
    return new in ALLOWED[current]


def predecessors(new: str) -> list[str]:
    """Every status from which `new` may be reached (for compare-and-set updates)."""
    return [status for status, targets in ALLOWED.items() if new in targets]


def is_terminal(status: str) -> bool:
    return status in TERMINAL or status in (S.READ, S.RECEIVED)
