"""Webhook pages: endpoints, their secret, test sends and the delivery log. Every view calls
messaging.webhooks.services / selectors, as the API does."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import (
    push_url,
    reselect,
    reswap,
    retarget,
    trigger_client_event,
)

from billing.dashboard.access import customer_required
from messaging.dashboard.forms import WebhookFilterForm, WebhookForm, WebhookTestForm
from messaging.models import DeliveryStatus
from messaging.webhooks import selectors, services
from sent_project.dashboard import form_add_sent_error, go_to, list_page
from sent_project.errors import SentError

LIST = "messaging/webhook_list.html"
FORM = "messaging/webhook_form.html"
DETAIL = "messaging/webhook_detail.html"
# A delivery in one of these is still moving: its row polls until it isn't.
MOVING = [DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value]


@customer_required
@require_GET
def webhook_list(request) -> HttpResponse:
    filters = WebhookFilterForm(request.GET)
    query = filters.cleaned_data if filters.is_valid() else {}
    endpoints = selectors.webhooks_for(request.customer, **filters.selector_fields())
    context = {
        "page": list_page(request, endpoints),
        "search": query.get("search", ""),
        "status": query.get("status", ""),
    }
    if request.htmx.target == "webhooks":
        return render(request, f"{LIST}#webhooks", context)
    return render(request, LIST, context)


@customer_required
@require_http_methods(["GET", "POST"])
def webhook_create(request) -> HttpResponse:
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = services.webhook_endpoint_create(
                request.customer, **form.service_fields()
            )
        except SentError as error:
            form_add_sent_error(form, error)
        else:
            return _detail_with_secret(request, endpoint, secret, created=True)
    if request.htmx:
        return render(request, f"{FORM}#webhook-form", {"form": form})
    return render(request, FORM, {"form": form})


def _detail_with_secret(request, endpoint, secret: str, *, created: bool) -> HttpResponse:
    """The endpoint's page showing its new secret — rendered here, never stored, so it is
    shown exactly once. An htmx form gets the whole <main> swapped and the URL updated."""
    response = render(request, DETAIL, _detail_context(request, endpoint, secret, created))
    if request.htmx:
        url = reverse("messaging:webhook_detail", args=[endpoint.pk])
        push_url(reselect(reswap(retarget(response, "main"), "outerHTML"), "main"), url)
    return response


def _detail_context(request, endpoint, secret: str = "", created: bool = False) -> dict:
    return {
        "endpoint": endpoint,
        "page": list_page(request, selectors.deliveries_for(endpoint), size=20),
        "test_form": WebhookTestForm(endpoint=endpoint),
        "secret": secret,
        "created": created,
        "moving": MOVING,
    }


@customer_required
@require_GET
def webhook_detail(request, webhook_id) -> HttpResponse:
    endpoint = selectors.webhook_get(request.customer, webhook_id)
    context = _detail_context(request, endpoint)
    if request.htmx.target == "deliveries":
        return render(request, f"{DETAIL}#deliveries", context)
    return render(request, DETAIL, context)


@customer_required
@require_http_methods(["GET", "POST"])
def webhook_edit(request, webhook_id) -> HttpResponse:
    endpoint = selectors.webhook_get(request.customer, webhook_id)
    form = WebhookForm(request.POST or None, endpoint=endpoint)
    if request.method == "POST" and form.is_valid():
        try:
            services.webhook_endpoint_update(request.customer, endpoint, **form.service_fields())
        except SentError as error:
            form_add_sent_error(form, error)
        else:
            messages.success(request, "Webhook saved.")
            return go_to(request, "messaging:webhook_detail", endpoint.pk)
    context = {"form": form, "endpoint": endpoint}
    if request.htmx:
        return render(request, f"{FORM}#webhook-form", context)
    return render(request, FORM, context)


@customer_required
@require_POST
def webhook_toggle(request, webhook_id) -> HttpResponse:
    endpoint = selectors.webhook_get(request.customer, webhook_id)
    services.webhook_endpoint_set_active(
        request.customer, endpoint, is_active=not endpoint.is_active
    )
    if endpoint.is_active:
        messages.success(request, "Webhook enabled: new events will be delivered.")
    else:
        messages.warning(request, "Webhook disabled: events are not delivered until you enable it.")
    return go_to(request, "messaging:webhook_detail", endpoint.pk)


@customer_required
@require_POST
def webhook_delete(request, webhook_id) -> HttpResponse:
    endpoint = selectors.webhook_get(request.customer, webhook_id)
    services.webhook_endpoint_delete(request.customer, endpoint)
    messages.success(request, f"Deleted the webhook {endpoint}.")
    return go_to(request, "messaging:webhook_list")


@customer_required
@require_POST
def webhook_rotate_secret(request, webhook_id) -> HttpResponse:
    endpoint = selectors.webhook_get(request.customer, webhook_id)
    secret = services.webhook_secret_rotate(request.customer, endpoint)
    if request.htmx:
        context = {"endpoint": endpoint, "secret": secret}
        return render(request, f"{DETAIL}#signing-secret", context)
    return render(request, DETAIL, _detail_context(request, endpoint, secret))


@customer_required
@require_POST
def webhook_test(request, webhook_id) -> HttpResponse:
    endpoint = selectors.webhook_get(request.customer, webhook_id)
    form = WebhookTestForm(request.POST, endpoint=endpoint)
    result = None
    if form.is_valid():
        try:
            result = services.webhook_test_send(
                request.customer, endpoint, event_type=form.cleaned_data["event_type"]
            )
        except SentError as error:
            form_add_sent_error(form, error)
    context = {"endpoint": endpoint, "test_form": form, "test_result": result}
    if not request.htmx:
        return render(request, DETAIL, {**_detail_context(request, endpoint), **context})
    response = render(request, f"{DETAIL}#webhook-test", context)
    if not result:
        return response
    # The attempt moved "Last attempt" (and "Last success"): the settings card, out of band.
    endpoint.refresh_from_db()
    response.content += render(
        request, f"{DETAIL}#webhook-settings", {"endpoint": endpoint, "oob": True}
    ).content
    return trigger_client_event(response, "deliveriesChanged")


@customer_required
@require_GET
def webhook_delivery_row(request, webhook_id, delivery_id) -> HttpResponse:
    """One row of the delivery log (polled while the delivery is still moving)."""
    endpoint = selectors.webhook_get(request.customer, webhook_id)
    delivery = selectors.delivery_get(endpoint, delivery_id)
    context = {"endpoint": endpoint, "delivery": delivery, "moving": MOVING}
    return render(request, f"{DETAIL}#delivery-row", context)


@customer_required
@require_POST
def webhook_redeliver(request, webhook_id, delivery_id) -> HttpResponse:
    endpoint = selectors.webhook_get(request.customer, webhook_id)
    delivery = selectors.delivery_get(endpoint, delivery_id)
    error = None
    try:
        delivery = services.webhook_delivery_redeliver(request.customer, endpoint, delivery)
    except SentError as refused:
        error = refused.message
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, "Redelivery queued.")
        return redirect("messaging:webhook_detail", webhook_id=endpoint.pk)
    context = {"endpoint": endpoint, "delivery": delivery, "moving": MOVING, "row_error": error}
    return render(request, f"{DETAIL}#delivery-row", context)
