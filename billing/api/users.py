"""/v3/users: the account's users as the SDK reads them (docs/api/users.md)."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response

from billing.models import Membership
from billing.roles import acting
from billing.users import (
    user_get,
    user_invite,
    user_remove,
    user_set_status,
    user_update_role,
    users_for,
)
from sent_project.api.pagination import PagePagination, paginate
from sent_project.api.serializers import JsonInputSerializer
from sent_project.api.validation import validated
from sent_project.api.views import CustomerAPIView
from sent_project.sandbox import in_sandbox, sandbox_headers

TAGS = ["Users"]


class UserSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    customer_id = serializers.UUIDField()
    email = serializers.CharField(source="user.email")
    name = serializers.CharField(source="user.first_name")
    role = serializers.CharField(help_text="admin, billing or developer")
    status = serializers.CharField(help_text="invited, active or suspended")
    invited_at = serializers.DateTimeField(allow_null=True)
    last_login_at = serializers.DateTimeField(source="user.last_login", allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


# `sandbox` is read and checked but left out of the schema: a sandbox create answers with an id
# that does not exist, which would only mislead clients and tools that follow the schema's links.
@extend_schema_serializer(exclude_fields=["sandbox"])
class UserInviteSerializer(JsonInputSerializer):
    email = serializers.EmailField(max_length=get_user_model()._meta.get_field("email").max_length)
    name = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Membership.Role.values)
    sandbox = serializers.BooleanField(required=False)


class UserRoleSerializer(JsonInputSerializer):
    role = serializers.ChoiceField(choices=Membership.Role.values, required=False)
    status = serializers.ChoiceField(
        choices=[Membership.Status.ACTIVE, Membership.Status.SUSPENDED],
        required=False,
        help_text="Ours, beside the SDK's role (send it with extra_body): suspended or active",
    )
    sandbox = serializers.BooleanField(required=False)

    def validate(self, attrs):
        if "role" not in attrs and "status" not in attrs:
            raise serializers.ValidationError({"role": ["Give a role, a status, or both."]})
        return attrs


class UserRemovedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    removed = serializers.BooleanField()


class UserListInviteView(CustomerAPIView):
    pagination_class = PagePagination
    items_key = "users"

    @extend_schema(operation_id="users_list", tags=TAGS, responses=UserSerializer(many=True))
    def get(self, request):
        return paginate(request, self, users_for(self.customer), UserSerializer)

    @extend_schema(
        operation_id="users_invite",
        tags=TAGS,
        request=UserInviteSerializer,
        responses={201: OpenApiResponse(UserSerializer, description="Invited")},
    )
    def post(self, request):
        data, sandbox = validated(UserInviteSerializer, request.data), self.sandbox
        membership = in_sandbox(
            sandbox,
            lambda: user_invite(
                self.customer, acting(), email=data["email"], name=data["name"], role=data["role"]
            ),
        )
        return Response(
            UserSerializer(membership).data, status=201, headers=sandbox_headers(sandbox)
        )


class UserDetailView(CustomerAPIView):
    @extend_schema(operation_id="users_retrieve", tags=TAGS, responses=UserSerializer)
    def get(self, request, user_id):
        return Response(UserSerializer(user_get(self.customer, user_id=user_id)).data)

    @extend_schema(
        operation_id="users_update_role",
        tags=TAGS,
        request=UserRoleSerializer,
        responses=UserSerializer,
    )
    def patch(self, request, user_id):
        user_get(self.customer, user_id=user_id)  # another account's user: 404 before a 400
        data, sandbox = validated(UserRoleSerializer, request.data), self.sandbox

        def change():
            membership = None
            if "role" in data:
                membership = user_update_role(
                    self.customer, acting(), user_id=user_id, role=data["role"]
                )
            if "status" in data:
                membership = user_set_status(
                    self.customer, acting(), user_id=user_id, status=data["status"]
                )
            return membership

        membership = in_sandbox(sandbox, change)
        return Response(UserSerializer(membership).data, headers=sandbox_headers(sandbox))

    @extend_schema(
        operation_id="users_remove", tags=TAGS, request=None, responses={200: UserRemovedSerializer}
    )
    def delete(self, request, user_id):
        sandbox = self.sandbox
        in_sandbox(sandbox, lambda: user_remove(self.customer, acting(), user_id=user_id))
        return Response({"id": str(user_id), "removed": True}, headers=sandbox_headers(sandbox))
