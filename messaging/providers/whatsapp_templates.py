"""Template review on Meta: templates are created on the WhatsApp Business Account and
Meta's verdict comes back by webhook (docs/providers/whatsapp.md#template-review).

- `reviewer_for(template)` is `TEMPLATES_WHATSAPP_REVIEWER`: the Cloud API reviewer when the
  template's customer sends WhatsApp through the Cloud API (its own WhatsApp sender's
  account, else the install's when `WHATSAPP_PROVIDER=cloud_api`), else None (templates_app
  then uses the reviewer of `WHATSAPP_PROVIDER`).
- `CloudApiReviewer.submit` runs inside the transaction that made the template PENDING, so it
  makes no HTTP call: it enqueues `messaging.tasks.whatsapp_template_submit`, a row of that
  same transaction, which runs `template_submit_to_meta` after commit: `POST /{waba-id}/
  message_templates` (or, for a template Meta already has, `POST /{template-id}`).
  A refusal is the verdict REJECTED with Meta's message; a transient error is retried.
- `template_status_apply` turns a `message_template_status_update` webhook into the
  template's verdict (APPROVED / REJECTED with Meta's reason) or a later change (PAUSED,
  DISABLED, reinstated).
"""

import logging

from django.conf import settings

from messaging.models import ProviderKind, Sender
from messaging.providers import adapter
from messaging.providers.accounts import account_credentials, env_credentials
from messaging.providers.config import CLOUD_API, Credentials
from messaging.providers.whatsapp_cloud import GraphError
from messaging.providers.whatsapp_components import Untranslatable, create_body
from templates_app.lifecycle import (
    review_is_open,
    template_provider_status,
    template_review_submitted,
    template_review_verdict,
)
from templates_app.models import Template, TemplateStatus
from templates_app.review import ReviewSubmission, TemplateReviewer, whatsapp_template_name

logger = logging.getLogger(__name__)
DUPLICATE_SUBCODE = 2388024  # "Message template already exists" (this name and language)
# What a `message_template_status_update` event makes of a reviewed template.
LATER_EVENTS = {
    "APPROVED": TemplateStatus.APPROVED,
    "REINSTATED": TemplateStatus.APPROVED,
    "PAUSED": TemplateStatus.PAUSED,
    "DISABLED": TemplateStatus.DISABLED,
}


def _review_senders(customer_id):
    """The senders whose account a customer's templates are created on, the first first: its
    active WhatsApp senders on the Cloud API."""
    return Sender.objects.filter(
        customer_id=customer_id,
        channel="whatsapp",
        is_active=True,
        account__is_active=True,
        account__kind=ProviderKind.CLOUD_API,
    ).order_by("created_at", "pk")


def review_credentials(customer_id) -> Credentials | None:
    """The Cloud API account a customer's templates are created on: the account of its
    first active WhatsApp sender on the Cloud API, else the install's default."""
    sender = _review_senders(customer_id).select_related("account").first()
    if sender is not None:
        return account_credentials(sender.account)
    if settings.WHATSAPP_PROVIDER == CLOUD_API:
        return env_credentials(CLOUD_API)
    return None


class CloudApiReviewer(TemplateReviewer):
    name = "cloud_api"

    def submit(self, template: Template, *, review_id: int) -> ReviewSubmission:
        # messaging.tasks imports this module (the task runs `template_submit_to_meta`).
        from messaging.tasks import whatsapp_template_submit

        # Enqueued in the caller's transaction: with the database backend the job commits
        # (or rolls back) with the PENDING status; the HTTP call happens after, in a worker.
        whatsapp_template_submit.enqueue(template_id=str(template.pk), review_id=review_id)
        name = whatsapp_template_name(template)
        # Meta edits a template it has under the same name; a renamed one is created anew.
        known = template.whatsapp_template_id.isdigit() and template.whatsapp_template_name in (
            "",
            name,
        )
        return ReviewSubmission(
            whatsapp_template_id=template.whatsapp_template_id if known else "",
            whatsapp_template_name=name,
        )


def reviewer_for(template: Template) -> TemplateReviewer | None:
    """`TEMPLATES_WHATSAPP_REVIEWER`: the Cloud API reviewer, when the template's customer
    sends WhatsApp through the Cloud API."""
    return CloudApiReviewer() if review_credentials(template.customer_id) else None


def _verdict(template: Template, review_id: int, *, approved: bool, reason: str = "") -> str:
    return template_review_verdict(
        template.pk, review_id=review_id, approved=approved, reason=reason[:2000]
    )


def _existing(graph, waba_id: str, body: dict, template: Template) -> dict | None:
    """The template of this name and language already on the WABA (created by an attempt
    whose reply we lost, or by hand), if none of our other templates holds it."""
    listing = graph.request(
        "GET",
        f"{waba_id}/message_templates",
        params={"name": body["name"], "fields": "id,name,language,status,category"},
    )
    for item in listing.get("data") or []:
        if item.get("name") == body["name"] and item.get("language") == body["language"]:
            meta_id = str(item.get("id") or "")
            taken = (
                Template.objects.filter(whatsapp_template_id=meta_id)
                .exclude(pk=template.pk)
                .exists()
            )
            return None if taken or not meta_id else {"id": meta_id, "status": item.get("status")}
    return None


def template_submit_to_meta(template_id, *, review_id: int, attempt: int = 1) -> str:
    """Create (or update) the template on its WABA for review round `review_id`. Returns
    "submitted" (Meta reviews it; the verdict comes by webhook), "approved"/"rejected" (a
    verdict already), "retry" (a transient error: the caller tries again later), "stale"
    (the review closed meanwhile) or "gone"."""
    template = Template.objects.filter(pk=template_id).first()
    if template is None:
        return "gone"
    if not review_is_open(template, review_id):
        return "stale"
    credentials = review_credentials(template.customer_id)
    if credentials is None or not credentials.account_id:
        return _verdict(
            template,
            review_id,
            approved=False,
            reason="WhatsApp Cloud API is not configured for this account (no WABA id)",
        )
    try:
        body = create_body(template)
    except Untranslatable as error:
        return _verdict(template, review_id, approved=False, reason=str(error))
    graph = adapter("whatsapp", credentials, CLOUD_API).graph
    known = template.whatsapp_template_id if template.whatsapp_template_id.isdigit() else ""
    try:
        if known:
            graph.request(
                "POST", known, json={"category": body["category"], "components": body["components"]}
            )
            answer = {"id": known, "status": "PENDING"}
        else:
            answer = graph.request("POST", f"{credentials.account_id}/message_templates", json=body)
    except GraphError as error:
        answer = None
        if error.subcode == DUPLICATE_SUBCODE:
            try:
                answer = _existing(graph, credentials.account_id, body, template)
                if answer is not None and answer.get("status") != "PENDING":
                    # Meta's copy may hold other content: ours goes to review on it.
                    graph.request(
                        "POST",
                        answer["id"],
                        json={"category": body["category"], "components": body["components"]},
                    )
                    answer["status"] = "PENDING"
            except GraphError as again:
                error = again
        if answer is None:
            if error.retryable and attempt < settings.MESSAGE_MAX_ATTEMPTS:
                logger.warning(
                    "template %s: submitting to Meta failed (attempt %s), trying again: %s",
                    template.pk,
                    attempt,
                    error.describe(),
                )
                return "retry"
            reason = error.describe()
            if error.retryable:
                reason = f"Could not submit to WhatsApp after {attempt} attempts: {reason}"
            return _verdict(template, review_id, approved=False, reason=reason)
    meta_id = str(answer.get("id") or "")
    if not meta_id:
        return (
            "retry"
            if attempt < settings.MESSAGE_MAX_ATTEMPTS
            else _verdict(
                template, review_id, approved=False, reason="WhatsApp returned no template id"
            )
        )
    recorded = template_review_submitted(
        template.pk, review_id=review_id, whatsapp_template_id=meta_id
    )
    if recorded != "recorded":
        return recorded
    status = str(answer.get("status") or "").upper()
    if status in ("APPROVED", "REJECTED"):  # Meta sometimes decides at once
        return _verdict(template, review_id, approved=status == "APPROVED")
    return "submitted"


# --- the verdict, from the webhook -------------------------------------------------------


def verdict_reason(value: dict) -> str:
    """Meta's reason for a status update, readable: its reason code (unless NONE), then its
    explanation and recommendation when it gives them."""
    code = str(value.get("reason") or "")
    texts = []
    for info in (value.get("rejection_info"), value.get("other_info")):
        if isinstance(info, dict):
            texts += [
                str(info[key])
                for key in ("reason", "recommendation", "title", "description")
                if info.get(key)
            ]
    explanation = " ".join(texts)
    if code and code.upper() != "NONE":
        return f"{code}: {explanation}" if explanation else code
    return explanation


def _template_of(value: dict, accounts: frozenset | None) -> Template | None:
    """The template a verdict is about — among those reviewed on `accounts` (None: any)."""
    meta_id = str(value.get("message_template_id") or "")
    template = Template.objects.filter(whatsapp_template_id=meta_id).first() if meta_id else None
    if template is not None and not _reviewed_on(template, accounts):
        return None
    if template is None:  # the webhook outran the recording of Meta's id
        pending = list(
            Template.objects.filter(
                whatsapp_template_id="",
                whatsapp_template_name=value.get("message_template_name") or "",
                language=value.get("message_template_language") or "",
                status=TemplateStatus.PENDING,
            )[:2]
        )
        template = pending[0] if len(pending) == 1 else None
        if template is not None and not _reviewed_on(template, accounts):
            return None  # another account's template: not this webhook's to judge
        if template is not None and meta_id:
            latest = template.status_changes.order_by("-id").values_list("id", flat=True).first()
            template_review_submitted(template.pk, review_id=latest, whatsapp_template_id=meta_id)
    return template


def _reviewed_on(template: Template, accounts: frozenset | None) -> bool:
    return accounts is None or _review_account_id(template.customer_id) in accounts


def _review_account_id(customer_id):
    """The provider account a customer's templates are reviewed on (`review_credentials`),
    or None: the install's."""
    return _review_senders(customer_id).values_list("account_id", flat=True).first()


def template_status_apply(value: dict, *, accounts: frozenset | None = None) -> tuple[bool, str]:
    """One `message_template_status_update`: (changed anything, what happened). `accounts`:
    whose templates the webhook may speak for (messaging.callbacks.records.signed_scope: the
    provider accounts they are reviewed on, None for the install's); None: any."""
    event = str(value.get("event") or "").upper()
    template = _template_of(value, accounts)
    if template is None:
        return False, (
            f"{event} for WhatsApp template {value.get('message_template_id')} "
            f"({value.get('message_template_name')}): not one of ours"
        )
    reason = verdict_reason(value)
    if template.status == TemplateStatus.PENDING and event in ("APPROVED", "REJECTED"):
        review_id = template.status_changes.order_by("-id").values_list("id", flat=True).first()
        outcome = template_review_verdict(
            template.pk,
            review_id=review_id,
            approved=event == "APPROVED",
            reason=reason or "Rejected by WhatsApp",
        )
    elif event in LATER_EVENTS:
        outcome = template_provider_status(template.pk, LATER_EVENTS[event], reason=reason)
    else:
        outcome = "ignored"
    changed = outcome not in ("ignored", "unchanged", "refused", "stale", "gone")
    return changed, f"template {template.pk} ({template.status}): {event} → {outcome}"
