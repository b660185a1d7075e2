"""The send playground: compose (template or free text, variables prefilled with samples),
pick recipients, preview and price the send, send it, and watch each message live.

The preview is `message_send` itself, in sandbox mode inside a transaction that is rolled
back: the routing, the rendering, the prices, the opted-out and unreachable recipients are
what the real send will do, and nothing is written. What it can't know is whether the first
channel reaches the contact: a message the provider can't deliver there falls back to the
next channel at that channel's price (priced by the send itself, `Message.alternatives`), so
the preview shows each fallback and its price, and the most the send can cost."""

import uuid
from dataclasses import replace
from decimal import Decimal

from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from billing import audit
from billing.dashboard.access import customer_required
from contacts.models import Contact
from contacts.selectors import contacts_for
from messaging.dashboard.forms import ContactPickerForm, PlaygroundForm, picked_ids
from messaging.models import Message
from messaging.selectors import message_get
from messaging.services import message_send
from messaging.statuses import RANK, TERMINAL, MessageStatus, is_terminal
from sent_project.dashboard import form_add_sent_error
from sent_project.errors import SentError
from sent_project.sandbox import in_sandbox
from templates_app.definition import variable_samples
from templates_app.models import Template
from templates_app.selectors import templates_for

PAGE = "messaging/playground.html"
# The fields the form checks by itself (the others only the send does, with recipients).
FORM_CHECKED = ["mode", "template", "text", "send_at", "sandbox"]
PICKER_SIZE = 8


def send_preview(customer, request) -> list[Message]:
    """What `request` would do — the planned messages — with nothing written: the send
    itself, in sandbox (no charge, the simulator only), rolled back."""
    sandboxed = replace(request, sandbox=True)
    return in_sandbox(True, lambda: message_send(customer, request=sandboxed)).messages


def is_final(message: Message) -> bool:
    """No further status will come: polling stops (DELIVERED is the end on SMS)."""
    return is_terminal(message.status) or (
        message.status == MessageStatus.DELIVERED and message.channel != "whatsapp"
    )


def status_row(message: Message) -> dict:
    """A message's live row: its steps so far (QUEUED → SENT → DELIVERED → READ on
    WhatsApp), whether it is final, and the message."""
    path = [MessageStatus.QUEUED, MessageStatus.SENT, MessageStatus.DELIVERED]
    if message.channel == "whatsapp":
        path.append(MessageStatus.READ)
    rank = RANK.get(message.status, -1)
    steps = [{"name": step, "reached": rank >= RANK[step]} for step in path]
    stopped = message.status in TERMINAL
    return {"message": message, "final": is_final(message), "steps": steps, "stopped": stopped}


def _picked(customer, ids: list[str]) -> list[Contact]:
    """The customer's contacts among `ids` (others' and malformed ones are left out here;
    message_send names them), in the order given."""
    valid = []
    for value in ids:
        try:
            valid.append(uuid.UUID(value))
        except ValueError:
            continue
    found = contacts_for(customer).filter(pk__in=valid).in_bulk() if valid else {}
    return [found[pk] for pk in dict.fromkeys(valid) if pk in found]


def _form(request, data=None) -> PlaygroundForm:
    customer = request.customer
    source = data or request.GET
    templates = list(templates_for(customer, statuses=[Template.Status.APPROVED])[:200])
    chosen = source.get("template", "")
    template = next((t for t in templates if str(t.pk) == chosen), None)
    samples = variable_samples(template.definition) if template else {}
    initial = {"template": str(template.pk)} if template else {}
    return PlaygroundForm(
        data,
        templates=templates,
        template=template,
        samples=samples,
        picked=_picked(customer, picked_ids(source)),
        initial=initial,
    )


def _add_send_errors(form: PlaygroundForm, error: SentError, to: list[str]) -> None:
    """The service's details on the playground's fields: `to.3` names the recipient."""
    for path, messages in (error.details or {}).items():
        head, _, rest = path.partition(".")
        for message in messages:
            if head == "to" and rest.isdigit() and int(rest) < len(to):
                given = to[int(rest)]
                form.add_error("numbers", message if given in message else f"{given}: {message}")
            elif head == "to":
                form.add_error("numbers", message)
            elif head == "template" and rest.startswith("parameters."):
                field = f"param_{rest.removeprefix('parameters.')}"
                form.add_error(field if field in form.fields else None, message)
            elif head in ("template", "text", "channel", "numbers"):
                form.add_error(head, message)
            else:
                form.add_error(None, message)
    if not error.details:
        form_add_sent_error(form, error)


@customer_required
@require_GET
def playground(request) -> HttpResponse:
    form = _form(request)
    if request.htmx.target == "composer":  # another template chosen: its variables
        response = render(request, f"{PAGE}#composer", {"form": form})
        return trigger_client_event(response, "composerChanged", after="settle")  # re-preview
    return render(request, PAGE, {"form": form, "customer": request.customer})


def _fallbacks(message: Message) -> list[dict]:
    """The channels `message` falls back to, in order, each with the price the send put on
    it (the same price book; dispatch charges exactly that on a fallback)."""
    return [
        {"channel": channel, "price": Decimal(message.alternatives[channel]["price"])}
        for channel in message.fallbacks
        if channel in message.alternatives
    ]


def _quote(messages: list[Message]) -> dict:
    going = [m for m in messages if m.status == MessageStatus.QUEUED]
    bodies = {}
    rows, most = [], Decimal("0")
    for message in messages:
        fallbacks = _fallbacks(message) if message.status == MessageStatus.QUEUED else []
        highest = max([message.price, *(f["price"] for f in fallbacks)])
        if message.status == MessageStatus.QUEUED:
            bodies.setdefault(message.channel, message)
            most += highest
        rows.append({"message": message, "fallbacks": fallbacks, "at_most": highest})
    total = sum((m.price for m in going), Decimal("0"))
    return {
        "messages": messages,
        "rows": rows,
        "going": len(going),
        "total": total,
        "at_most": most,
        "may_fall_back": most != total or any(row["fallbacks"] for row in rows),
        "samples": list(bodies.values()),
    }


@customer_required
@require_POST
def playground_preview(request) -> HttpResponse:
    form = _form(request, request.POST)
    context = {"form": form, "customer": request.customer, "incomplete": form.is_incomplete()}
    if form.is_valid() and not context["incomplete"]:
        send = form.send_request()
        try:
            context["quote"] = _quote(send_preview(request.customer, send))
            context["sandbox"] = send.sandbox
        except SentError as error:
            _add_send_errors(form, error, send.to)
    response = render(request, f"{PAGE}#preview", context)
    # The fields' errors as they are now, so an error a refused send left next to a field goes
    # away once the field is fixed (static/js/sent.js). Checked in full, every field; while
    # the send is incomplete (no recipient yet), only those the form itself checks.
    names = FORM_CHECKED if context["incomplete"] else list(form.fields)
    detail = {
        "form": "playground-form",
        "errors": {
            form[name].auto_id: " ".join(messages)
            for name, messages in form.errors.items()
            if name in names
        },
    }
    if context["incomplete"]:
        detail["checked"] = [form[name].auto_id for name in names]
    return trigger_client_event(response, "fieldsChecked", detail)


@customer_required
@require_POST
def playground_send(request) -> HttpResponse:
    """Send, then the live rows of the messages; a refused send re-renders the form with
    each error next to its field (htmx: the form's fields and, out of band, the summary)."""
    form = _form(request, request.POST)
    context = {"form": form, "customer": request.customer}
    if form.is_valid():
        send = form.send_request()
        try:
            result = message_send(request.customer, request=send)
        except SentError as error:
            _add_send_errors(form, error, send.to)
        else:
            audit.record(
                request.customer,
                audit.DASHBOARD_SEND,
                target=", ".join(str(to) for to in send.to),
                detail={"messages": len(result.messages), "sandbox": bool(send.sandbox)},
            )
            if not request.htmx:  # without JavaScript: to the list (a reload can't resend)
                flash.success(request, f"Sent {len(result.messages)} message(s).")
                return redirect("messaging:message_list")
            context["sent"] = [status_row(message) for message in result.messages]
            context["sandbox"] = send.sandbox
            return render(request, f"{PAGE}#sent", context)
    if not request.htmx:
        return render(request, PAGE, context)
    response = render(request, f"{PAGE}#refused", context)
    return reswap(retarget(response, "#playground-fields"), "outerHTML")


@customer_required
@require_GET
def playground_contacts(request) -> HttpResponse:
    """Contacts matching what was typed in the picker (any number format, or metadata)."""
    picker = ContactPickerForm(request.GET)
    search = picker.cleaned_data["q"] if picker.is_valid() else ""
    found = list(contacts_for(request.customer, search=search)[:PICKER_SIZE]) if search else []
    return render(request, f"{PAGE}#picker-results", {"found": found, "q": search})


@customer_required
@require_GET
def message_status(request, message_id) -> HttpResponse:
    """One message's live status row (polled until it is final)."""
    message = message_get(request.customer, message_id=message_id)
    return render(request, f"{PAGE}#message-status", {"row": status_row(message)})
