from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

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
from sent_project.api.query import query_params


class MeView(APIView):
    @extend_schema(operation_id="me_retrieve", responses=MeSerializer, tags=["Account"])
    def get(self, request):
        return Response(MeSerializer(request.user.customer).data)


class LedgerView(APIView):
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
        entries = ledger_for(request.user.customer, **query_params(request, LedgerQuerySerializer))
        return paginate(request, self, entries, LedgerEntrySerializer)


class PriceListView(APIView):
    """Our addition: the prices this account pays (its overrides applied to the table)."""

    @extend_schema(
        operation_id="billing_prices_list",
        parameters=[PriceListQuerySerializer],
        responses=PriceListSerializer,
        tags=["Billing"],
    )
    def get(self, request):
        prices = PriceBook.load(request.user.customer).effective_prices(
            **query_params(request, PriceListQuerySerializer)
        )
        return Response({"prices": PriceSerializer(prices, many=True).data})


class PriceQuoteView(APIView):
    """Our addition: what one message would cost this account."""

    @extend_schema(
        operation_id="billing_quote_retrieve",
        parameters=[PriceQuoteQuerySerializer],
        responses=PriceQuoteSerializer,
        tags=["Billing"],
    )
    def get(self, request):
        quote = price_quote_detail(
            request.user.customer, **query_params(request, PriceQuoteQuerySerializer)
        )
        return Response(PriceQuoteSerializer(quote).data)
