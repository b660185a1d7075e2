"""API authentication: x-api-key → the key's customer, resolved once per request and cached.

The billing app owns customers and their keys, so it owns this too; REST_FRAMEWORK's
DEFAULT_AUTHENTICATION_CLASSES and DEFAULT_PERMISSION_CLASSES name these classes. The plumbing
never imports them: the idempotency middleware asks the configured authentication classes
(`sent_project.api.idempotency.request_customer`).
"""

from django.conf import settings
from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from billing.errors import AccountNotFound
from billing.models import ApiKey
from billing.services import api_key_authenticate
from sent_project.errors import InvalidApiKey, MissingApiKey, RateLimited
from sent_project.ratelimit import client_address, rate_hit
from sent_project.request_context import log_context_set

API_KEY_HEADER = "HTTP_X_API_KEY"
_UNRESOLVED = object()


class ApiKeyPrincipal:
    """What `request.user` is for API calls: the key and the customer it belongs to."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.customer = api_key.customer

    def __str__(self) -> str:
        return f"api key {self.api_key.prefix} of {self.customer_id}"

    @property
    def customer_id(self):
        return self.customer.pk


def resolve_api_key(request: HttpRequest) -> ApiKey | None:
    """The active ApiKey named by the x-api-key header, or None (missing, unknown or revoked).

    Cached on the Django request so the idempotency middleware and DRF share one lookup.
    """
    cached = getattr(request, "_sent_api_key", _UNRESOLVED)
    if cached is not _UNRESOLVED:
        return cached
    raw = request.META.get(API_KEY_HEADER, "").strip()
    api_key = api_key_authenticate(raw=raw) if raw else None
    request._sent_api_key = api_key
    return api_key


def invalid_key_error(request: HttpRequest):
    """401 AUTH_002 for a key we don't know, or 429 once the client's address has sent more
    than API_INVALID_KEY_RATE_LIMIT of them (counted once per request)."""
    limit = getattr(request, "_sent_invalid_key_limit", None)
    if limit is None:
        limit = rate_hit(f"addr:{client_address(request)}", settings.API_INVALID_KEY_RATE_LIMIT)
        request._sent_invalid_key_limit = limit
    if limit.allowed:
        return InvalidApiKey()
    return RateLimited(headers={"Retry-After": str(limit.retry_after()), **limit.headers()})


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        django_request = request._request
        if not django_request.META.get(API_KEY_HEADER, "").strip():
            return None  # → 401 AUTH_001 through HasCustomer
        api_key = resolve_api_key(django_request)
        if api_key is None:
            raise invalid_key_error(django_request)
        profile_id = django_request.META.get("HTTP_X_PROFILE_ID", "").strip()
        if profile_id and profile_id != str(api_key.customer_id):
            # We have no sender profiles: only the key's own account can be named.
            raise AccountNotFound()
        log_context_set(customer_id=api_key.customer_id)  # on this request's log lines
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request):
        return "x-api-key"


class HasCustomer(BasePermission):
    """Every v3 endpoint needs a valid key; a missing one is 401 AUTH_001."""

    def has_permission(self, request, view) -> bool:
        if isinstance(request.user, ApiKeyPrincipal):
            return True
        raise MissingApiKey()


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes `ApiKeyAuthentication`."""

    target_class = ApiKeyAuthentication
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "x-api-key"}
