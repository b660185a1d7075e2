"""The template editor's form. People write variables as `{{name}}`; the form turns the texts
into the API's definition (`{{0:name}}` placeholders with a `variables` list) — that
is its shape work. The rules are checked by the services (`definition_normalize`)."""

import copy
import re

from django import forms

from sent_project.dashboard import DashboardForm
from templates_app.definition import PLACEHOLDER_RE
from templates_app.models import Template, TemplateCategory

# What people type: {{name}} (spaces allowed inside the braces).
NAMED_RE = re.compile(r"\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}")
LAYOUTS = [
    ("same", "Same text on SMS and WhatsApp"),
    ("separate", "Different SMS and WhatsApp texts"),
    ("sms", "SMS only"),
]
# Definition paths (as the services report them) → the field that holds that text.
FIELD_FOR_PATH = [
    ("definition.body.multiChannel", "body"),
    ("definition.body.sms", "sms_body"),
    ("definition.body.whatsapp", "whatsapp_body"),
    ("definition.body", "body"),
    ("definition.header", "header"),
    ("definition.footer", "footer"),
]
TEXT_FIELDS = ("header", "body", "sms_body", "whatsapp_body", "footer")


def field_for(path: str) -> str | None:
    """The editor field a service error path belongs to (None: shown above the form)."""
    for prefix, field in FIELD_FOR_PATH:
        if path == prefix or path.startswith(prefix + "."):
            return field
    top = path.split(".")[0]
    return top if top in ("name", "display_name", "category", "language") else None


def variable_names(*texts: str) -> list[str]:
    """The variables written in these texts, in order of first use."""
    return list(dict.fromkeys(name for text in texts for name in NAMED_RE.findall(text or "")))


def _section(text: str, samples: dict[str, str], start: int) -> dict:
    names = variable_names(text)
    ids = {name: start + n for n, name in enumerate(names)}
    variables = []
    for name in names:
        props = {"variableType": "text"}
        if samples.get(name):
            props["sample"] = samples[name]
        variables.append({"id": ids[name], "name": name, "type": "variable", "props": props})
    template = NAMED_RE.sub(lambda m: f"{{{{{ids[m.group(1)]}:{m.group(1)}}}}}", text)
    return {"type": "text", "template": template, "variables": variables}


def _text(section: dict | None) -> str:
    """A definition section's text with its placeholders written back as {{name}}."""
    if not section:
        return ""
    names = {variable["id"]: variable["name"] for variable in section.get("variables") or []}

    def named(match):
        name = names.get(int(match.group(1)))
        return f"{{{{{name}}}}}" if name else match.group(0)

    return PLACEHOLDER_RE.sub(named, section.get("template") or "")


def _first_id(definition: dict) -> int:
    """Where the definition's variable ids start (0 as in the SDK, or 1 as in the seeds)."""
    ids = [
        variable["id"]
        for section in _all_sections(definition)
        for variable in section.get("variables") or []
    ]
    return min(ids) if ids else 0


def _all_sections(definition: dict) -> list[dict]:
    body = definition.get("body") or {}
    sections = [definition.get("header"), definition.get("footer"), *body.values()]
    sections += [button.get("props") for button in definition.get("buttons") or []]
    return [section for section in sections if isinstance(section, dict)]


class TemplateForm(DashboardForm):
    display_name = forms.CharField(
        label="Title",
        max_length=200,
        required=False,
        help_text="For you. Made from the text if empty.",
    )
    name = forms.CharField(
        label="Reference name",
        max_length=100,
        required=False,
        help_text="What your code sends with, e.g. order_shipped. Made from the text if empty.",
    )
    category = forms.ChoiceField(
        label="Category",
        required=False,
        choices=[("", "Detect from the text"), *TemplateCategory.choices],
        help_text="WhatsApp prices and reviews by category.",
    )
    language = forms.CharField(label="Language", max_length=16, initial="en_US")
    layout = forms.ChoiceField(
        label="Channels", choices=LAYOUTS, initial="same", widget=forms.RadioSelect
    )
    header = forms.CharField(
        label="Header",
        required=False,
        max_length=200,
        help_text="Optional. WhatsApp shows it in bold; SMS puts it on the first line.",
    )
    body = forms.CharField(
        label="Message",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Write variables as {{name}}, e.g. Hi {{first_name}}, your code is {{code}}.",
    )
    sms_body = forms.CharField(
        label="SMS text", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    whatsapp_body = forms.CharField(
        label="WhatsApp text", required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    footer = forms.CharField(
        label="Footer",
        required=False,
        max_length=200,
        help_text="Optional, e.g. Reply STOP to opt out.",
    )

    def __init__(self, *args, template: Template | None = None, **kwargs):
        self.template = template
        if template is not None:
            kwargs.setdefault("initial", self.initial_for(template))
        super().__init__(*args, **kwargs)
        source = self.data if self.is_bound else self.initial
        samples = self.initial.get("samples", {})
        for name in variable_names(*(source.get(field, "") for field in TEXT_FIELDS)):
            self.fields[f"sample_{name}"] = forms.CharField(
                label=name, required=False, max_length=200, initial=samples.get(name, "")
            )

    @staticmethod
    def initial_for(template: Template) -> dict:
        definition = template.definition
        body = definition.get("body") or {}
        header = definition.get("header") or {}
        layout = (
            "same" if body.get("multiChannel") else "separate" if body.get("whatsapp") else "sms"
        )
        samples = {}
        for section in _all_sections(definition):
            for variable in section.get("variables") or []:
                sample = (variable.get("props") or {}).get("sample")
                if sample:
                    samples.setdefault(variable["name"], sample)
        return {
            "display_name": template.display_name,
            "name": template.name,
            "category": template.category,
            "language": template.language,
            "layout": layout,
            "header": _text(header) if header.get("type", "text") == "text" else "",
            "body": _text(body.get("multiChannel")),
            "sms_body": _text(body.get("sms")),
            "whatsapp_body": _text(body.get("whatsapp")),
            "footer": _text(definition.get("footer")),
            "samples": samples,
        }

    def sample_fields(self) -> list:
        return [self[name] for name in self.fields if name.startswith("sample_")]

    def samples(self) -> dict[str, str]:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return {
            name.removeprefix("sample_"): (data.get(name) or "").strip()
            for name in self.fields
            if name.startswith("sample_")
        }

    def kept_parts(self) -> list[str]:
        """What the existing template has that this editor doesn't edit (kept as it is)."""
        if self.template is None:
            return []
        definition = self.template.definition
        kept = []
        header = definition.get("header") or {}
        if header and header.get("type", "text") != "text":
            kept.append(f"its {header['type']} header")
        if definition.get("buttons"):
            kept.append(f"{len(definition['buttons'])} button(s)")
        if definition.get("authenticationConfig"):
            kept.append("its code settings")
        return kept

    def definition(self) -> dict:
        """The API definition these texts make (on top of the existing one, keeping
        what the editor doesn't show: media headers, buttons, authentication settings)."""
        data = self.cleaned_data
        base = copy.deepcopy(self.template.definition) if self.template else {}
        start = _first_id(base) if base else 0
        samples = self.samples()
        definition = {k: v for k, v in base.items() if k not in ("body", "footer")}
        if data["layout"] == "same":
            body = {"multiChannel": _section(data["body"], samples, start)}
        elif data["layout"] == "separate":
            body = {
                "sms": _section(data["sms_body"], samples, start),
                "whatsapp": _section(data["whatsapp_body"], samples, start),
            }
        else:
            body = {"sms": _section(data["sms_body"] or data["body"], samples, start)}
        definition["body"] = body
        if data["header"]:
            definition["header"] = _section(data["header"], samples, start)
        elif (base.get("header") or {}).get("type", "text") == "text":
            definition.pop("header", None)
        if data["footer"]:
            definition["footer"] = _section(data["footer"], samples, start)
        return definition

    def service_fields(self) -> dict:
        """Keyword arguments for template_create / template_update."""
        data = self.cleaned_data
        return {
            "definition": self.definition(),
            "category": data["category"] or None,
            "language": data["language"],
            "name": data["name"] or None,
            "display_name": data["display_name"] or None,
        }


class TemplateFilterForm(forms.Form):
    search = forms.CharField(required=False, max_length=200)
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *Template.Status.choices]
    )
    category = forms.ChoiceField(
        required=False, choices=[("", "Any category"), *TemplateCategory.choices]
    )
