"""Message history and the message page: the same selectors as GET /v3/messages."""

from urllib.parse import urlencode

from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from billing.dashboard.access import customer_required
from contacts.selectors import contact_get
from messaging.dashboard.forms import MessageFilterForm
from messaging.dashboard.playground_views import status_row
from messaging.selectors import (
    EXPORT_COLUMNS,
    message_activities_and_refunded,
    message_export_rows,
    message_fallbacks_taken,
    message_get,
    message_outcome_description,
    messages_for,
)
from messaging.services import CANCELLABLE, RESENDABLE, message_cancel, message_resend
from messaging.statuses import MessageStatus
from sent_project.dashboard import csv_response, go_to, list_page
from sent_project.errors import SentError
from templates_app.selectors import templates_for

LIST = "messaging/message_list.html"
DETAIL = "messaging/message_detail.html"


@customer_required
@require_GET
def message_list(request) -> HttpResponse:
    customer = request.customer
    filters = MessageFilterForm(request.GET, statuses=MessageStatus.choices)
    query = filters.cleaned_data if filters.is_valid() else {}
    found = messages_for(customer, **filters.selector_fields())
    contact = None
    if query.get("contact"):
        try:
            contact = contact_get(customer, contact_id=query["contact"])
        except SentError:
            contact = None
    page = list_page(request, found)
    context = {
        "page": page,
        "export_url": reverse("messaging:message_export") + "?" + urlencode(page.query),
        "filters": filters,
        "filtered": any(query.values()) if query else False,
        "templates": templates_for(customer).only("id", "name").prefetch_related(None)[:200],
        "contact": contact,
    }
    if request.htmx.target == "messages":
        return render(request, f"{LIST}#messages", context)
    return render(request, LIST, context)


@customer_required
@require_GET
def message_export(request) -> HttpResponse:
    """The history as CSV, searched and filtered as the page is (its query string), streamed:
    docs/dashboard.md#message-export."""
    filters = MessageFilterForm(request.GET, statuses=MessageStatus.choices)
    found = messages_for(request.customer, **filters.selector_fields())
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return csv_response(f"messages-{stamp}.csv", EXPORT_COLUMNS, message_export_rows(found))


@customer_required
@require_GET
def message_detail(request, message_id) -> HttpResponse:
    message = message_get(request.customer, message_id=message_id)
    activities, refunded = message_activities_and_refunded(message, limit=200)
    context = {
        "message": message,
        "summary": message_outcome_description(message, activities),
        "fallbacks": message_fallbacks_taken(activities),
        "row": status_row(message),
        "activities": activities,
        "refunded": refunded,
        "can_resend": message.status in RESENDABLE,
        "can_cancel": message.status in CANCELLABLE,
    }
    if request.htmx.target == "message-live":
        return render(request, f"{DETAIL}#message-live", context)
    return render(request, DETAIL, context)


@customer_required
@require_POST
def message_resend_view(request, message_id) -> HttpResponse:
    message_get(request.customer, message_id=message_id)  # another account's: 404
    try:
        resent = message_resend(request.customer, message_id=message_id)
    except SentError as error:
        flash.error(request, error.message)
        return go_to(request, "messaging:message_detail", message_id)
    flash.success(request, "Sent again as a new message.")
    return go_to(request, "messaging:message_detail", resent.pk)


@customer_required
@require_POST
def message_cancel_view(request, message_id) -> HttpResponse:
    message_get(request.customer, message_id=message_id)  # another account's: 404
    try:
        message_cancel(request.customer, message_id=message_id)
    except SentError as error:
        flash.error(request, error.message)
    else:
        flash.success(request, "Cancelled and refunded.")
    return go_to(request, "messaging:message_detail", message_id)
