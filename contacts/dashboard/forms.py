"""Forms of the contact pages: shape only. Numbers, channels and metadata are judged by the
contacts services, so the page says exactly what the API would."""

import json

from django import forms

from contacts.models import Contact
from sent_project.dashboard import DashboardForm

CHANNEL_FILTERS = [
    ("", "All"),
    ("sms", "SMS"),
    ("whatsapp", "WhatsApp"),
    ("opted_out", "Opted out"),
]
NUMBER_HELP = "Any format: +44 7911 123456, +1 (415) 555-0100, +33 6 12 34 56 78…"


class ContactCreateForm(DashboardForm):
    # Not required here: an empty number gets the service's own message.
    phone_number = forms.CharField(
        label="Phone number",
        max_length=64,
        required=False,
        help_text=NUMBER_HELP,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "inputmode": "tel", "placeholder": "+1 415 555 0100"}
        ),
    )
    name = forms.CharField(label="Name", max_length=200, required=False)


class ContactNameForm(DashboardForm):
    name = forms.CharField(
        label="Name",
        max_length=200,
        required=False,
        help_text="The person's name, up to 200 characters; search finds it. Empty clears it.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, contact: Contact, **kwargs):
        kwargs.setdefault("initial", {"name": contact.name})
        super().__init__(*args, **kwargs)


class ContactFilterForm(forms.Form):
    search = forms.CharField(required=False, max_length=100)
    channel = forms.ChoiceField(required=False, choices=CHANNEL_FILTERS)


class ContactDefaultChannelForm(DashboardForm):
    default_channel = forms.ChoiceField(label="Default channel")

    def __init__(self, *args, contact: Contact, **kwargs):
        kwargs.setdefault("initial", {"default_channel": contact.default_channel})
        super().__init__(*args, **kwargs)
        labels = {"sms": "SMS", "whatsapp": "WhatsApp"}
        self.fields["default_channel"].choices = [(c, labels[c]) for c in contact.channels]


class ContactMetadataForm(DashboardForm):
    metadata = forms.CharField(
        label="Metadata (JSON object)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "class": "mono"}),
        help_text='Your own fields, e.g. {"plan": "pro", "city": "Lisbon"}. Search matches their '
        "values.",
    )

    def __init__(self, *args, contact: Contact, **kwargs):
        text = (
            json.dumps(contact.metadata, indent=2, ensure_ascii=False) if contact.metadata else ""
        )
        kwargs.setdefault("initial", {"metadata": text})
        super().__init__(*args, **kwargs)

    def clean_metadata(self) -> dict:
        text = self.cleaned_data["metadata"].strip()
        if not text:
            return {}
        try:
            return json.loads(text, parse_constant=_not_json)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                f"This is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})."
            ) from None
        except RecursionError:
            raise forms.ValidationError("This JSON is nested too deeply.") from None


def _not_json(constant: str):
    """NaN and Infinity: Python reads them, JSON (the API, the database) does not."""
    raise forms.ValidationError(f"This is not valid JSON: {constant} is not a JSON value.")


class ContactImportForm(DashboardForm):
    file = forms.FileField(
        label="CSV file",
        help_text="A phone_number column (or phone, number, msisdn, mobile); optional opt_out "
        "and name; every other column becomes metadata. UTF-8.",
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The CSV must be UTF-8 text.") from None
