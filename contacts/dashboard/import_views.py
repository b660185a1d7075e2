"""CSV import pages: upload, then a progress view that polls until the import has finished,
with the per-row results. The same functions as POST /v3/contacts/import."""

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRefresh

from billing.dashboard.access import customer_required
from contacts.dashboard.forms import ContactImportForm
from contacts.imports import import_payload_from_csv
from contacts.models import ContactImport, ContactImportRow
from contacts.selectors import contact_import_get, contact_import_rows, contact_imports_for
from contacts.services import contact_import_create
from sent_project.dashboard import form_add_sent_error, list_page
from sent_project.errors import SentError

UPLOAD = "contacts/contact_import.html"
PROGRESS = "contacts/contact_import_detail.html"
FINISHED = {ContactImport.Status.COMPLETED.value, ContactImport.Status.FAILED.value}


@customer_required
@require_http_methods(["GET", "POST"])
def contact_import(request) -> HttpResponse:
    form = ContactImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = request.FILES["file"]
        try:
            payload, rows = import_payload_from_csv(form.cleaned_data["file"])
            contact_import = contact_import_create(
                request.customer,
                source_format=ContactImport.Format.CSV,
                payload=payload,
                total_rows=rows,
                filename=upload.name or "",
            )
        except SentError as error:
            form_add_sent_error(form, error)
        else:
            return redirect("contacts:contact_import_detail", import_id=contact_import.pk)
    context = {
        "form": form,
        "page": list_page(request, contact_imports_for(request.customer), size=10),
    }
    return render(request, UPLOAD, context)


@customer_required
@require_GET
def contact_import_detail(request, import_id) -> HttpResponse:
    contact_import = contact_import_get(request.customer, import_id=import_id)
    status = request.GET.get("status", "")
    if status not in ContactImportRow.Status.values:
        status = ""
    finished = contact_import.status in FINISHED
    context = {
        "import": contact_import,
        "finished": finished,
        "status": status,
        "statuses": ContactImportRow.Status.choices,
        "percent": _percent(contact_import),
        "page": list_page(request, contact_import_rows(contact_import, status=status), size=50)
        if finished
        else None,
    }
    if request.htmx.target == "import-progress":
        if finished:  # show the row results: a full page
            return HttpResponseClientRefresh()
        return render(request, f"{PROGRESS}#import-progress", context)
    if request.htmx.target == "import-rows":
        return render(request, f"{PROGRESS}#import-rows", context)
    return render(request, PROGRESS, context)


def _percent(contact_import: ContactImport) -> int:
    if not contact_import.total_rows:
        return 100 if contact_import.status in FINISHED else 0
    return min(100, round(100 * contact_import.processed_rows / contact_import.total_rows))
