"""Forms of the messaging pages: they check shape; the services check the rules."""

from django import forms

from messaging.models import WebhookEndpoint
from messaging.webhooks.catalogue import FAMILIES
from sent_project.dashboard import DashboardForm


def _filter_field(name: str) -> str:
    return f"only_{name}"


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
    timeout_seconds = forms.IntegerField(
        label="Timeout (seconds)",
        min_value=5,
        max_value=120,
        initial=30,
        help_text="How long Sent waits for your answer (5–120).",
    )

    def __init__(self, *args, endpoint: WebhookEndpoint | None = None, **kwargs):
        if endpoint is not None:
            kwargs.setdefault("initial", self.initial_for(endpoint))
        super().__init__(*args, **kwargs)
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
            "timeout_seconds": endpoint.timeout_seconds,
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
        # Start from an event the endpoint really receives (its first filter, if narrowed).
        first = next(iter(endpoint.event_types), None)
        wanted = (endpoint.event_filters or {}).get(first)
        if wanted:
            self.fields["event_type"].initial = f"{first}.{wanted[0]}"
