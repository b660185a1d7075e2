"""The send playground: compose (template or free text, variables prefilled with samples),
pick recipients, preview and price the send, send it, and watch each message live.

The preview is `message_send` itself, in sandbox mode inside a transaction that is rolled
back: the routing, the rendering, the prices, the opted-out and unreachable recipients are
exactly what the real send will do, and nothing is written."""

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


def _quote(messages: list[Message]) -> dict:
    going = [m for m in messages if m.status == MessageStatus.QUEUED]
    bodies = {}
    for message in going:
        bodies.setdefault(message.channel, message)
    return {
        "messages": messages,
        "going": len(going),
        "total": sum((m.price for m in going), Decimal("0")),
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
    return render(request, f"{PAGE}#preview", context)


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
