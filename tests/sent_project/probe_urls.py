"""The real URLconf plus probe endpoints that exercise the API plumbing on its own.

Probes do real work (a ledger top-up, a list of ledger entries) so the idempotency,
pagination and error tests observe real database effects, not mocks.
"""

from decimal import Decimal

from django.urls import include, path
from rest_framework import serializers
from rest_framework.response import Response

from billing.models import LedgerEntry
from billing.selectors import ledger_for
from billing.services import balance_top_up
from sent_project.api.pagination import PagePagination, paginate
from sent_project.api.validation import PageQuerySerializer, validated, validated_query
from sent_project.api.views import CustomerAPIView
from sent_project.urls import urlpatterns as real_urlpatterns


class ProbeTopUpSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=10, decimal_places=4, min_value=Decimal("0.0001"))


class ProbeEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = LedgerEntry
        fields = ["id", "kind", "amount", "ending_balance"]


class ProbeTopUpView(CustomerAPIView):
    def post(self, request):
        data = validated(ProbeTopUpSerializer, request.data)
        entry = balance_top_up(self.customer, amount=data["amount"])
        return Response({"entry_id": entry.id, "balance": str(entry.ending_balance)}, status=201)


class ProbeLedgerView(CustomerAPIView):
    pagination_class = PagePagination
    items_key = "entries"

    def get(self, request):
        validated_query(PageQuerySerializer, request.query_params)
        return paginate(request, self, ledger_for(self.customer), ProbeEntrySerializer)


class ProbeBoomView(CustomerAPIView):
    def get(self, request):
        raise RuntimeError("secret internal detail")


urlpatterns = [
    path("v3/probe/top-up", ProbeTopUpView.as_view()),
    path("v3/probe/ledger", ProbeLedgerView.as_view()),
    path("v3/probe/boom", ProbeBoomView.as_view()),
    path("", include(real_urlpatterns)),
]
