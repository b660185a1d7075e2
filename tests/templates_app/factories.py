"""Builders for template tests (plain functions, RapidPro style)."""

import uuid

from templates_app import lifecycle
from templates_app.models import Template
from templates_app.services import template_create, template_submit

ORDER_TEXT = "Hi {{0:name}}, your order {{1:order_id}} has shipped and arrives soon."


def variable(var_id: int, name: str, sample: str | None = None, **extra) -> dict:
    props = {"variableType": "text"}
    if sample is not None:
        props["sample"] = sample
    return {"id": var_id, "name": name, "type": "variable", "props": props, **extra}


def content(
    text: str = ORDER_TEXT,
    names=("name", "order_id"),
    *,
    start: int = 0,
    samples: dict | None = None,
) -> dict:
    samples = samples or {}
    return {
        "type": "text",
        "template": text,
        "variables": [variable(start + i, name, samples.get(name)) for i, name in enumerate(names)],
    }


def definition(text: str = ORDER_TEXT, names=("name", "order_id"), **extra) -> dict:
    """A valid multiChannel definition; `extra` adds header/footer/buttons/…"""
    return {"body": {"multiChannel": content(text, names)}, **extra}


def pair_definition(
    *,
    sms: str = "Hi {{0:name}}, your code is {{1:code}}",
    whatsapp: str = "Hello {{0:name}}, here is your code {{1:code}} for today.",
    names=("name", "code"),
    **extra,
) -> dict:
    return {"body": {"sms": content(sms, names), "whatsapp": content(whatsapp, names)}, **extra}


def sms_only_definition(text: str = "Your parcel {{0:tracking}} is out for delivery") -> dict:
    return {"body": {"sms": content(text, ("tracking",))}}


def make_template(
    customer, *, status: str = Template.Status.DRAFT, definition_=None, **overrides
) -> Template:
    """A template in `status`, reached the way it is in production where there is a way
    (submission, operator actions); DISABLED/REVOKED only come from WhatsApp, so are set."""
    overrides.setdefault("category", "UTILITY")
    template = template_create(customer, definition=definition_ or definition(), **overrides)
    if status == Template.Status.PENDING:
        return template_submit(customer, template)
    if status == Template.Status.ARCHIVED:
        return lifecycle.template_archive(template)
    if status == Template.Status.APPROVED:
        return lifecycle.template_approve(template)
    if status == Template.Status.PAUSED:
        return lifecycle.template_pause(lifecycle.template_approve(template))
    if status == Template.Status.REJECTED:
        return lifecycle.template_reject(template_submit(customer, template), reason="Not allowed")
    if status in (Template.Status.DISABLED, Template.Status.REVOKED):
        Template.objects.filter(pk=template.pk).update(status=status)
        template.refresh_from_db()
    return template


def template_path_ids(customer) -> dict:
    """Path parameters of a fresh template of `customer` (the BOLA sweep's builder)."""
    return {"id": str(make_template(customer, name=f"bola_{uuid.uuid4().hex[:8]}").pk)}
