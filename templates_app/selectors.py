"""Reads of templates, always starting from the customer."""

import uuid

from django.db.models import Q, QuerySet

from billing.caching import customer_cached
from sent_project.errors import ValidationFailed
from templates_app.errors import TemplateNotApproved, TemplateNotFound
from templates_app.models import Template, TemplateStatus


def templates_for(
    customer,
    *,
    statuses: list[str] | None = None,
    categories: list[str] | None = None,
    language: str | None = None,
    search: str = "",
) -> QuerySet[Template]:
    """The customer's templates, newest first, with their status history prefetched.
    `search` matches the name, the display name and the text of the definition."""
    templates = Template.objects.filter(customer=customer).prefetch_related("status_changes")
    if statuses:
        templates = templates.filter(status__in=statuses)
    if categories:
        templates = templates.filter(category__in=categories)
    if language:
        templates = templates.filter(language=language)
    if search.strip():
        templates = templates.filter(search_filter(search))
    return templates


def search_filter(search: str) -> Q:
    """`search`: part of the name, the display name or the text of the definition."""
    search = search.strip()
    return (
        Q(name__icontains=search)
        | Q(display_name__icontains=search)
        | Q(content_text__icontains=search)
    )


def template_get(customer, template_id) -> Template:
    """The customer's template, or 404 RESOURCE_002 (missing and other tenants' alike)."""
    try:
        template_id = uuid.UUID(str(template_id))
    except ValueError:
        raise TemplateNotFound() from None
    template = (
        Template.objects.filter(customer=customer, pk=template_id)
        .prefetch_related("status_changes")
        .first()
    )
    if template is None:
        raise TemplateNotFound()
    return template


def template_for_send(
    customer, *, template_id=None, name: str | None = None, channels=()
) -> Template:
    """The template a send names (by id or by name, exactly one), if it may be sent, on each
    of the `channels` the send names explicitly (others are ignored).

    Missing, or another customer's → 404 RESOURCE_002. Not APPROVED → 400 BUSINESS_005
    (`details.template`): only approved templates send; an SMS-only template is approved on
    submission, a WhatsApp-capable one once the WhatsApp review approves it. An APPROVED
    template whose WhatsApp leg was rejected sends on SMS only: naming `whatsapp` is
    400 BUSINESS_005 too, and routing leaves WhatsApp out (`Template.sendable_channels`).

    For an API request the template comes from the send path's cache while none of the
    customer's templates changed (`billing.caching`; keyed by the customer's id).
    """
    if (template_id is None) == (name is None):
        raise ValidationFailed(details={"template": ["Give the template's id or its name."]})
    if template_id is not None:
        template = customer_cached(
            customer, "template", f"id={template_id}", lambda: template_get(customer, template_id)
        )
    else:
        template = customer_cached(
            customer,
            "template",
            f"name={name}",
            lambda: Template.objects.filter(customer=customer, name=name).first(),
        )
        if template is None:
            raise TemplateNotFound(f"No template named '{name}'")
    if template.status != TemplateStatus.APPROVED:
        raise TemplateNotApproved(
            f"Template '{template.name}' is {template.status}: only APPROVED templates can be sent",
            details={"template": [f"The template is {template.status}, not APPROVED."]},
        )
    if "whatsapp" in channels and template.whatsapp_status == TemplateStatus.REJECTED:
        raise TemplateNotApproved(
            f"Template '{template.name}' is not approved for WhatsApp: it sends on SMS only",
            details={
                "template": [
                    "WhatsApp rejected this template's WhatsApp content "
                    f"({template.whatsapp_rejection_reason}). Send it on SMS, or fix the "
                    "text and submit it again."
                ]
            },
        )
    return template


def auto_reply_template(customer, action: str) -> tuple[str, str] | None:
    """(id, SMS text) of the customer's newest approved template whose `auto_reply_action`
    is `action`, if there is one: the reply to an inbound keyword. Its text is sent as is
    (an auto-reply template has no variables to fill)."""
    from templates_app.rendering import render_template

    template = (
        Template.objects.filter(
            customer=customer, auto_reply_action=action, status=TemplateStatus.APPROVED
        )
        .order_by("-updated_at")
        .first()
    )
    if template is None:
        return None
    try:
        rendered = render_template(template, channel="sms", parameters={})
    except Exception:  # noqa: BLE001 - a template that needs parameters can't auto-reply
        return None
    return str(template.pk), rendered.body
