"""Template pages: list, editor with a live preview per channel, detail with the status
history, submit for review, delete. They call templates_app's services and selectors."""

from contextlib import suppress

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.dashboard.access import customer_required
from sent_project.dashboard import form_add_sent_error, go_to, list_page
from sent_project.errors import SentError
from templates_app.dashboard.forms import TEXT_FIELDS, TemplateFilterForm, TemplateForm, field_for
from templates_app.definition import detect_category
from templates_app.errors import TemplateNotFound
from templates_app.models import Template
from templates_app.rendering import template_preview
from templates_app.review import needs_whatsapp_review
from templates_app.selectors import template_get, templates_for
from templates_app.services import (
    EDITABLE,
    RESERVED_PREFIX,
    template_create,
    template_delete,
    template_submit,
    template_update,
)
from templates_app.validation import definition_normalize
from templates_app.whatsapp_rules import whatsapp_rule_breaches

LIST = "templates_app/template_list.html"
FORM = "templates_app/template_form.html"
DETAIL = "templates_app/template_detail.html"
# The button shows where a review is still to come (an approved template is re-submitted by
# editing it); the services decide what may be edited.
SUBMITTABLE = {Template.Status.DRAFT, Template.Status.REJECTED}


@customer_required
@require_GET
def template_list(request) -> HttpResponse:
    filters = TemplateFilterForm(request.GET)
    query = filters.cleaned_data if filters.is_valid() else {}
    templates = templates_for(
        request.customer,
        statuses=[query["status"]] if query.get("status") else None,
        categories=[query["category"]] if query.get("category") else None,
        search=query.get("search", ""),
    )
    context = {
        "page": list_page(request, templates),
        "filters": filters,
        "filtered": bool(query and any(query.values())),
    }
    if request.htmx.target == "templates":
        return render(request, f"{LIST}#templates", context)
    return render(request, LIST, context)


def _preview(form: TemplateForm) -> dict:
    """What the editor's preview panel shows: each channel rendered with the sample values,
    the problems the services would refuse the content for (format rules: they block
    saving), and WhatsApp's template rules the content breaks, as advice (checked when it
    is submitted for WhatsApp review; a draft or SMS may break them). Checked as you type."""
    if not form.is_bound and form.template is not None:
        template = form.template
        return {
            "previews": template_preview(template)[1],
            "problems": [],
            "advice": _whatsapp_advice(template),
        }
    form = _previewable(form)
    if form is None:
        return {"previews": [], "problems": [], "advice": []}
    definition = form.definition()
    category = form.cleaned_data["category"] or detect_category(definition)
    problems, advice = [], []
    template = Template(
        definition=definition, category=category, name=form.cleaned_data["name"] or "preview"
    )
    try:
        template.definition = definition_normalize(definition, category=category)
    except SentError as error:
        problems = [
            message for messages_ in (error.details or {}).values() for message in messages_
        ]
    else:
        advice = _whatsapp_advice(template)
    previews = []
    # Content too broken to render shows no preview: the problems say why.
    with suppress(SentError, KeyError, TypeError, ValueError):
        _values, previews = template_preview(template, parameters=form.samples())
    return {"previews": previews, "problems": problems, "advice": advice, "category": category}


def _previewable(form: TemplateForm) -> TemplateForm | None:
    """The texts in the form, to preview whatever else is wrong: a form refused by a service
    (a name already used, a text the rules refuse) or with a field in error (the language,
    the name) still shows the texts that are in it. None when there is no text to show."""
    fresh = TemplateForm(form.data, template=form.template)
    if fresh.is_valid():
        return fresh
    data = fresh.cleaned_data
    if "layout" not in data:
        return None
    for name in fresh.errors:
        if name in TEXT_FIELDS:  # a text too long for its field: shown as written
            data[name] = fresh.data.get(name, "")
        elif name in fresh.fields:
            data[name] = "en_US" if name == "language" else ""
    return fresh


def _whatsapp_advice(template: Template) -> list[str]:
    """WhatsApp's template rules this (well-formed) content breaks, where WhatsApp will
    review it."""
    if not needs_whatsapp_review(template):
        return []
    breaches = whatsapp_rule_breaches(template.definition, category=template.category)
    return [message for messages_ in breaches.values() for message in messages_]


def _editor(request, form: TemplateForm, template: Template | None) -> HttpResponse:
    context = {"form": form, "template": template, "preview": _preview(form)}
    if request.htmx:
        return render(request, f"{FORM}#editor", context)
    return render(request, FORM, context)


@customer_required
@require_http_methods(["GET", "POST"])
def template_create_view(request) -> HttpResponse:
    return _editor_page(request, None)


@customer_required
@require_http_methods(["GET", "POST"])
def template_edit(request, template_id) -> HttpResponse:
    return _editor_page(request, template_get(request.customer, template_id))


def _editor_page(request, template: Template | None) -> HttpResponse:
    """The editor (GET), or its texts saved with template_create / template_update (POST):
    then to the template's page, or back to the editor with each error next to its text."""
    form = TemplateForm(request.POST or None, template=template)
    if request.method == "POST" and form.is_valid():
        fields = {**form.service_fields(), "submit_for_review": "submit" in request.POST}
        try:
            if template is None:
                saved = template_create(request.customer, **fields)
            else:
                saved = template_update(request.customer, template, **fields)
        except SentError as error:
            form_add_sent_error(form, error, field_for=field_for)
        else:
            messages.success(request, _saved_message(saved, created=template is None))
            return go_to(request, "templates_app:template_detail", saved.pk)
    return _editor(request, form, template)


def _saved_message(template: Template, *, created: bool) -> str:
    done = "created" if created else "saved"
    if template.status == Template.Status.PENDING:
        return f"Template {template.name} {done} and submitted for review."
    if template.whatsapp_status == Template.Status.REJECTED and template.status == "APPROVED":
        return (
            f"Template {template.name} {done}: approved for SMS. WhatsApp's template rules "
            "refuse its WhatsApp text, so it sends on SMS only until you fix it."
        )
    if template.status == Template.Status.APPROVED:
        return f"Template {template.name} {done}: it is approved and ready to send."
    return f"Template {template.name} {done} as a {template.get_status_display().lower()}."


@customer_required
@require_POST
def template_preview_view(request, template_id=None) -> HttpResponse:
    """The editor's preview panel for the texts typed so far (nothing is saved)."""
    template = template_get(request.customer, template_id) if template_id else None
    form = TemplateForm(request.POST, template=template)
    context = {"form": form, "template": template, "preview": _preview(form), "oob": True}
    response = render(request, f"{FORM}#preview", context)
    if request.POST.get("_variables") != ",".join(field.name for field in form.sample_fields()):
        # The variables changed: swap their sample inputs too (out of band).
        response.content += render(request, f"{FORM}#samples", context).content
    return response


@customer_required
@require_GET
def template_detail(request, template_id) -> HttpResponse:
    """The template's page; polled while it is in review (htmx, target `template-live`):
    204 while it is still PENDING, the page's content once the verdict is in; deleted
    meanwhile (in another tab): the list, saying so, instead of a poll that 404s forever."""
    live = request.htmx.target == "template-live"
    try:
        template = template_get(request.customer, template_id)
    except TemplateNotFound:
        if not live:
            raise
        messages.info(request, "That template was deleted.")
        return go_to(request, "templates_app:template_list")
    if live and template.status == Template.Status.PENDING:
        return HttpResponse(status=204)
    try:
        values, previews = template_preview(template)
    except SentError:
        values, previews = {}, []
    context = {
        "template": template,
        "previews": previews,
        "values": values,
        "history": list(template.status_changes.all())[::-1],
        "can_submit": template.status in SUBMITTABLE,
        "can_edit": template.status in EDITABLE and not template.name.startswith(RESERVED_PREFIX),
    }
    return render(request, f"{DETAIL}#live" if live else DETAIL, context)


@customer_required
@require_POST
def template_submit_view(request, template_id) -> HttpResponse:
    template = template_get(request.customer, template_id)
    try:
        template = template_submit(request.customer, template)
    except SentError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _saved_message(template, created=False))
    return go_to(request, "templates_app:template_detail", template.pk)


@customer_required
@require_POST
def template_delete_view(request, template_id) -> HttpResponse:
    template = template_get(request.customer, template_id)
    try:
        template_delete(request.customer, template)
    except SentError as error:
        messages.error(request, error.message)
        return go_to(request, "templates_app:template_detail", template.pk)
    messages.success(request, f"Deleted the template {template.name}.")
    return go_to(request, "templates_app:template_list")
