import uuid

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from messaging.callbacks.records import callbacks_apply_again
from messaging.errors import DeliveryInProgress, WebhookDisabled
from messaging.keywords import keyword_normalise, keyword_set
from messaging.models import (
    Conversation,
    Keyword,
    Message,
    MessageActivity,
    PeriodicJob,
    ProviderAccount,
    ProviderCallback,
    ProviderKind,
    Sender,
    SenderPace,
    SimulatorSend,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from messaging.providers.accounts import (
    SECRET_NAMES,
    account_create,
    account_problems,
    account_secrets,
    account_secrets_masked,
    account_secrets_set,
    account_update,
)
from messaging.senders import sender_problems
from messaging.services import message_cancel, message_resend
from messaging.tasks import SCHEDULER
from messaging.webhooks.services import webhook_delivery_redeliver, webhook_endpoint_set_active
from sent_project.admin import ReadOnlyAdmin
from sent_project.errors import SentError
from sent_project.models import Event, IdempotencyRecord


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


# --- provider accounts, senders, callbacks (docs/providers/README.md) ----------------------

SECRET_LABELS = {
    "auth_token": "Auth token",
    "api_key_sid": "API key SID",
    "api_key_secret": "API key secret",
    "access_token": "Access token",
    "app_secret": "App secret",
    "verify_token": "Webhook verify token",
}
SECRET_HELP = {
    "auth_token": "The account's auth token: Twilio signs its callbacks with it, also when the "
    "account sends with an API key.",
    "api_key_sid": "An API key (SK…) of the account, with its secret.",
    "api_key_secret": "The API key's secret.",
    "access_token": "A system user's permanent access token (whatsapp_business_messaging).",
    "app_secret": "The Meta app's secret: it signs the webhooks (X-Hub-Signature-256).",
    "verify_token": "The token Meta echoes when it verifies the webhook URL.",
}
# How `account_problems` names a missing field → the form field and what to say there.
PROBLEM_FIELDS = {
    "account_id": ("account_id", "Required: the Twilio account SID (AC…) or the Meta WABA id."),
    "auth_token": (
        "auth_token",
        "A Twilio account needs its auth token: Twilio signs the status callbacks with it, "
        "also for an account that sends with an API key.",
    ),
    "access_token": ("access_token", "A Cloud API account needs an access token."),
    "app_secret": ("app_secret", "A Cloud API account needs the app secret (it signs webhooks)."),
    "api_key_sid": ("api_key_secret", "Give the API key SID and its secret together, or neither."),
}
ALL_SECRETS = tuple(name for names in SECRET_NAMES.values() for name in names)


def _secret_field(name: str) -> forms.CharField:
    # Write-only: the widget never renders a value, so no secret is ever in a page.
    return forms.CharField(
        label=SECRET_LABELS[name],
        required=False,
        max_length=512,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=SECRET_HELP[name],
    )


def _clear_field(name: str) -> forms.BooleanField:
    return forms.BooleanField(label=f"Remove the {SECRET_LABELS[name].lower()}", required=False)


class ProviderAccountForm(forms.ModelForm):
    """The account's identifiers, and its secrets as write-only inputs: blank keeps the
    stored value, a new value rotates it, "remove" deletes it. The whole account is checked
    (`account_problems`) as it would be after the change."""

    auth_token = _secret_field("auth_token")
    api_key_sid = _secret_field("api_key_sid")
    api_key_secret = _secret_field("api_key_secret")
    access_token = _secret_field("access_token")
    app_secret = _secret_field("app_secret")
    verify_token = _secret_field("verify_token")
    auth_token_clear = _clear_field("auth_token")
    api_key_sid_clear = _clear_field("api_key_sid")
    api_key_secret_clear = _clear_field("api_key_secret")
    access_token_clear = _clear_field("access_token")
    app_secret_clear = _clear_field("app_secret")
    verify_token_clear = _clear_field("verify_token")

    class Meta:
        model = ProviderAccount
        fields = ["name", "kind", "account_id", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # (A new account already has its id: `adding` tells a new one from a stored one.)
        self.adding = self.instance._state.adding
        self.unreadable = ""  # why the stored secrets can't be decrypted, if they can't
        try:
            self.stored = {} if self.adding else account_secrets(self.instance)
            masked = {} if self.adding else account_secrets_masked(self.instance)
        except ValueError as error:
            self.stored, masked, self.unreadable = {}, {}, str(error)
        for name in ALL_SECRETS:
            if name in self.fields and name in masked:
                self.fields[name].help_text += f" Stored: {masked[name]}. Leave blank to keep it."

    def _kind(self) -> str:
        return self.cleaned_data.get("kind", "") if self.adding else self.instance.kind

    def secret_changes(self) -> dict:
        """{secret: new value, or "" to remove it}: only what this submission changes."""
        changes = {}
        for name in SECRET_NAMES.get(self._kind(), ()):
            value = self.cleaned_data.get(name, "")
            if self.cleaned_data.get(f"{name}_clear"):
                if name in self.stored:
                    changes[name] = ""
            elif value and value != self.stored.get(name):
                changes[name] = value
        return changes

    def clean(self):
        data = super().clean()
        kind = self._kind()
        if kind not in ProviderKind.values:
            return data
        for name in ALL_SECRETS:
            if name not in SECRET_NAMES[kind] and data.get(name):
                self.add_error(
                    name, f"Not a secret of a {ProviderKind(kind).label} account: leave it blank."
                )
            if data.get(name) and data.get(f"{name}_clear"):
                self.add_error(name, "Give a new value or remove it, not both.")
        if self.unreadable and not self.secret_changes():
            self.add_error(None, f"{self.unreadable} Enter the account's secrets again.")
        secrets = {**self.stored, **self.secret_changes()}
        secrets = {name: value for name, value in secrets.items() if value}
        account_id = data.get("account_id", self.instance.account_id)
        for problem in account_problems(kind, account_id, secrets):
            field, message = PROBLEM_FIELDS.get(problem.split()[0], (None, problem))
            if field == "account_id" and self.has_error("account_id"):
                continue  # its own error says it already
            self.add_error(field, message)
        return data


@admin.register(ProviderAccount)
class ProviderAccountAdmin(admin.ModelAdmin):
    """An operator's accounts at Twilio and Meta. Secrets are written here and never shown
    back in full; every write goes through `messaging.providers.accounts`."""

    form = ProviderAccountForm
    list_display = ["name", "kind", "account_id", "is_active", "secrets", "secrets_rotated_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "account_id"]
    readonly_fields = ["id", "secrets", "secrets_rotated_at", "created_at", "updated_at"]

    @admin.display(description="Secrets (masked)")
    def secrets(self, obj) -> str:
        if obj is None or not obj.pk:
            return "—"
        try:
            masked = account_secrets_masked(obj)
        except ValueError as error:  # SECRET_KEY changed without the old one as a fallback
            return str(error)
        return ", ".join(f"{SECRET_LABELS[name]} {value}" for name, value in masked.items()) or "—"

    def get_fieldsets(self, request, obj=None):
        kinds = [ProviderKind(obj.kind)] if obj else list(ProviderKind)
        fieldsets = [
            (None, {"fields": ["name", "kind", "account_id", *(["is_active"] if obj else [])]}),
        ]
        for kind in kinds:
            names = SECRET_NAMES[kind]
            # On a stored account each secret has its "remove" box on the same line.
            fields = [(name, f"{name}_clear") for name in names] if obj else list(names)
            fieldsets.append(
                (
                    f"{kind.label}: secrets",
                    {
                        "fields": fields,
                        "description": "Write-only: blank keeps the stored value, a new value "
                        "replaces (rotates) it. Stored encrypted, shown only masked.",
                    },
                )
            )
        if obj:
            fieldsets.append(("Record", {"fields": self.readonly_fields}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        # The kind is fixed once created: its secrets and its senders' channel follow from it.
        return [*self.readonly_fields, "kind"] if obj else self.readonly_fields

    @method_decorator(sensitive_post_parameters(*ALL_SECRETS))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Error reports (a 500's e-mail or log) show the secret fields as ********.
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        secrets = form.secret_changes()
        if change:
            account_update(obj, name=obj.name, account_id=obj.account_id, is_active=obj.is_active)
            if secrets:
                # Secrets that can't be decrypted are replaced by the ones entered now.
                account_secrets_set(obj, replace=bool(form.unreadable), **secrets)
            return
        created = account_create(kind=obj.kind, name=obj.name, account_id=obj.account_id, **secrets)
        obj.pk = created.pk
        obj._state.adding = False
        obj._state.db = created._state.db


class SenderForm(forms.ModelForm):
    class Meta:
        model = Sender
        fields = [
            "customer",
            "channel",
            "account",
            "address",
            "provider_ref",
            "display_name",
            "is_active",
            "max_rate",
        ]

    def clean(self):
        data = super().clean()
        account = data.get("account")
        if data.get("channel") and account is not None:
            problems = sender_problems(
                channel=data["channel"],
                account_kind=account.kind,
                address=data.get("address", ""),
                provider_ref=data.get("provider_ref", ""),
            )
            for field, message in problems.items():
                self.add_error(field, message)
        return data


@admin.register(Sender)
class SenderAdmin(admin.ModelAdmin):
    """Which customer sends from which number, on which account. A sender is deactivated,
    not deleted: messages keep pointing at it (docs/providers/README.md#senders)."""

    form = SenderForm
    list_display = [
        "__str__",
        "channel",
        "customer",
        "account",
        "display_name",
        "max_rate",
        "is_active",
    ]
    list_filter = [
        "channel",
        "is_active",
        ("customer", admin.RelatedOnlyFieldListFilter),
        ("account", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["address", "provider_ref", "display_name", "customer__name"]
    list_select_related = ["customer", "account"]
    autocomplete_fields = ["customer", "account"]
    readonly_fields = ["id", "created_at", "updated_at"]
    actions = ["activate", "deactivate"]

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Activate the selected senders")
    def activate(self, request, queryset):
        count = queryset.update(is_active=True)
        self.message_user(request, f"{count} sender(s) active.")

    @admin.action(description="Deactivate the selected senders (new sends stop using them)")
    def deactivate(self, request, queryset):
        count = queryset.update(is_active=False)
        self.message_user(request, f"{count} sender(s) inactive.")


@admin.register(ProviderCallback)
class ProviderCallbackAdmin(ReadOnlyAdmin):
    """Every request a provider made to the callback URLs: a `rejected` one failed its
    signature check and was answered 403; a `pending` one waits for the callbacks job; a
    `failed` one raised an error when applied (its detail), and can be applied again
    (docs/providers/README.md#callbacks)."""

    list_display = ["received_at", "provider", "kind", "outcome", "detail", "url", "remote_addr"]
    list_filter = ["provider", "outcome", "kind"]
    search_fields = ["url", "detail"]
    list_select_related = ["account"]
    show_full_result_count = False  # a big table: no second COUNT(*) per page
    fields = [
        "received_at",
        "provider",
        "kind",
        "account",
        "outcome",
        "detail",
        "url",
        "remote_addr",
        "body",
    ]
    readonly_fields = fields
    actions = ["apply_again"]

    @admin.action(description="Apply the selected failed callbacks again")
    def apply_again(self, request, queryset):
        count = callbacks_apply_again(queryset, scheduler=SCHEDULER)
        self.message_user(request, f"{count} failed callback(s) pending again.")


class KeywordForm(forms.ModelForm):
    class Meta:
        model = Keyword
        fields = ["customer", "word", "action", "reply", "is_active"]

    def clean_word(self):
        word = self.cleaned_data["word"]
        normalised = keyword_normalise(word)
        if not normalised or normalised != " ".join(word.split()).upper():
            raise forms.ValidationError("Letters and digits only (at most 32), like STOP or HOURS.")
        return normalised


@admin.register(Keyword)
class KeywordAdmin(admin.ModelAdmin):
    """A customer's own inbound keywords (docs/api/inbound.md#keywords); saved through
    `messaging.keywords.keyword_set`."""

    form = KeywordForm
    list_display = ["word", "action", "customer", "is_active", "created_at"]
    list_filter = ["action", "is_active"]
    search_fields = ["word", "customer__name"]
    list_select_related = ["customer"]

    def save_model(self, request, obj, form, change):
        saved = keyword_set(
            obj.customer,
            word=obj.word,
            action=obj.action,
            reply=obj.reply,
            is_active=obj.is_active,
        )
        obj.pk = saved.pk


@admin.register(SenderPace)
class SenderPaceAdmin(admin.ModelAdmin):
    """Each sender's token bucket, as dispatch left it (docs/providers/README.md#pacing):
    read-only, for an operator wondering why a sender is slow."""

    list_display = ["key", "tokens", "factor", "throttled_until", "throttles", "refilled_at"]
    search_fields = ["key"]
    readonly_fields = list_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- Messages and the other records only the services write --------------------------------


class MessageActivityInline(admin.TabularInline):
    model = MessageActivity
    fields = ["created_at", "kind", "status", "description", "reason_code", "price", "channel"]
    readonly_fields = fields
    ordering = ["id"]
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    """Read-only: a message changes through the services only — the actions below cancel a
    QUEUED one (refunded) or resend a FAILED/BLOCKED one as a new message, as the API does."""

    list_display = [
        "id",
        "customer",
        "direction",
        "phone",
        "channel",
        "status",
        "reason_code",
        "price",
        "created_at",
    ]
    list_filter = ["status", "channel", "direction", "sandbox", "customer"]
    search_fields = ["=id", "=phone", "=provider_message_id", "=from_number"]
    list_select_related = ["customer"]
    show_full_result_count = False  # no COUNT(*) over millions of rows on every page
    date_hierarchy = None
    readonly_fields = [f.name for f in Message._meta.fields]
    inlines = [MessageActivityInline]
    actions = ["cancel", "resend"]

    def get_search_results(self, request, queryset, search_term):
        """An id or a number (E.164): exact matches only, so each search uses an index."""
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(pk=uuid.UUID(term)), False
        except ValueError:
            pass
        return queryset.filter(
            Q(phone=term) | Q(provider_message_id=term) | Q(from_number=term)
        ), False

    def _each(self, request, queryset, service, verb: str) -> None:
        done, refused = 0, []
        for message in queryset.select_related("customer")[:100]:
            try:
                service(message.customer, message_id=message.pk)
                done += 1
            except SentError as error:
                refused.append(f"{message.pk}: {error.message}")
        if done:
            self.message_user(request, f"{verb} {done} message(s).", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.ERROR)

    @admin.action(description="Cancel (QUEUED only; refunded)")
    def cancel(self, request, queryset):
        self._each(request, queryset, message_cancel, "Cancelled")

    @admin.action(description="Resend as a new message (FAILED or BLOCKED only)")
    def resend(self, request, queryset):
        self._each(request, queryset, message_resend, "Resent")


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ["contact", "customer", "last_message_at", "last_channel", "unread_count"]
    list_select_related = ["contact", "customer"]
    search_fields = ["=contact__phone_number"]
    show_full_result_count = False


@admin.register(SimulatorSend)
class SimulatorSendAdmin(ReadOnlyAdmin):
    list_display = ["message_id", "channel", "to", "attempts", "provider_message_id", "created_at"]
    search_fields = ["=message_id", "=to"]
    show_full_result_count = False


@admin.register(PeriodicJob)
class PeriodicJobAdmin(ReadOnlyAdmin):
    """The self-rescheduling jobs: the reconciler, the prune, each lane's heartbeat."""

    list_display = ["name", "last_run_at", "next_run_at", "last_outcome"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ["key", "customer", "state", "response_status", "created_at"]
    list_filter = ["state"]
    search_fields = ["=key", "=request_id"]
    list_select_related = ["customer"]
    exclude = ["response_body"]
    show_full_result_count = False
