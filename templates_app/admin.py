"""The admin for templates: read-only records, a readable definition with per-channel
previews, and the operator's status actions (approve, reject with a reason, pause, archive)."""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join

from sent_project.admin import ReadOnlyAdmin
from sent_project.errors import SentError
from templates_app.lifecycle import (
    template_approve,
    template_archive,
    template_pause,
    template_reject,
)
from templates_app.models import Template, TemplateStatusChange
from templates_app.rendering import template_preview


class TemplateStatusChangeInline(admin.TabularInline):
    model = TemplateStatusChange
    fields = ["created_at", "channel", "from_status", "to_status", "source", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RejectForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Shown to the customer as the rejection reason.",
    )


@admin.register(Template)
class TemplateAdmin(ReadOnlyAdmin):
    """View-only: templates change through the API and the services, and here only
    through the status actions."""

    list_display = [
        "name",
        "display_name",
        "customer",
        "category",
        "language",
        "status",
        "is_published",
        "updated_at",
    ]
    list_filter = ["status", "category", "language", "auto_reply_action"]
    search_fields = ["name", "display_name", "customer__name", "=id"]
    list_select_related = ["customer"]
    fields = [
        "id",
        "customer",
        "name",
        "display_name",
        "category",
        "language",
        "status",
        "rejection_reason",
        "is_published",
        "whatsapp_template_id",
        "whatsapp_template_name",
        "whatsapp_rejection_reason",
        "creation_source",
        "auto_reply_action",
        "created_at",
        "updated_at",
        "preview",
        "definition_json",
    ]
    readonly_fields = fields
    inlines = [TemplateStatusChangeInline]
    actions = ["approve", "reject", "pause", "archive"]

    @admin.display(description="Definition")
    def definition_json(self, template: Template):
        return format_html(
            "<pre>{}</pre>", json.dumps(template.definition, indent=2, ensure_ascii=False)
        )

    @admin.display(description="Preview (with the variables' samples)")
    def preview(self, template: Template):
        try:
            _values, previews = template_preview(template)
        except SentError as error:
            return error.message
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td><pre>{}</pre></td><td>{}</td><td>{}</td></tr>",
            (
                (
                    p.channel,
                    "\n".join(filter(None, [p.header, p.body, p.footer])),
                    p.encoding or "–",
                    p.segments,
                )
                for p in previews
            ),
        )
        return format_html(
            "<table><tr><th>Channel</th><th>Text</th><th>Encoding</th><th>Segments</th></tr>"
            "{}</table>",
            rows,
        )

    def _apply(self, request, queryset, operation, done: str) -> None:
        changed, refused = 0, []
        for template in queryset.select_related("customer"):
            try:
                operation(template)
                changed += 1
            except SentError as error:
                refused.append(f"{template.name}: {error.message}")
        if changed:
            self.message_user(request, f"{changed} template(s) {done}.")
        if refused:
            self.message_user(request, "Not changed — " + "; ".join(refused), messages.WARNING)

    @admin.action(description="Approve selected templates")
    def approve(self, request, queryset):
        self._apply(request, queryset, template_approve, "approved")

    @admin.action(description="Reject selected templates (asks for a reason)")
    def reject(self, request, queryset):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            self._apply(request, queryset, lambda t: template_reject(t, reason=reason), "rejected")
            return None
        return TemplateResponse(
            request,
            "admin/templates_app/template/reject.html",
            {
                **self.admin_site.each_context(request),
                "title": "Reject templates",
                "opts": self.model._meta,
                "templates": queryset,
                "form": form,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Pause selected templates")
    def pause(self, request, queryset):
        self._apply(request, queryset, template_pause, "paused")

    @admin.action(description="Archive selected templates")
    def archive(self, request, queryset):
        self._apply(request, queryset, template_archive, "archived")
