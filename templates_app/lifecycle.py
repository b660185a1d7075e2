"""Template status changes. Each one is made on the locked row, appended to the status
history and emitted as a `templates.<status>` event, all in one transaction.

Who may move a template where:
- `template_submit` (services): DRAFT/REJECTED/APPROVED → PENDING (or straight to APPROVED
  when there is no WhatsApp content to review, or APPROVED for SMS with the WhatsApp leg
  REJECTED when the content breaks WhatsApp's template rules: `whatsapp_leg_reject`);
- the WhatsApp reviewer's verdict (`template_review_verdict`): PENDING → APPROVED/REJECTED;
- WhatsApp after the review (`template_provider_status`): pause or disable an approved
  template (quality), reinstate a paused or disabled one;
- operators (admin actions): approve, reject, pause, archive, from the states listed below.
"""

from django.db import transaction

from sent_project.errors import ValidationFailed
from sent_project.outbox import event_emit
from templates_app.errors import TemplateNotFound, TemplateTransitionRefused
from templates_app.models import Template, TemplateStatusChange
from templates_app.models import TemplateStatus as S

Source = TemplateStatusChange.Source

APPROVABLE = frozenset({S.DRAFT, S.PENDING, S.REJECTED, S.PAUSED, S.DISABLED, S.REVOKED})
REJECTABLE = frozenset({S.PENDING, S.APPROVED, S.PAUSED})
PAUSABLE = frozenset({S.APPROVED})
ARCHIVABLE = frozenset(set(S) - {S.ARCHIVED})
# What WhatsApp may do to a reviewed template (its status updates), by the status it sets.
PROVIDER_MOVES = {
    S.PAUSED: frozenset({S.APPROVED}),
    S.DISABLED: frozenset({S.APPROVED, S.PAUSED}),
    S.APPROVED: frozenset({S.PAUSED, S.DISABLED}),  # reinstated
}


def template_event_payload(
    template: Template, *, reason: str = "", status: str = "", channel: str = ""
) -> dict:
    """The template webhook payload (docs/api/webhooks.md#payloads). `status` defaults to the
    template's; `channel` names the leg a decision is about and is omitted when the
    decision covers the whole template."""
    payload = {
        "status": status or template.status,
        "whatsapp_template_id": template.whatsapp_template_id,
        "template_id": str(template.pk),
        "template_name": template.name,
        "category": template.category,
        "language": template.language,
        "account_id": str(template.customer_id),
    }
    if channel:
        payload["channel"] = channel
    if reason:
        payload["reason"] = reason
    return payload


def record_creation(template: Template, *, source: str) -> TemplateStatusChange:
    """The history's first row. Must run in the transaction that created the template."""
    return TemplateStatusChange.objects.create(
        template=template, from_status="", to_status=template.status, source=source
    )


def _record(
    template: Template, from_status: str, status: str, *, source: str, reason: str, channel: str
) -> TemplateStatusChange:
    """Append the change to the history and emit its `templates.<status>` event."""
    change = TemplateStatusChange.objects.create(
        template=template,
        from_status=from_status,
        to_status=status,
        reason=reason,
        source=source,
        channel=channel,
    )
    event_emit(
        template.customer,
        field="templates",
        event=f"templates.{status.lower()}",
        payload=template_event_payload(template, reason=reason, status=status, channel=channel),
        subject_id=template.pk,
    )
    return change


def apply_status(
    template: Template, status: str, *, source: str, reason: str = "", channel: str = ""
) -> TemplateStatusChange:
    """Move `template` to `status`, record it and emit the event (`channel`: the leg the
    change is reported for, when it is not the whole template's news).

    A new review round (PENDING) clears a rejected WhatsApp leg: the review decides again.
    Must run inside transaction.atomic on a row locked with select_for_update (or created
    in this transaction); `template` is updated in place."""
    from_status = template.status
    template.status = status
    template.is_published = status == S.APPROVED
    if status == S.REJECTED:
        template.rejection_reason = reason
    elif status in (S.PENDING, S.APPROVED):
        template.rejection_reason = ""
    if status == S.PENDING:
        template.whatsapp_rejection_reason = ""
    template.save(
        update_fields=[
            "status",
            "is_published",
            "rejection_reason",
            "whatsapp_rejection_reason",
            "updated_at",
        ]
    )
    return _record(template, from_status, status, source=source, reason=reason, channel=channel)


def whatsapp_leg_reject(template: Template, *, reason: str) -> None:
    """A submission broke WhatsApp's template rules (`templates_app.whatsapp_rules`): the
    WhatsApp leg is REJECTED with `reason` (`templates.rejected`, `channel: "whatsapp"`),
    and the template is APPROVED for SMS, which needs no review (`templates.approved`,
    `channel: "sms"`), as an SMS-only template is on submission. Sends then go by SMS only.

    Must run inside transaction.atomic on the locked (or new) row."""
    from_leg = template.whatsapp_status
    template.whatsapp_rejection_reason = reason
    template.save(update_fields=["whatsapp_rejection_reason", "updated_at"])
    _record(template, from_leg, S.REJECTED, source=Source.SYSTEM, reason=reason, channel="whatsapp")
    apply_status(
        template,
        S.APPROVED,
        source=Source.SYSTEM,
        reason="SMS needs no review: approved on submission.",
        channel="sms",
    )


def locked_templates():
    """Templates with their customer, locking only the template rows (never the customer's,
    which billing updates for every charge)."""
    return Template.objects.select_related("customer").select_for_update(of=("self",))


def lock_template(template: Template, *, customer=None) -> Template:
    """`template` re-read and locked until commit (with `customer`: only if it is theirs).
    TemplateNotFound if it was deleted meanwhile. Must run inside transaction.atomic."""
    rows = locked_templates().filter(pk=template.pk)
    if customer is not None:
        rows = rows.filter(customer=customer)
    locked = rows.first()
    if locked is None:
        raise TemplateNotFound()
    return locked


def _operator_action(
    template: Template, status: str, *, allowed_from: frozenset, source: str, reason: str = ""
) -> Template:
    with transaction.atomic():
        locked = lock_template(template)
        if locked.status not in allowed_from:
            raise TemplateTransitionRefused(
                f"A {locked.status} template can't become {status}.",
                details={"status": [f"Allowed from: {', '.join(sorted(allowed_from))}."]},
            )
        apply_status(locked, status, source=source, reason=reason)
    return locked


def template_approve(
    template: Template, *, source: str = Source.ADMIN, reason: str = ""
) -> Template:
    return _operator_action(
        template, S.APPROVED, allowed_from=APPROVABLE, source=source, reason=reason
    )


def template_reject(template: Template, *, reason: str, source: str = Source.ADMIN) -> Template:
    if not reason.strip():
        raise ValidationFailed(details={"reason": ["Say why the template is rejected."]})
    return _operator_action(
        template, S.REJECTED, allowed_from=REJECTABLE, source=source, reason=reason.strip()
    )


def template_pause(template: Template, *, source: str = Source.ADMIN, reason: str = "") -> Template:
    return _operator_action(template, S.PAUSED, allowed_from=PAUSABLE, source=source, reason=reason)


def template_archive(
    template: Template, *, source: str = Source.ADMIN, reason: str = ""
) -> Template:
    return _operator_action(
        template, S.ARCHIVED, allowed_from=ARCHIVABLE, source=source, reason=reason
    )


def template_review_verdict(
    template_id, *, review_id: int, approved: bool, reason: str = ""
) -> str:
    """Apply the WhatsApp reviewer's verdict on the review opened by status change
    `review_id`. A verdict for a review that is no longer the open one (the template was
    approved by an operator, resubmitted, or deleted meanwhile) changes nothing.
    Returns "approved", "rejected", "stale" or "gone"."""
    with transaction.atomic():
        template = locked_templates().filter(pk=template_id).first()
        if template is None:
            return "gone"
        if not review_is_open(template, review_id):
            return "stale"
        status = S.APPROVED if approved else S.REJECTED
        apply_status(template, status, source=Source.PROVIDER, reason="" if approved else reason)
    return status.lower()


def review_is_open(template: Template, review_id: int) -> bool:
    """Is status change `review_id` the template's open review (PENDING since then)?"""
    latest = template.status_changes.order_by("-id").values_list("id", flat=True).first()
    return template.status == S.PENDING and latest == review_id


def template_review_submitted(template_id, *, review_id: int, whatsapp_template_id: str) -> str:
    """The reviewer created (or updated) the template at WhatsApp, which gave it this id:
    recorded while review `review_id` is still the open one. Returns "recorded", "stale" or
    "gone"."""
    with transaction.atomic():
        template = locked_templates().filter(pk=template_id).first()
        if template is None:
            return "gone"
        if not review_is_open(template, review_id):
            return "stale"
        template.whatsapp_template_id = whatsapp_template_id
        template.save(update_fields=["whatsapp_template_id", "updated_at"])
    return "recorded"


def template_provider_status(template_id, status: str, *, reason: str = "") -> str:
    """WhatsApp paused, disabled or reinstated a reviewed template (PROVIDER_MOVES). Returns
    the new status in lowercase, "unchanged" (already there), "refused" (not a move WhatsApp
    makes from the template's status: e.g. an operator archived it) or "gone"."""
    with transaction.atomic():
        template = locked_templates().filter(pk=template_id).first()
        if template is None:
            return "gone"
        if template.status == status:
            return "unchanged"
        if template.status not in PROVIDER_MOVES.get(status, ()):
            return "refused"
        apply_status(template, status, source=Source.PROVIDER, reason=reason)
    return status.lower()
