"""Wire shapes of the templates API (docs/api/templates.md: the SDK's fields plus our extras).

The `definition` is validated once, by `templates_app.definition` (its rules need the whole
structure at once); the `TemplateDefinition…Schema` serializers below only describe its
shape in the OpenAPI document.
"""

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from sent_project.api.query import comma_choices
from sent_project.api.serializers import JsonInputSerializer, StrictBooleanField
from templates_app import definition as defn
from templates_app.models import AutoReplyAction, Template, TemplateCategory, TemplateStatus
from templates_app.services import LANGUAGE_RE

STRING_OR_NULL = {"type": ["string", "null"]}


# --- the definition's shape (OpenAPI only) ------------------------------------------------
@extend_schema_field({"type": ["string", "number", "boolean", "null"]})
class SampleField(serializers.JSONField):
    """A variable's sample: a string; numbers and booleans are accepted and stored as strings."""


class TemplateVariablePropsSchema(serializers.Serializer):
    variableType = serializers.CharField(required=False, allow_null=True)
    sample = SampleField(required=False)
    url = serializers.CharField(required=False, allow_null=True)
    shortUrl = serializers.CharField(required=False, allow_null=True)
    alt = serializers.CharField(required=False, allow_null=True)
    mediaType = serializers.CharField(required=False, allow_null=True)
    regex = serializers.CharField(required=False, allow_null=True)


class TemplateVariableSchema(serializers.Serializer):
    id = serializers.IntegerField(
        required=False, min_value=0, help_text="Sequential within its section, from 0 or 1."
    )
    name = serializers.RegexField(
        defn.VARIABLE_NAME_RE.pattern, help_text="The key of the send's `parameters`."
    )
    type = serializers.ChoiceField(choices=defn.VARIABLE_TYPES)
    props = TemplateVariablePropsSchema(required=False, allow_null=True)


class TemplateBodyContentSchema(serializers.Serializer):
    template = serializers.CharField(help_text="Text with {{id:label}} placeholders.")
    type = serializers.ChoiceField(choices=defn.TEXT_TYPES, required=False, allow_null=True)
    variables = TemplateVariableSchema(many=True, required=False, allow_null=True)


class TemplateMmsMediaSchema(serializers.Serializer):
    url = serializers.URLField()
    mediaType = serializers.CharField(required=False, allow_null=True)


class TemplateMmsBodySchema(TemplateBodyContentSchema):
    subject = serializers.CharField(required=False, allow_null=True)
    media = TemplateMmsMediaSchema(many=True, required=False, allow_null=True)


class TemplateBodySchema(serializers.Serializer):
    multiChannel = TemplateBodyContentSchema(required=False, allow_null=True)
    sms = TemplateBodyContentSchema(required=False, allow_null=True)
    whatsapp = TemplateBodyContentSchema(required=False, allow_null=True)
    rcs = TemplateBodyContentSchema(required=False, allow_null=True)
    mms = TemplateMmsBodySchema(required=False, allow_null=True)


class TemplateHeaderLocationSchema(serializers.Serializer):
    name = serializers.CharField(required=False, allow_null=True)
    address = serializers.CharField(required=False, allow_null=True)
    latitude = serializers.CharField(required=False, allow_null=True)
    longitude = serializers.CharField(required=False, allow_null=True)


class TemplateHeaderSchema(serializers.Serializer):
    template = serializers.CharField(
        required=False, allow_blank=True, help_text="Required for text headers."
    )
    type = serializers.ChoiceField(choices=defn.HEADER_TYPES, required=False, allow_null=True)
    variables = TemplateVariableSchema(many=True, required=False, allow_null=True)
    example_url = serializers.URLField(
        required=False, allow_null=True, help_text="Request only: the media sample for review."
    )
    static_resource = serializers.BooleanField(required=False)
    location = TemplateHeaderLocationSchema(required=False, allow_null=True)


class TemplateFooterSchema(serializers.Serializer):
    template = serializers.CharField()
    type = serializers.ChoiceField(choices=defn.TEXT_TYPES, required=False, allow_null=True)
    variables = TemplateVariableSchema(many=True, required=False, allow_null=True)


class TemplateButtonPropsSchema(serializers.Serializer):
    text = serializers.CharField(required=False, allow_null=True, max_length=defn.BUTTON_TEXT_MAX)
    urlType = serializers.ChoiceField(choices=defn.URL_TYPES, required=False, allow_null=True)
    url = serializers.CharField(required=False, allow_null=True)
    variables = TemplateVariableSchema(many=True, required=False, allow_null=True)
    countryCode = serializers.CharField(required=False, allow_null=True)
    phoneNumber = serializers.CharField(required=False, allow_null=True)
    activeFor = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    offerCode = serializers.CharField(required=False, allow_null=True)
    quickReplyType = serializers.CharField(required=False, allow_null=True)
    otpType = serializers.ChoiceField(choices=defn.OTP_TYPES, required=False, allow_null=True)
    autofillText = serializers.CharField(required=False, allow_null=True)
    packageName = serializers.CharField(required=False, allow_null=True)
    signatureHash = serializers.CharField(required=False, allow_null=True)


class TemplateButtonSchema(serializers.Serializer):
    id = serializers.IntegerField(required=False, min_value=0, help_text="1-based, unique.")
    type = serializers.ChoiceField(choices=defn.BUTTON_TYPES)
    props = TemplateButtonPropsSchema()


class TemplateAuthenticationConfigSchema(serializers.Serializer):
    addSecurityRecommendation = serializers.BooleanField(required=False)
    codeExpirationMinutes = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=90
    )


class TemplateDefinitionSchema(serializers.Serializer):
    body = TemplateBodySchema()
    header = TemplateHeaderSchema(required=False, allow_null=True)
    footer = TemplateFooterSchema(required=False, allow_null=True)
    buttons = TemplateButtonSchema(
        many=True, required=False, allow_null=True, max_length=defn.MAX_BUTTONS
    )
    definitionVersion = serializers.CharField(required=False, allow_null=True)
    authenticationConfig = TemplateAuthenticationConfigSchema(required=False, allow_null=True)


@extend_schema_field(TemplateDefinitionSchema)
class DefinitionField(serializers.JSONField):
    """The definition as JSON; its rules are checked by the service."""


# --- templates ----------------------------------------------------------------------------
class TemplateStatusChangeSerializer(serializers.Serializer):
    status = serializers.CharField(source="to_status")
    from_status = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField()
    source = serializers.CharField()
    channel = serializers.SerializerMethodField(
        help_text="The leg the change is about (whatsapp, sms); null for the whole template."
    )
    created_at = serializers.DateTimeField()

    @extend_schema_field(STRING_OR_NULL)
    def get_channel(self, change) -> str | None:
        return change.channel or None

    @extend_schema_field(STRING_OR_NULL)
    def get_from_status(self, change) -> str | None:
        return change.from_status or None

    @extend_schema_field(STRING_OR_NULL)
    def get_reason(self, change) -> str | None:
        return change.reason or None


class TemplateSerializer(serializers.Serializer):
    """A template: the SDK's fields, then ours (display name, definition, review details
    with the WhatsApp leg's own status, status history)."""

    id = serializers.UUIDField(
        allow_null=True, help_text="null only on a sandbox create (nothing was created)"
    )
    customer_id = serializers.UUIDField()
    name = serializers.CharField(help_text="Unique per account; send with template.name.")
    category = serializers.ChoiceField(choices=TemplateCategory.choices)
    language = serializers.CharField()
    status = serializers.ChoiceField(choices=TemplateStatus.choices)
    channels = serializers.ListField(child=serializers.CharField())
    variables = serializers.ListField(child=serializers.CharField())
    is_published = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    display_name = serializers.CharField()
    definition = DefinitionField()
    rejection_reason = serializers.SerializerMethodField()
    whatsapp_template_id = serializers.SerializerMethodField()
    whatsapp_template_name = serializers.SerializerMethodField()
    whatsapp_status = serializers.SerializerMethodField(
        help_text="The WhatsApp leg's status: null without WhatsApp content; REJECTED when "
        "WhatsApp's template rules refused it at submission (the template stays APPROVED "
        "for SMS); otherwise the template's status."
    )
    whatsapp_rejection_reason = serializers.SerializerMethodField(
        help_text="Which of WhatsApp's template rules the content breaks (null otherwise)."
    )
    creation_source = serializers.CharField()
    status_history = TemplateStatusChangeSerializer(source="status_changes", many=True)

    @extend_schema_field(STRING_OR_NULL)
    def get_rejection_reason(self, template: Template) -> str | None:
        return template.rejection_reason or None

    @extend_schema_field(STRING_OR_NULL)
    def get_whatsapp_template_id(self, template: Template) -> str | None:
        return template.whatsapp_template_id or None

    @extend_schema_field(STRING_OR_NULL)
    def get_whatsapp_template_name(self, template: Template) -> str | None:
        return template.whatsapp_template_name or None

    @extend_schema_field({"type": ["string", "null"], "enum": [*TemplateStatus.values, None]})
    def get_whatsapp_status(self, template: Template) -> str | None:
        return template.whatsapp_status

    @extend_schema_field(STRING_OR_NULL)
    def get_whatsapp_rejection_reason(self, template: Template) -> str | None:
        return template.whatsapp_rejection_reason or None

    auto_reply_action = serializers.CharField(
        required=False,
        help_text="OPT_IN, OPT_OUT, HELP or OTHER on a keyword auto-reply template; the key is "
        "omitted on ordinary templates (docs/api/inbound.md#keywords).",
    )

    def to_representation(self, template: Template) -> dict:
        data = super().to_representation(template)
        if not getattr(template, "auto_reply_action", ""):
            data.pop("auto_reply_action", None)
        return data


def language_field() -> serializers.RegexField:
    return serializers.RegexField(
        LANGUAGE_RE.pattern,
        required=False,
        allow_null=True,
        max_length=16,
        help_text="e.g. en_US (the default), pt_BR, fr.",
        error_messages={"invalid": 'A language code like "en_US", "pt_BR" or "fr".'},
    )


class SearchField(serializers.CharField):
    """Free text to match; NUL characters (which no stored text holds) are dropped."""

    def to_internal_value(self, data) -> str:
        return super().to_internal_value(str(data).replace("\x00", ""))


class TemplateListQuerySerializer(serializers.Serializer):
    """GET /v3/templates filters (`page`/`page_size` are the paginator's). A present but
    empty value is invalid, as everywhere in the API."""

    search = SearchField(
        required=False, max_length=200, help_text="Part of the name, display name or text."
    )
    category = comma_choices(TemplateCategory.values, "UTILITY,MARKETING")
    status = comma_choices(TemplateStatus.values, "APPROVED,PENDING")
    language = serializers.RegexField(
        LANGUAGE_RE.pattern, required=False, max_length=16, help_text="e.g. en_US"
    )
    is_welcome_playground = serializers.BooleanField(
        required=False, help_text="Accepted and ignored."
    )

    def validate_category(self, value: str) -> list[str]:
        return value.split(",")

    def validate_status(self, value: str) -> list[str]:
        return value.split(",")


def auto_reply_action_field() -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=AutoReplyAction.choices,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Our extra: makes the template the reply to an inbound keyword with this "
        'action ("" or null: an ordinary template; docs/api/inbound.md#keywords).',
    )


# `sandbox` is read and checked but left out of the schema: a sandbox create answers with an id
# that does not exist, which would only mislead clients and tools that follow the schema's links.
@extend_schema_serializer(exclude_fields=["sandbox"])
class TemplateCreateSerializer(JsonInputSerializer):
    definition = DefinitionField()
    category = serializers.ChoiceField(
        choices=TemplateCategory.choices,
        required=False,
        allow_null=True,
        help_text="Detected when omitted.",
    )
    language = language_field()
    name = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=100,
        help_text="Our extra: derived from the content when omitted.",
    )
    display_name = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=200
    )
    submit_for_review = serializers.BooleanField(required=False, default=False)
    creation_source = serializers.CharField(required=False, allow_null=True, max_length=50)
    auto_reply_action = auto_reply_action_field()
    auto_create_for_sp = serializers.BooleanField(required=False, default=False)
    sandbox = StrictBooleanField(required=False, default=False)

    def validate_auto_create_for_sp(self, value: bool) -> bool:
        if value:
            raise serializers.ValidationError(
                "Not enabled for this account (it has no sender profiles)."
            )
        return value


class TemplateUpdateSerializer(JsonInputSerializer):
    """PUT with PATCH semantics: omitted or null fields stay as they are."""

    name = serializers.CharField(required=False, allow_null=True, max_length=100)
    display_name = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=200
    )
    category = serializers.ChoiceField(
        choices=TemplateCategory.choices, required=False, allow_null=True
    )
    language = language_field()
    definition = DefinitionField(required=False, allow_null=True)
    submit_for_review = serializers.BooleanField(required=False, default=False)
    auto_reply_action = auto_reply_action_field()
    sandbox = StrictBooleanField(required=False, default=False)


class TemplateDeleteSerializer(JsonInputSerializer):
    delete_from_meta = serializers.BooleanField(required=False, allow_null=True, default=False)
    sandbox = StrictBooleanField(required=False, default=False)


class TemplateDeletedSerializer(serializers.Serializer):
    """The SDK reads no body; we answer like the contacts DELETE does."""

    id = serializers.UUIDField()
    deleted = serializers.BooleanField()


class TemplatePreviewRequestSerializer(JsonInputSerializer):
    parameters = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=4096),
        required=False,
        help_text="Values by variable name; missing ones use the variable's sample.",
    )
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=defn.CHANNELS),
        required=False,
        max_length=len(defn.CHANNELS),
        help_text="Default: sms and whatsapp.",
    )


class RenderedButtonSerializer(serializers.Serializer):
    type = serializers.CharField()
    text = serializers.CharField(allow_null=True)
    value = serializers.CharField(allow_null=True)
    postbackData = serializers.CharField(allow_null=True)


class RenderedContentSerializer(serializers.Serializer):
    channel = serializers.CharField()
    body = serializers.CharField()
    header = serializers.CharField(allow_null=True)
    footer = serializers.CharField(allow_null=True)
    buttons = RenderedButtonSerializer(many=True)
    header_media = serializers.DictField(allow_null=True)
    encoding = serializers.ChoiceField(choices=["GSM-7", "UCS-2"], allow_null=True)
    segments = serializers.IntegerField()
    characters = serializers.IntegerField()


class TemplatePreviewSerializer(serializers.Serializer):
    template_id = serializers.UUIDField()
    parameters = serializers.DictField(child=serializers.CharField(), help_text="The values used.")
    previews = RenderedContentSerializer(many=True)
