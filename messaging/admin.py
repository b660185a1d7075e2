from django.contrib import admin, messages

from messaging.errors import DeliveryInProgress, WebhookDisabled
from messaging.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from messaging.webhooks.services import webhook_delivery_redeliver, webhook_endpoint_set_active
from sent_project.models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["event", "customer", "subject_id", "sequence", "created_at", "fanned_out_at"]
    list_filter = ["field"]
    search_fields = ["id", "event", "subject_id", "customer__name"]
    list_select_related = ["customer"]
    readonly_fields = [f.name for f in Event._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Secrets are never shown; changes go through the API (the services check the URL)."""

    list_display = [
        "__str__",
        "customer",
        "is_active",
        "consecutive_failures",
        "last_successful_delivery_at",
        "disabled_reason",
    ]
    list_filter = ["is_active"]
    search_fields = ["display_name", "endpoint_url", "customer__name", "id"]
    list_select_related = ["customer"]
    fields = [
        "id",
        "customer",
        "display_name",
        "endpoint_url",
        "event_types",
        "event_filters",
        "is_active",
        "retry_count",
        "timeout_seconds",
        "consecutive_failures",
        "failing_since",
        "last_delivery_attempt_at",
        "last_successful_delivery_at",
        "disabled_reason",
        "disabled_at",
        "previous_secret_expires_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    actions = ["enable", "disable"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Enable the selected webhooks")
    def enable(self, request, queryset):
        for endpoint in queryset.select_related("customer"):
            webhook_endpoint_set_active(endpoint.customer, endpoint, is_active=True)

    @admin.action(description="Disable the selected webhooks")
    def disable(self, request, queryset):
        for endpoint in queryset.select_related("customer"):
            webhook_endpoint_set_active(endpoint.customer, endpoint, is_active=False)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = [
        "number",
        "started_at",
        "outcome",
        "http_status_code",
        "latency_ms",
        "error",
        "response_body",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "event",
        "endpoint",
        "status",
        "attempts",
        "http_status_code",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["status", "is_test"]
    search_fields = ["id", "event__id", "event__event", "endpoint__endpoint_url"]
    list_select_related = ["event", "endpoint"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Redeliver the selected deliveries")
    def redeliver(self, request, queryset):
        sent = 0
        for delivery in queryset.select_related("endpoint__customer"):
            endpoint = delivery.endpoint
            try:
                webhook_delivery_redeliver(endpoint.customer, endpoint, delivery)
                sent += 1
            except (DeliveryInProgress, WebhookDisabled) as exc:
                self.message_user(request, f"{delivery}: {exc.message}", messages.WARNING)
        self.message_user(request, f"{sent} deliveries queued again.")
