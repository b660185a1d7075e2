from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api.serializers import MeSerializer


class MeView(APIView):
    @extend_schema(operation_id="me_retrieve", responses=MeSerializer, tags=["Account"])
    def get(self, request):
        return Response(MeSerializer(request.user.customer).data)
