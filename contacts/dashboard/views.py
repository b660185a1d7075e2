"""Contact pages: list with live search, inline create, contact page, delete. Every view calls
contacts.services / contacts.selectors, as the API does (source: dashboard)."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from billing.dashboard.access import customer_required
from contacts.dashboard.forms import (
    ContactCreateForm,
    ContactDefaultChannelForm,
    ContactFilterForm,
    ContactMetadataForm,
    ContactNameForm,
)
from contacts.models import Source
from contacts.selectors import (
    consent_events_for,
    contact_get,
    contacts_for,
    number_lookup,
)
from contacts.services import (
    contact_create,
    contact_delete,
    contact_refresh_channels,
    contact_update,
)

# The contact page shows the contact's messages: a page that combines apps, allowed to read the
# selectors of the app above (docs/architecture.md).
from messaging.selectors import contact_message_summary, messages_for
from sent_project.dashboard import form_add_sent_error, go_to, list_page
from sent_project.errors import SentError

LIST = "contacts/contact_list.html"
DETAIL = "contacts/contact_detail.html"
RECENT_MESSAGES = 5


@customer_required
@require_GET
def contact_list(request) -> HttpResponse:
    filters = ContactFilterForm(request.GET)
    query = filters.cleaned_data if filters.is_valid() else {}
    channel = query.get("channel", "")
    contacts = contacts_for(
        request.customer,
        search=query.get("search", ""),
        channel=channel if channel in ("sms", "whatsapp") else "",
        opted_out=channel == "opted_out",
    )
    context = {
        "page": list_page(request, contacts),
        "filters": filters,
        "filtered": bool(query.get("search") or channel),
        "form": ContactCreateForm(),
    }
    if request.htmx.target == "contacts":
        return render(request, f"{LIST}#contacts", context)
    return render(request, LIST, context)


@customer_required
@require_POST
def contact_create_view(request) -> HttpResponse:
    form = ContactCreateForm(request.POST)
    result = None
    if form.is_valid():
        try:
            result = contact_create(
                request.customer,
                phone_number=form.cleaned_data["phone_number"],
                name=form.cleaned_data["name"],
                source=Source.DASHBOARD,
            )
        except SentError as error:
            form_add_sent_error(form, error)
    if not request.htmx:
        if result:
            return redirect("contacts:contact_detail", contact_id=result[0].pk)
        context = {"form": form, "page": list_page(request, contacts_for(request.customer))}
        return render(request, LIST, {**context, "filters": ContactFilterForm()})
    if result is None:
        return render(request, f"{LIST}#create-form", {"form": form})
    contact, created = result
    context = {"form": ContactCreateForm(), "added": contact, "created": created}
    response = render(request, f"{LIST}#create-form", context)
    return trigger_client_event(response, "contactsChanged") if created else response


@customer_required
@require_GET
def contact_lookup(request) -> HttpResponse:
    """What a typed number is, as you type it (nothing is created)."""
    raw = request.GET.get("phone_number", "").strip()[:64]
    facts = number_lookup(raw, default_region=request.customer.default_region) if raw else None
    return render(request, f"{LIST}#phone-hint", {"facts": facts})


def _detail_context(request, contact, **extra) -> dict:
    expires = contact.whatsapp_window_expires_at
    return {
        "contact": contact,
        # WhatsApp's customer-service window (docs/api/inbound.md#the-whatsapp-24-hour-window)
        "whatsapp_window_open": expires is not None and expires > timezone.now(),
        "channel_form": ContactDefaultChannelForm(contact=contact),
        "metadata_form": ContactMetadataForm(contact=contact),
        "name_form": ContactNameForm(contact=contact),
        "consent_events": list(consent_events_for(contact).order_by("-id")[:20]),
        "summary": contact_message_summary(contact),
        "recent_messages": list(
            messages_for(request.customer, contact_id=contact.pk)[:RECENT_MESSAGES]
        ),
        **extra,
    }


@customer_required
@require_GET
def contact_detail(request, contact_id) -> HttpResponse:
    contact = contact_get(request.customer, contact_id=contact_id)
    return render(request, DETAIL, _detail_context(request, contact))


@customer_required
@require_POST
def contact_delete_view(request, contact_id) -> HttpResponse:
    contact = contact_delete(request.customer, contact_id=contact_id, source=Source.DASHBOARD)
    messages.success(request, f"Deleted the contact {contact.format_international}.")
    if request.htmx.target == f"contact-{contact.pk}":
        return HttpResponse("")  # the row goes away; the confirmation comes along (#flash)
    return go_to(request, "contacts:contact_list")


def _section(request, contact, partial: str, **extra) -> HttpResponse:
    """Re-render one section of the contact page (htmx), or the whole page."""
    context = _detail_context(request, contact, **extra)
    if request.htmx:
        return render(request, f"{DETAIL}#{partial}", context)
    return render(request, DETAIL, context)


@customer_required
@require_POST
def contact_opt_out(request, contact_id) -> HttpResponse:
    contact = contact_update(
        request.customer,
        contact_id=contact_id,
        opt_out=request.POST.get("opt_out") == "true",
        source=Source.DASHBOARD,
    )
    if contact.opt_out:
        messages.success(
            request, f"Opted out {contact.format_international}: Sent will not message it."
        )
    else:
        messages.success(request, f"Opted {contact.format_international} back in.")
    return _section(request, contact, "consent")


@customer_required
@require_POST
def contact_default_channel(request, contact_id) -> HttpResponse:
    return _save_section(request, contact_id, ContactDefaultChannelForm, "channels", "channel")


@customer_required
@require_POST
def contact_refresh(request, contact_id) -> HttpResponse:
    contact = contact_get(request.customer, contact_id=contact_id)
    contact = contact_refresh_channels(contact, force=True)
    return _section(request, contact, "channels", channel_checked=True)


@customer_required
@require_POST
def contact_metadata(request, contact_id) -> HttpResponse:
    return _save_section(request, contact_id, ContactMetadataForm, "metadata", "metadata")


@customer_required
@require_POST
def contact_name(request, contact_id) -> HttpResponse:
    return _save_section(request, contact_id, ContactNameForm, "name", "name")


def _save_section(request, contact_id, form_class, partial: str, name: str) -> HttpResponse:
    """Save one section's form with contact_update and re-render the section: the form with
    the service's errors next to its field, or afresh from the saved contact and "Saved."
    (context `<name>_form`, `<name>_saved`)."""
    contact = contact_get(request.customer, contact_id=contact_id)
    form = form_class(request.POST, contact=contact)
    saved = False
    if form.is_valid():
        try:
            contact = contact_update(
                request.customer,
                contact_id=contact.pk,
                source=Source.DASHBOARD,
                **form.cleaned_data,
            )
        except SentError as error:
            form_add_sent_error(form, error)
        else:
            form, saved = form_class(contact=contact), True
    return _section(request, contact, partial, **{f"{name}_form": form, f"{name}_saved": saved})
