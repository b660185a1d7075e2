"""Forms of the messaging pages: they check shape; the services check the rules."""

import re
from datetime import date, datetime, time, timedelta

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.text import Truncator

from messaging.models import KeywordAction, WebhookEndpoint
from messaging.sending import SendRequest, schedule_check
from messaging.webhooks.catalogue import FAMILIES
from messaging.webhooks.ssrf import loopback_allowed
from sent_project.dashboard import TITLE_SHOWN, DashboardForm
from sent_project.errors import SentError


def _filter_field(name: str) -> str:
    return f"only_{name}"


TIMEOUT_MIN, TIMEOUT_DEFAULT = 5, 30  # the API's lowest timeout_seconds and its default


def timeout_cap() -> int:
    """The most a delivery waits, in whole seconds (WEBHOOK_TIMEOUT_MAX_SECONDS)."""
    return max(1, int(settings.WEBHOOK_TIMEOUT_MAX_SECONDS))


class WebhookForm(DashboardForm):
    """Create or edit an endpoint. Per family, `only_<family>` narrows it to some events."""

    display_name = forms.CharField(
        label="Name", max_length=200, required=False, help_text="For you, e.g. “Order system”."
    )
    endpoint_url = forms.URLField(
        label="Endpoint URL",
        max_length=2048,
        assume_scheme="https",
        help_text="Sent POSTs signed JSON here. Private and loopback addresses are refused.",
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.example.com/sent"}),
    )
    event_types = forms.MultipleChoiceField(
        label="Events",
        choices=[(family.name, family.display_name) for family in FAMILIES.values()],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one kind of event."},
    )
    timeout_seconds = forms.IntegerField(label="Timeout (seconds)")  # set up in __init__

    def __init__(self, *args, endpoint: WebhookEndpoint | None = None, **kwargs):
        if endpoint is not None:
            kwargs.setdefault("initial", self.initial_for(endpoint))
        super().__init__(*args, **kwargs)
        # What the page says is what happens: the URL rule of this install (a receiver on this
        # machine is allowed in development) and the timeout it really waits at most
        # (docs/api/webhooks.md#receivers-on-this-machine).
        if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
            url_rule = "Private and loopback addresses are allowed (WEBHOOK_ALLOW_PRIVATE_TARGETS)."
        elif loopback_allowed():
            url_rule = (
                "Development (DEBUG on): a receiver on this machine (http://127.0.0.1:…, "
                "localhost) is allowed (WEBHOOK_ALLOW_LOOPBACK_IN_DEBUG); other private "
                "addresses are refused, and with DEBUG off (production) loopback is too unless "
                "WEBHOOK_ALLOW_PRIVATE_TARGETS is set."
            )
        else:
            url_rule = (
                "Private and loopback addresses are refused (WEBHOOK_ALLOW_PRIVATE_TARGETS "
                "allows them)."
            )
        self.fields["endpoint_url"].help_text = f"Sent POSTs signed JSON here. {url_rule}"
        # Offered and shown as it is effective: up to the install's cap (the API still takes
        # the SDK's 5–120 and waits at most the cap, docs/api/webhooks.md#receivers-on-this-machine).
        cap = timeout_cap()
        low = min(TIMEOUT_MIN, cap)
        self.fields["timeout_seconds"] = forms.IntegerField(
            label="Timeout (seconds)",
            min_value=low,
            max_value=cap,
            initial=min(TIMEOUT_DEFAULT, cap),
            help_text=f"How long Sent waits for your answer: {low}–{cap} s, the most this "
            "install waits (WEBHOOK_TIMEOUT_MAX_SECONDS).",
        )
        for family in FAMILIES.values():
            self.fields[_filter_field(family.name)] = forms.MultipleChoiceField(
                label=f"Only these {family.display_name.lower()} events",
                choices=list(family.events.items()),
                widget=forms.CheckboxSelectMultiple,
                required=False,
                help_text="None ticked: every event of this kind.",
            )

    @staticmethod
    def initial_for(endpoint: WebhookEndpoint) -> dict:
        initial = {
            "display_name": endpoint.display_name,
            "endpoint_url": endpoint.endpoint_url,
            "event_types": endpoint.event_types,
            "timeout_seconds": min(endpoint.timeout_seconds, timeout_cap()),
        }
        for family, suffixes in (endpoint.event_filters or {}).items():
            initial[_filter_field(family)] = suffixes
        return initial

    def families(self) -> list[dict]:
        """For the template: each family's checkbox next to its narrowing field."""
        boxes = {box.data["value"]: box for box in self["event_types"]}
        return [
            {"family": family, "box": boxes[family.name], "only": self[_filter_field(family.name)]}
            for family in FAMILIES.values()
        ]

    def service_fields(self) -> dict:
        """Keyword arguments for webhook_endpoint_create / webhook_endpoint_update."""
        data = self.cleaned_data
        filters = {
            family: data[_filter_field(family)]
            for family in data["event_types"]
            if data.get(_filter_field(family))
        }
        return {
            "display_name": data["display_name"],
            "endpoint_url": data["endpoint_url"],
            "event_types": data["event_types"],
            "event_filters": filters or None,
            "timeout_seconds": data["timeout_seconds"],
        }


class WebhookFilterForm(forms.Form):
    search = forms.CharField(required=False, max_length=200)
    status = forms.ChoiceField(
        required=False, choices=[("", "All"), ("active", "Active"), ("disabled", "Disabled")]
    )

    def selector_fields(self) -> dict:
        """Keyword arguments for webhooks_for (none while a filter is not valid)."""
        if not self.is_valid():
            return {}
        status = self.cleaned_data["status"]
        return {
            "search": self.cleaned_data["search"],
            "is_active": status == "active" if status else None,
        }


class WebhookTestForm(DashboardForm):
    """Which event to send as a test: one of the endpoint's families or their events."""

    event_type = forms.ChoiceField(label="Event")

    def __init__(self, *args, endpoint: WebhookEndpoint, **kwargs):
        super().__init__(*args, **kwargs)
        choices = []
        for name in endpoint.event_types:
            family = FAMILIES.get(name)
            if family is None:
                continue
            events = [(f"{name}.{suffix}", f"{name}.{suffix}") for suffix in family.events]
            choices.append((family.display_name, events))
        self.fields["event_type"].choices = choices
        # Start from an event the endpoint really receives: its first filter if narrowed,
        # else the most telling one (a delivery receipt) or the family's first.
        first = next((name for name in endpoint.event_types if name in FAMILIES), None)
        if first:
            wanted = (endpoint.event_filters or {}).get(first) or list(FAMILIES[first].events)
            suffix = "delivered" if "delivered" in wanted else wanted[0]
            self.fields["event_type"].initial = f"{first}.{suffix}"


# ---- the send playground and the message history

CHANNEL_CHOICES = [("sent", "Automatic"), ("sms", "SMS"), ("whatsapp", "WhatsApp")]
NUMBER_SPLIT = re.compile(r"[\n,;]+")


def picked_ids(data) -> list[str]:
    """The `contact` values of a query or a post (the picker's hidden inputs), each once."""
    return list(dict.fromkeys(value.strip() for value in data.getlist("contact") if value.strip()))[
        :1000
    ]


class ContactPickerForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)


class PlaygroundForm(DashboardForm):
    """A send, as the playground collects it: shape only (message_send checks the rest)."""

    mode = forms.ChoiceField(
        label="Content",
        choices=[("template", "A template"), ("text", "Free text")],
        initial="template",
        widget=forms.RadioSelect,
    )
    template = forms.ChoiceField(label="Template", required=False)
    text = forms.CharField(
        label="Text",
        required=False,
        max_length=4096,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Free text goes by SMS: it can't start a WhatsApp conversation.",
    )
    numbers = forms.CharField(
        label="Phone numbers",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "+1 415 555 0100, +44 7911 123456"}),
        help_text="Any format, one per line or separated by commas. New numbers become contacts.",
    )
    channel = forms.ChoiceField(
        label="Channel", choices=CHANNEL_CHOICES, initial="sent", widget=forms.RadioSelect
    )
    send_at = forms.DateTimeField(
        label="Send at (optional)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Your time zone's time; empty: now. Held as SCHEDULED until then, cancellable.",
    )
    sandbox = forms.BooleanField(
        label="Sandbox: run everything on the simulator and charge nothing",
        required=False,
        initial=True,
    )

    def __init__(self, *args, templates=(), template=None, samples=None, picked=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.template_object = template
        self.picked = list(picked)  # the chosen contacts (chips), as the view found them
        self.fields["template"].choices = [("", "Choose a template…")] + [
            (str(t.pk), f"{t.display_name or t.name} ({t.name})") for t in templates
        ]
        # What the drop-down shows: a long (automatic) title shortened, the whole in `title`.
        self.template_options = [
            {"value": "", "label": "Choose a template…", "title": ""},
            *(
                {
                    "value": str(t.pk),
                    "label": f"{Truncator(t.display_name or t.name).chars(TITLE_SHOWN)} ({t.name})",
                    "title": f"{t.display_name or t.name} ({t.name})",
                }
                for t in templates
            ),
        ]
        for name in template.variables if template is not None else []:
            self.fields[f"param_{name}"] = forms.CharField(
                label=name, required=False, max_length=1000, initial=(samples or {}).get(name, "")
            )

    def clean(self):
        data = super().clean()
        if data.get("mode") == "template" and not data.get("template"):
            self.add_error(
                "template",
                forms.ValidationError("Choose a template, or send free text.", code="missing"),
            )
        if data.get("mode") == "text" and not data.get("text", "").strip():
            self.add_error("text", forms.ValidationError("Write the text to send.", code="missing"))
        if data.get("send_at") is not None:
            try:
                data["send_at"] = schedule_check(data["send_at"])
            except SentError as error:
                self.add_error("send_at", error.details["scheduled_at"][0])
        return data

    def is_incomplete(self) -> bool:
        """Nothing to preview yet (no content or no recipient): not an error while composing."""
        if self.has_error("template", "missing") or self.has_error("text", "missing"):
            return True
        return self.is_valid() and not self.recipients()

    def named_errors(self) -> list[str]:
        """Every error, for the preview's list away from the fields: a variable's error
        names its variable ("Variable order_id: This parameter is required.")."""
        named = []
        for field, errors in self.errors.items():
            prefix = (
                f"Variable {field.removeprefix('param_')}: " if field.startswith("param_") else ""
            )
            named.extend(f"{prefix}{error}" for error in errors)
        return named

    def parameter_fields(self) -> list:
        return [self[name] for name in self.fields if name.startswith("param_")]

    def contact_ids(self) -> list[str]:
        """The picked contacts (hidden `contact` inputs), as given: message_send checks them."""
        return picked_ids(self.data) if self.is_bound else []

    def recipients(self) -> list[str]:
        numbers = [n.strip() for n in NUMBER_SPLIT.split(self.cleaned_data["numbers"]) if n.strip()]
        return list(dict.fromkeys([*self.contact_ids(), *numbers]))

    def send_request(self) -> SendRequest:
        data = self.cleaned_data
        template = data["mode"] == "template"
        return SendRequest(
            to=self.recipients(),
            channels=[data["channel"]],
            template_id=data["template"] or None if template else None,
            parameters={
                name.removeprefix("param_"): value
                for name, value in data.items()
                if name.startswith("param_")
            }
            if template
            else {},
            text=None if template else data["text"],
            sandbox=data["sandbox"],
            scheduled_at=data.get("send_at"),
        )


class MessageFilterForm(forms.Form):
    search = forms.CharField(required=False, max_length=200)
    status = forms.ChoiceField(required=False)
    channel = forms.ChoiceField(
        required=False, choices=[("", "Any channel"), ("sms", "SMS"), ("whatsapp", "WhatsApp")]
    )
    template = forms.UUIDField(required=False)
    contact = forms.UUIDField(required=False)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, statuses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", "Any status"), *statuses]

    def selector_fields(self) -> dict:
        """Keyword arguments for messages_for (none while a filter is not valid). `until` is
        inclusive: up to the start of the next day; the last date there is has no end."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        since, until = data["since"], data["until"]
        return {
            "search": data["search"],
            "statuses": [data["status"]] if data["status"] else None,
            "channels": [data["channel"]] if data["channel"] else None,
            "contact_id": data["contact"],
            "template_id": data["template"],
            "created_after": _day_start(since) if since else None,
            "created_before": _day_start(until + timedelta(days=1))
            if until and until < date.max
            else None,
        }


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# ---- the inbox: replies, simulated inbound messages, keywords


class ReplyForm(DashboardForm):
    """A reply in a thread: free text on one channel (message_send checks the rules: on
    WhatsApp only inside the contact's customer-service window)."""

    text = forms.CharField(
        label="Reply",
        max_length=4096,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Write a reply…"}),
        error_messages={"required": "Write the reply first."},
    )
    channel = forms.ChoiceField(
        label="Channel",
        choices=[("sms", "SMS"), ("whatsapp", "WhatsApp")],
        error_messages={"invalid_choice": "Reply on SMS or WhatsApp."},
    )
    sandbox = forms.BooleanField(
        label="Sandbox: the simulator delivers it and nothing is charged", required=False
    )

    def send_request(self, contact) -> SendRequest:
        data = self.cleaned_data
        return SendRequest(
            to=[str(contact.pk)],
            channels=[data["channel"]],
            text=data["text"],
            sandbox=data["sandbox"],
        )


class SimulatedInboundForm(DashboardForm):
    """A message as if a contact had sent it (stored as a sandbox message)."""

    from_number = forms.CharField(
        label="From",
        max_length=32,
        widget=forms.TextInput(attrs={"placeholder": "+1 415 555 0100", "autocomplete": "off"}),
        help_text="The contact's number, in international form.",
    )
    channel = forms.ChoiceField(
        label="Channel",
        choices=[("sms", "SMS"), ("whatsapp", "WhatsApp")],
        initial="whatsapp",
        widget=forms.RadioSelect,
    )
    text = forms.CharField(label="Text", max_length=4096, widget=forms.Textarea(attrs={"rows": 2}))


class KeywordForm(DashboardForm):
    """Add or change one of the customer's keywords (keyword_set checks the word)."""

    word = forms.CharField(
        label="Keyword",
        max_length=32,
        help_text="One word or a few (letters and digits), matched against the whole text, "
        "in any case: “HOURS” matches “hours?”.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "HOURS"}),
    )
    action = forms.ChoiceField(label="What it does", choices=())
    reply = forms.CharField(
        label="Reply",
        max_length=320,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Sent back on the channel it came in on. Empty: your auto-reply template for "
        "this action, else the default sentence (a custom keyword: no reply).",
    )
    is_active = forms.BooleanField(label="Active", required=False, initial=True)

    ACTIONS = [
        (KeywordAction.OTHER, "Custom (contact.custom_keyword)"),
        (KeywordAction.OPT_OUT, "Opt out (as STOP)"),
        (KeywordAction.OPT_IN, "Opt in (as START)"),
        (KeywordAction.HELP, "Help (as HELP)"),
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = self.ACTIONS
