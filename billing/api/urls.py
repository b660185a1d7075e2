from django.urls import path

from billing.api.users import UserDetailView, UserListInviteView
from billing.api.views import LedgerView, MeView, PriceListView, PriceQuoteView

app_name = "billing_api"
urlpatterns = [
    path("me", MeView.as_view(), name="me"),
    path("billing/ledger", LedgerView.as_view(), name="ledger"),
    path("billing/prices", PriceListView.as_view(), name="prices"),
    path("users", UserListInviteView.as_view(), name="users"),
    path("users/<uuid:user_id>", UserDetailView.as_view(), name="user"),
    path("billing/quote", PriceQuoteView.as_view(), name="quote"),
]
