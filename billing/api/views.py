from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from billing.api.filters import LedgerFilterSet
from billing.api.serializers import (
    LedgerEntrySerializer,
    LedgerQuerySerializer,
    MeSerializer,
    PriceListQuerySerializer,
    PriceListSerializer,
    PriceQuoteQuerySerializer,
    PriceQuoteSerializer,
    PriceSerializer,
)
from billing.pricing import PriceBook, price_quote_detail
from billing.selectors import ledger_for
from sent_project.api.pagination import PagePagination, paginate
from sent_project.api.validation import validated_query
from sent_project.api.views import CustomerAPIView


class MeView(CustomerAPIView):
    @extend_schema(operation_id="me_retrieve", responses=MeSerializer, tags=["Account"])
    def get(self, request):
        return Response(MeSerializer(self.customer).data)


class LedgerView(CustomerAPIView):
    """Our addition (not in the SDK): the account's balance changes, newest first."""

    pagination_class = PagePagination
    items_key = "entries"

    @extend_schema(
        operation_id="billing_ledger_list",
        parameters=[LedgerQuerySerializer],
        responses=LedgerEntrySerializer(many=True),
        tags=["Billing"],
    )
    def get(self, request):
        entries = LedgerFilterSet(request.query_params, ledger_for(self.customer)).qs
        return paginate(request, self, entries, LedgerEntrySerializer)


class PriceListView(CustomerAPIView):
    """Our addition: the prices this account pays (its overrides applied to the table)."""

    @extend_schema(
        operation_id="billing_prices_list",
        parameters=[PriceListQuerySerializer],
        responses=PriceListSerializer,
        tags=["Billing"],
    )
    def get(self, request):
        prices = PriceBook.load(self.customer).effective_prices(
            **validated_query(PriceListQuerySerializer, request.query_params)
        )
        return Response({"prices": PriceSerializer(prices, many=True).data})


class PriceQuoteView(CustomerAPIView):
    """Our addition: what one message would cost this account."""

    @extend_schema(
        operation_id="billing_quote_retrieve",
        parameters=[PriceQuoteQuerySerializer],
        responses=PriceQuoteSerializer,
        tags=["Billing"],
    )
    def get(self, request):
        quote = price_quote_detail(
            self.customer, **validated_query(PriceQuoteQuerySerializer, request.query_params)
        )
        return Response(PriceQuoteSerializer(quote).data)
