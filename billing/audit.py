"""The audit log: who did what and when in an account (docs/dashboard.md#audit-log).

Every app records its actions by calling `record` (the billing app sits below them all);
the actor is the one acting in the request being served (`billing.roles.acting`): the
dashboard user, or the API key of an API call. Entries are never changed or deleted.
"""

import json

from django.db.models import QuerySet

from billing.models import AuditEntry, Customer
from billing.roles import Actor, acting
from sent_project.request_context import current_request_id

# The actions recorded (the `action` column).
API_KEY_CREATED = "api_key.created"
API_KEY_REVOKED = "api_key.revoked"
WEBHOOK_CREATED = "webhook.created"
WEBHOOK_CHANGED = "webhook.changed"
WEBHOOK_DELETED = "webhook.deleted"
TEMPLATE_SUBMITTED = "template.submitted"
USER_INVITED = "user.invited"
USER_REINVITED = "user.reinvited"
INVITATION_REVOKED = "invitation.revoked"
INVITATION_ACCEPTED = "invitation.accepted"
USER_ROLE_CHANGED = "user.role_changed"
USER_REMOVED = "user.removed"
USER_SUSPENDED = "user.suspended"
USER_REACTIVATED = "user.reactivated"
TOP_UP = "balance.top_up"
TOP_UP_REQUESTED = "balance.top_up_requested"
DASHBOARD_SEND = "message.sent_from_dashboard"
TWO_FACTOR_ENABLED = "two_factor.enabled"
TWO_FACTOR_DISABLED = "two_factor.disabled"
TWO_FACTOR_ENFORCED = "two_factor.enforced"


def record(
    customer: Customer | object,
    action: str,
    *,
    target: str = "",
    detail: dict | None = None,
    actor: Actor | None = None,
) -> AuditEntry:
    """Append one entry to `customer`'s log (a Customer or its id)."""
    actor = actor or acting()
    customer_id = getattr(customer, "pk", customer)
    return AuditEntry.objects.create(
        customer_id=customer_id,
        action=action,
        actor=actor.label if actor else "system",
        actor_user=actor.user if actor else None,
        actor_api_key=actor.api_key if actor else None,
        target=str(target)[:300],
        detail=detail or {},
        request_id=current_request_id(),
    )


def audit_log_for(customer: Customer, *, action: str = "") -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.filter(customer=customer)
    if action:
        entries = entries.filter(action=action)
    return entries.order_by("-id")


CSV_COLUMNS = ["id", "created_at", "action", "actor", "target", "detail", "request_id"]


def csv_row(entry: AuditEntry) -> list:
    return [
        entry.id,
        entry.created_at.isoformat(),
        entry.action,
        entry.actor,
        entry.target,
        json.dumps(entry.detail, sort_keys=True),
        entry.request_id,
    ]
