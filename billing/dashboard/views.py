from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.dashboard.access import customer_required
from billing.dashboard.forms import (
    ApiKeyCreateForm,
    LowBalanceThresholdForm,
    PriceFilterForm,
    QuietHoursForm,
    TopUpRequestForm,
)
from billing.models import ApiKey, Channel
from billing.pricing import PriceBook
from billing.selectors import api_keys_for, ledger_for
from billing.services import (
    api_key_create,
    api_key_revoke,
    balance_top_up_request,
    customer_set_low_balance_threshold,
    customer_set_quiet_hours,
)
from sent_project.dashboard import list_page
from sent_project.errors import SentError


@customer_required
@require_http_methods(["GET", "POST"])
def api_key_list(request: HttpRequest) -> HttpResponse:
    created = None
    form = ApiKeyCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = api_key_create(request.customer, name=form.cleaned_data["name"])
        form = ApiKeyCreateForm()
    context = {"form": form, "created": created, "api_keys": api_keys_for(request.customer)}
    if request.htmx:
        return render(request, "billing/api_key_list.html#api-keys", context)
    return render(request, "billing/api_key_list.html", context)


@customer_required
@require_POST
def api_key_revoke_view(request: HttpRequest, api_key_id) -> HttpResponse:
    get_object_or_404(ApiKey, customer=request.customer, pk=api_key_id)
    api_key = api_key_revoke(request.customer, api_key_id=api_key_id)
    context = {"form": ApiKeyCreateForm(), "api_keys": api_keys_for(request.customer)}
    messages.success(request, f"Revoked the API key {api_key.name}: it no longer works.")
    if request.htmx:  # the list, and the confirmation with it (#flash)
        return render(request, "billing/api_key_list.html#api-keys", context)
    return redirect("billing:api_key_list")


@customer_required
@require_http_methods(["GET", "POST"])
def billing_overview(request: HttpRequest) -> HttpResponse:
    customer = request.customer
    form = LowBalanceThresholdForm(
        request.POST or None, initial={"low_balance_threshold": customer.low_balance_threshold}
    )
    if request.method == "POST" and form.is_valid():
        customer_set_low_balance_threshold(
            customer, threshold=form.cleaned_data["low_balance_threshold"]
        )
        messages.success(request, "Low-balance threshold saved.")
        return redirect("billing:billing")
    page = list_page(request, ledger_for(customer))
    context = {
        "customer": customer,
        "form": form,
        "page": page,
        "quiet_form": _quiet_form(customer),
        "top_up_form": TopUpRequestForm(),
    }
    if request.htmx.target == "ledger":
        return render(request, "billing/billing.html#ledger", context)
    return render(request, "billing/billing.html", context)


@customer_required
@require_GET
def price_list(request: HttpRequest) -> HttpResponse:
    """What this account pays per channel and country: the prices of GET /v3/billing/prices
    (its overrides applied to the table), 25 a page, filtered by country and channel."""
    filters = PriceFilterForm(request.GET, channels=Channel.choices)
    prices = PriceBook.load(request.customer).effective_prices(**filters.selector_fields())
    context = {"page": list_page(request, prices), "filters": filters}
    if request.htmx.target == "prices":
        return render(request, "billing/price_list.html#prices", context)
    return render(request, "billing/price_list.html", context)


def _quiet_form(customer, data=None) -> QuietHoursForm:
    return QuietHoursForm(
        data,
        initial={
            "quiet_hours_enabled": customer.quiet_hours_enabled,
            "quiet_hours_start": customer.quiet_hours_start,
            "quiet_hours_end": customer.quiet_hours_end,
        },
    )


@customer_required
@require_POST
def quiet_hours_view(request: HttpRequest) -> HttpResponse:
    """The quiet-hours setting (docs/api/messages.md#quiet-hours), on the billing page."""
    form = _quiet_form(request.customer, request.POST)
    if form.is_valid():
        try:
            customer_set_quiet_hours(
                request.customer,
                enabled=form.cleaned_data["quiet_hours_enabled"],
                start=form.cleaned_data["quiet_hours_start"],
                end=form.cleaned_data["quiet_hours_end"],
            )
        except SentError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Quiet hours saved.")
    else:
        messages.error(request, "Give both times as HH:MM.")
    return redirect("billing:billing")


@customer_required
@require_POST
def top_up_request_view(request: HttpRequest) -> HttpResponse:
    """Ask the operator for a top-up (on the billing page)."""
    form = TopUpRequestForm(request.POST)
    if form.is_valid():
        balance_top_up_request(request.customer, **form.cleaned_data)
        messages.success(request, "Top-up requested: your operator has been told.")
    else:
        messages.error(request, "Give an amount of at least 0.01.")
    return redirect("billing:billing")
