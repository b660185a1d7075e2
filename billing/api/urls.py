from django.urls import path

from billing.api.views import LedgerView, MeView, PriceListView, PriceQuoteView

app_name = "billing_api"
urlpatterns = [
    path("me", MeView.as_view(), name="me"),
    path("billing/ledger", LedgerView.as_view(), name="ledger"),
    path("billing/prices", PriceListView.as_view(), name="prices"),
    path("billing/quote", PriceQuoteView.as_view(), name="quote"),
]
