"""Template operations: create, update, submit for review, delete, and the demo templates.

State rules (docs/api/templates.md#lifecycle-and-review):
- definition/category/language change only in DRAFT, REJECTED or APPROVED. While PENDING
  a change (or a resubmission) is 409 CONFLICT_006; in PAUSED, DISABLED, REVOKED or
  ARCHIVED it is 400 VALIDATION_001. `name` and `display_name` change in every state.
- Editing an APPROVED template's content is a live edit that goes straight back to review
  (PENDING, not sendable until approved again), with or without `submit_for_review`.
- Submitting checks WhatsApp's template rules (`templates_app.whatsapp_rules`) before any
  review: content that breaks one gets its WhatsApp leg REJECTED with the rule as reason,
  and the template APPROVED for SMS (`lifecycle.whatsapp_leg_reject`). Creation and edits
  check only the format (`templates_app.validation`): drafts may break WhatsApp's rules.
- `submit_for_review` on PAUSED/DISABLED/REVOKED/ARCHIVED is accepted and does nothing.
- Templates named `sent_…` are read-only (only submission); the prefix is reserved.

`sandbox=True` runs the whole operation, answers with its real outcome, and rolls it back
(`sent_project.sandbox`): nothing is stored, no event or review is queued.
"""

import re

from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects

from billing import audit
from billing.roles import acting, require
from sent_project.errors import ValidationFailed
from sent_project.sandbox import in_sandbox
from templates_app import definition as defn
from templates_app import review
from templates_app.errors import (
    TemplateInReview,
    TemplateInUse,
    TemplateNameTaken,
)
from templates_app.lifecycle import (
    Source,
    apply_status,
    lock_template,
    record_creation,
    template_approve,
    whatsapp_leg_reject,
)
from templates_app.models import Template, TemplateCategory
from templates_app.models import TemplateStatus as S
from templates_app.signals import template_in_use
from templates_app.validation import definition_normalize
from templates_app.whatsapp_rules import whatsapp_rejection_reason, whatsapp_rule_breaches

DEFAULT_LANGUAGE = "en_US"
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2,3})?$")
RESERVED_PREFIX = "sent_"
NAME_MAX = 100
DISPLAY_NAME_MAX = 200
EDITABLE = frozenset({S.DRAFT, S.REJECTED, S.APPROVED})
# Content frozen; submission accepted but a no-op ("only the reviewer can reinstate it").
FROZEN = frozenset({S.PAUSED, S.DISABLED, S.REVOKED, S.ARCHIVED})
LOCKED_MESSAGE = (
    "Template (except display name) cannot be updated unless it is in draft or rejected status"
)
READ_ONLY_MESSAGE = "This template is read-only. Only 'submit for review' is allowed."
IN_REVIEW_MESSAGE = "The template is in review: wait for the verdict before changing this."


# --- field rules -------------------------------------------------------------------------
def _check_name(name, errors: dict) -> str | None:
    if not isinstance(name, str) or not name.strip():
        errors["name"] = ["A name is required."]
        return None
    name = name.strip()
    if len(name) > NAME_MAX:
        errors["name"] = [f"At most {NAME_MAX} characters."]
    elif name.lower().startswith(RESERVED_PREFIX):
        errors["name"] = [f"Names starting with '{RESERVED_PREFIX}' are reserved."]
    elif any(not ch.isprintable() for ch in name):
        errors["name"] = ["Names can't contain control characters or line breaks."]
    return name


def _check_display_name(display_name, errors: dict) -> str | None:
    if not isinstance(display_name, str) or defn.unstorable(display_name):
        errors["display_name"] = ["Must be a string (without NUL characters)."]
        return None
    display_name = " ".join(display_name.split())
    if len(display_name) > DISPLAY_NAME_MAX:
        errors["display_name"] = [f"At most {DISPLAY_NAME_MAX} characters."]
    return display_name


def _check_category(category, errors: dict) -> str | None:
    if category not in TemplateCategory.values:
        errors["category"] = [f"Must be one of: {', '.join(TemplateCategory.values)}."]
        return None
    return category


def _check_language(language, errors: dict) -> str | None:
    if not isinstance(language, str) or not LANGUAGE_RE.match(language):
        errors["language"] = ['A language code like "en_US", "pt_BR" or "fr".']
        return None
    return language


def _normalize(definition, *, category: str, errors: dict) -> dict | None:
    try:
        return definition_normalize(definition, category=category)
    except ValidationFailed as failure:
        errors.update(failure.details or {})
        return None


def _free_name(customer, base: str) -> str:
    taken = set(
        Template.objects.filter(customer=customer, name__startswith=base).values_list(
            "name", flat=True
        )
    )
    if base not in taken:
        return base
    number = 2
    while f"{base}_{number}" in taken:
        number += 1
    return f"{base}_{number}"


def _insert(template: Template, *, requested_name: str | None, derived_name: str) -> None:
    """Insert with a name unique for the customer: the requested one (else 409), or the
    derived one with the first free `_2`, `_3`… suffix (retried if a concurrent insert won)."""
    for _attempt in range(10):
        template.name = requested_name or _free_name(template.customer, derived_name)
        try:
            with transaction.atomic():
                template.save(force_insert=True)
            return
        except IntegrityError:
            if requested_name:
                break
    raise TemplateNameTaken(
        details={"name": [f"You already have a template named '{template.name}'."]}
    )


# --- operations --------------------------------------------------------------------------
def template_create(
    customer,
    *,
    definition,
    category: str | None = None,
    language: str | None = None,
    name: str | None = None,
    display_name: str | None = None,
    submit_for_review: bool = False,
    creation_source: str | None = None,
    auto_reply_action: str = "",
    sandbox: bool = False,
    source: str = Source.API,
) -> Template:
    """A new template, DRAFT (or submitted for review). Without `name`, one is derived from
    the content ("order_shipped", then "order_shipped_2"…); without `category`, it is
    detected (`definition.detect_category`); `language` defaults to en_US."""
    require(acting(), "templates")
    errors: dict[str, list[str]] = {}
    category = _check_category(category, errors) if category is not None else None
    category = category or defn.detect_category(definition)
    language = _check_language(language, errors) if language is not None else DEFAULT_LANGUAGE
    requested_name = _check_name(name, errors) if name is not None else None
    display_name = _check_display_name(display_name, errors) if display_name is not None else ""
    normalized = _normalize(definition, category=category, errors=errors)
    if errors:
        raise ValidationFailed(details=errors)

    def create() -> Template:
        with transaction.atomic():
            template = Template(
                customer=customer,
                category=category,
                language=language,
                definition=normalized,
                display_name=display_name or defn.derive_display_name(normalized),
                creation_source=(creation_source or "from-api")[:50],
                auto_reply_action=auto_reply_action or "",
            )
            _insert(
                template, requested_name=requested_name, derived_name=defn.derive_name(normalized)
            )
            record_creation(template, source=source)
            if submit_for_review:
                _submit(template, source=source)
            prefetch_related_objects([template], "status_changes")
        return template

    return in_sandbox(sandbox, create)


def template_update(
    customer,
    template: Template,
    *,
    name: str | None = None,
    display_name: str | None = None,
    category: str | None = None,
    language: str | None = None,
    definition=None,
    submit_for_review: bool = False,
    auto_reply_action: str | None = None,
    sandbox: bool = False,
    source: str = Source.API,
) -> Template:
    """Partial update (None = leave as is), with the state rules of the module docstring.
    `auto_reply_action` ("" = none) marks the template as a keyword's auto-reply
    (docs/api/inbound.md#keywords); it changes no content, so any status allows it."""
    require(acting(), "templates")

    def update() -> Template:
        with transaction.atomic():
            locked = lock_template(template, customer=customer)
            if auto_reply_action is not None and auto_reply_action != locked.auto_reply_action:
                locked.auto_reply_action = auto_reply_action
                locked.save(update_fields=["auto_reply_action", "updated_at"])
            _update_locked(
                locked,
                name=name,
                display_name=display_name,
                category=category,
                language=language,
                definition=definition,
                submit_for_review=submit_for_review,
                source=source,
            )
            prefetch_related_objects([locked], "status_changes")
        return locked

    return in_sandbox(sandbox, update)


def _update_locked(
    template: Template,
    *,
    name,
    display_name,
    category,
    language,
    definition,
    submit_for_review: bool,
    source: str,
) -> None:
    given = {
        key: value
        for key, value in (
            ("definition", definition),
            ("category", category),
            ("language", language),
            ("name", name),
            ("display_name", display_name),
        )
        if value is not None
    }
    if template.name.startswith(RESERVED_PREFIX) and given:
        raise ValidationFailed(
            READ_ONLY_MESSAGE, details={key: [READ_ONLY_MESSAGE] for key in given}
        )
    content_errors: dict[str, list[str]] = {}
    new = {
        "category": template.category,
        "language": template.language,
        "definition": template.definition,
    }
    if category is not None:
        new["category"] = _check_category(category, content_errors) or template.category
    if language is not None:
        new["language"] = _check_language(language, content_errors) or template.language
    if definition is not None or new["category"] != template.category:
        new["definition"] = (
            _normalize(
                template.definition if definition is None else definition,
                category=new["category"],
                errors=content_errors,
            )
            or template.definition
        )
    changed = [key for key, value in new.items() if value != getattr(template, key)]
    content_touched = bool(changed or content_errors)
    if (content_touched or submit_for_review) and template.status == S.PENDING:
        fields = [key for key in ("definition", "category", "language") if key in given]
        fields += ["submit_for_review"] if submit_for_review else []
        raise TemplateInReview(details={key: [IN_REVIEW_MESSAGE] for key in fields})
    if content_touched and template.status not in EDITABLE:
        fields = [key for key in ("definition", "category", "language") if key in given]
        raise ValidationFailed(LOCKED_MESSAGE, details={key: [LOCKED_MESSAGE] for key in fields})
    errors = dict(content_errors)
    new_name = _check_name(name, errors) if name is not None else template.name
    new_display = _check_display_name(display_name, errors) if display_name is not None else None
    if errors:
        raise ValidationFailed(details=errors)
    for key in changed:
        setattr(template, key, new[key])
    if changed:  # the WhatsApp rules' verdict was about the old content
        template.whatsapp_rejection_reason = ""
    template.name = new_name
    if new_display is not None:
        template.display_name = new_display or defn.derive_display_name(template.definition)
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:
        raise TemplateNameTaken(
            details={"name": [f"You already have a template named '{new_name}'."]}
        ) from None
    if (changed and template.status == S.APPROVED) or (
        submit_for_review and template.status in EDITABLE
    ):
        _submit(template, source=source)


def _submit(template: Template, *, source: str) -> None:
    """Open the review: WhatsApp's template rules first (a breach rejects the WhatsApp leg
    and approves SMS), then the reviewer. Must run inside transaction.atomic on the locked
    (or new) row."""
    if template.status == S.PENDING:
        raise TemplateInReview(details={"submit_for_review": [IN_REVIEW_MESSAGE]})
    if template.status in FROZEN:
        return
    audit.record(template.customer_id, audit.TEMPLATE_SUBMITTED, target=template.name)
    if not review.needs_whatsapp_review(template):
        apply_status(
            template,
            S.APPROVED,
            source=Source.SYSTEM,
            reason="No WhatsApp content to review: approved on submission.",
        )
        return
    breaches = whatsapp_rule_breaches(template.definition, category=template.category)
    if breaches:
        # WhatsApp would refuse it: its leg is rejected here, SMS stays usable.
        whatsapp_leg_reject(template, reason=whatsapp_rejection_reason(breaches))
        return
    change = apply_status(template, S.PENDING, source=source)
    submission = review.review_template(template, review_id=change.pk)
    template.whatsapp_template_id = submission.whatsapp_template_id
    template.whatsapp_template_name = submission.whatsapp_template_name
    template.save(update_fields=["whatsapp_template_id", "whatsapp_template_name", "updated_at"])


def template_submit(customer, template: Template, *, source: str = Source.API) -> Template:
    """Submit for review (the dashboard's button; the API does it with `submit_for_review`)."""
    require(acting(), "templates")
    with transaction.atomic():
        locked = lock_template(template, customer=customer)
        _submit(locked, source=source)
    return locked


def _still_needed(template: Template) -> bool:
    """Does anything unfinished still need this template? The apps above answer through the
    `template_in_use` signal (messages waiting to go out, in the messaging app)."""
    answers = template_in_use.send(sender=Template, template=template)
    return any(needed for _receiver, needed in answers)


def template_delete(
    customer, template: Template, *, delete_from_meta: bool = False, sandbox: bool = False
) -> None:
    """Delete, unless unfinished messages use it (409 CONFLICT_007). `delete_from_meta` is
    accepted; the simulator holds nothing to delete on WhatsApp's side."""
    require(acting(), "templates")

    def delete() -> None:
        with transaction.atomic():
            locked = lock_template(template, customer=customer)
            if _still_needed(locked):
                raise TemplateInUse(
                    f"Template '{locked.name}' is used by messages that are still queued: "
                    "delete it once they are sent, or archive it.",
                )
            locked.delete()

    in_sandbox(sandbox, delete)


# --- demo data for `make run` --------------------------------------------------------------
def _var(var_id: int, name: str, sample: str) -> dict:
    return {
        "id": var_id,
        "name": name,
        "type": "variable",
        "props": {"variableType": "text", "sample": sample},
    }


DEMO_TEMPLATES = (
    {
        "name": "verification_code",
        "display_name": "Verification code",
        "category": TemplateCategory.AUTHENTICATION,
        "definition": {
            "body": {
                "multiChannel": {
                    "type": "text",
                    "template": "Use {{1:code}} to verify your Acme account.",
                    "variables": [_var(1, "code", "482913")],
                }
            },
            "buttons": [{"id": 1, "type": "OTP", "props": {"otpType": "COPY_CODE"}}],
            "authenticationConfig": {
                "addSecurityRecommendation": True,
                "codeExpirationMinutes": 10,
            },
        },
    },
    {
        "name": "order_shipped",
        "display_name": "Order shipped",
        "category": TemplateCategory.UTILITY,
        "definition": {
            "header": {"type": "text", "template": "Your order is on its way"},
            "body": {
                "multiChannel": {
                    "type": "text",
                    "template": "Hi {{1:name}}, your order {{2:order_id}} has shipped and will "
                    "arrive by {{3:delivery_date}}. Track it any time from your account.",
                    "variables": [
                        _var(1, "name", "Ana"),
                        _var(2, "order_id", "A-1001"),
                        _var(3, "delivery_date", "Friday, June 12"),
                    ],
                }
            },
            "footer": {"type": "text", "template": "Acme Shop"},
            "buttons": [
                {
                    "id": 1,
                    "type": "URL",
                    "props": {
                        "text": "Track order",
                        "urlType": "dynamic",
                        "url": "https://shop.example.com/track/{{1:order_id}}",
                        "variables": [_var(1, "order_id", "A-1001")],
                    },
                }
            ],
        },
    },
    {
        "name": "summer_sale",
        "display_name": "Summer sale",
        "category": TemplateCategory.MARKETING,
        "definition": {
            "header": {"type": "text", "template": "Summer sale at Acme"},
            "body": {
                "whatsapp": {
                    "type": "text",
                    "template": "Hi {{1:name}}, our summer sale is on! Enjoy {{2:discount}} off "
                    "everything until Sunday. Don't miss out.",
                    "variables": [_var(1, "name", "Ana"), _var(2, "discount", "20%")],
                },
                "sms": {
                    "type": "text",
                    "template": "Hi {{1:name}}, {{2:discount}} off everything until Sunday.",
                    "variables": [_var(1, "name", "Ana"), _var(2, "discount", "20%")],
                },
            },
            "footer": {"type": "text", "template": "Reply STOP to opt out"},
            "buttons": [
                {
                    "id": 1,
                    "type": "URL",
                    "props": {
                        "text": "Shop now",
                        "urlType": "static",
                        "url": "https://shop.example.com/sale",
                    },
                },
                {"id": 2, "type": "QUICK_REPLY", "props": {"text": "Stop promotions"}},
            ],
        },
    },
)


def templates_seed_demo(customer) -> list[Template]:
    """Create the demo templates (an OTP, an order update, a promotion) for `customer`,
    APPROVED. Idempotent: templates the customer already has (by name) are left alone."""
    existing = set(
        Template.objects.filter(
            customer=customer, name__in=[t["name"] for t in DEMO_TEMPLATES]
        ).values_list("name", flat=True)
    )
    created = []
    for spec in DEMO_TEMPLATES:
        if spec["name"] in existing:
            continue
        with transaction.atomic():
            template = template_create(
                customer, **spec, creation_source="seed", source=Source.SYSTEM
            )
            template.whatsapp_template_id = f"demo_{spec['name']}"
            template.whatsapp_template_name = review.whatsapp_template_name(template)
            template.save(update_fields=["whatsapp_template_id", "whatsapp_template_name"])
            created.append(template_approve(template, source=Source.SYSTEM, reason="Demo template"))
    return created
