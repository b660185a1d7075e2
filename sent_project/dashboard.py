"""Dashboard plumbing shared by every app's pages: list pages (newest first, `has_more` from one
extra row, never a COUNT), redirects after a change, forms that show a service's error, and the
navigation. Who may see an account's pages is the billing app's (`billing.dashboard.access`)."""

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages as flash_messages
from django.forms.renderers import DjangoTemplates
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, resolve_url
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, Resolver404, reverse
from django.utils.module_loading import import_string
from django.views.defaults import page_not_found
from django_htmx.http import HttpResponseClientRedirect

from sent_project.api.envelope import is_api_request
from sent_project.api.pagination import MAX_PAGE
from sent_project.errors import SentError

# Characters of a title (a template's, often made from its text) a list or a drop-down
# shows before "…"; the whole title goes in the element's `title`.
TITLE_SHOWN = 40


def go_to(request: HttpRequest, to, *args) -> HttpResponse:
    """After a change: a full page load of `to` (a URL, or a URL name and its arguments, as
    `redirect` takes), htmx or not, so the flash messages show."""
    url = resolve_url(to, *args)
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@dataclass
class ListPage:
    rows: list
    number: int
    has_more: bool
    query: dict

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    def _url(self, number: int) -> str:
        return "?" + urlencode({**self.query, "page": number})

    @property
    def next_url(self) -> str:
        return self._url(self.number + 1)

    @property
    def previous_url(self) -> str:
        return self._url(self.number - 1)


def list_page(request: HttpRequest, queryset, *, size: int = 25) -> ListPage:
    """One page of `queryset`. A `page` that is not a number is the first page; one beyond
    MAX_PAGE (the API's limit) is read as MAX_PAGE, an empty page, not an offset too large
    for the database (a 500)."""
    try:
        number = min(max(1, int(request.GET.get("page", 1))), MAX_PAGE)
    except ValueError:
        number = 1
    offset = (number - 1) * size
    rows = list(queryset[offset : offset + size + 1])
    query = {k: v for k, v in request.GET.items() if k != "page" and v != ""}
    return ListPage(rows=rows[:size], number=number, has_more=len(rows) > size, query=query)


def navigation(request: HttpRequest) -> dict:
    """Context processor: the main navigation of `DASHBOARD_NAV` (project wiring: the pages of
    every app), only pages that exist and the user's role may open (`DASHBOARD_NAV_FILTER`, the
    billing app's, which owns roles), the current one marked."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    allowed = import_string(settings.DASHBOARD_NAV_FILTER)
    items = []
    for name, label in settings.DASHBOARD_NAV:
        if not allowed(request.user, name):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        items.append({"url": url, "label": label, "current": False})
    # The current page: the item whose URL is the longest start of the path ("/billing/prices/"
    # is Prices, not Billing too); "/" only for itself.
    matching = [
        item
        for item in items
        if (request.path == "/" if item["url"] == "/" else request.path.startswith(item["url"]))
    ]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["current"] = True
    return {"nav_items": items}


def form_add_sent_error(
    form: forms.Form, error: SentError, *, field_for: Callable[[str], str | None] | None = None
) -> None:
    """Show a service's error on the form the way the API reports it: each `details` entry
    next to its field (`field_for` maps a details path to a field; by default its first
    part, when the form has that field), anything else above the form."""
    placed = False
    for name, messages in (error.details or {}).items():
        field = field_for(name) if field_for else name.split(".")[0]
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)


class DashboardFormRenderer(DjangoTemplates):
    """Django's form renderer with our field layout: label, input, help, then errors, each
    tied to the input by `aria-describedby` (Django adds it) and `aria-invalid` on error."""

    field_template_name = "includes/_field.html"


class DashboardForm(forms.Form):
    """Base of the dashboard's forms: `{{ form.name.as_field_group }}` renders a field."""

    default_renderer = DashboardFormRenderer

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class NotFoundPageMiddleware:
    """With DEBUG on (the default of `make run`) a page that doesn't exist is still the
    product's 404 page (`404.html`), not Django's technical one: an unknown URL, and a view's
    `Http404` (another account's contact, a mistyped id). API paths keep their JSON envelope
    (the /v3 catch-all and `handler404`). With DEBUG off Django already renders `handler404`,
    the same page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and getattr(request, "resolver_match", None) is None  # no URL matched
            and not is_api_request(request)
        ):
            return page_not_found(request, Resolver404({"path": request.path}))
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        if settings.DEBUG and isinstance(exception, Http404) and not is_api_request(request):
            return page_not_found(request, exception)
        return None


# A spreadsheet reads a cell starting with one of these as a formula (CSV injection); such a
# cell is written with a leading apostrophe, which makes it text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """One CSV cell, safe to open in a spreadsheet: text that starts like a formula gets a
    leading apostrophe ("=HYPERLINK(…)" → "'=HYPERLINK(…)", "+14155550160" → "'+14155550160")."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Chunks:
    """A file-like object for csv.writer whose writes the streaming response hands on."""

    def __init__(self):
        self.chunks: list[str] = []

    def write(self, value: str) -> None:
        self.chunks.append(value)

    def take(self) -> str:
        text = "".join(self.chunks)
        self.chunks.clear()
        return text


def csv_response(filename: str, header: Iterable[str], rows: Iterable[Iterable]) -> HttpResponse:
    """A CSV download streamed row by row as `rows` yields them (never all in memory), every
    cell through `csv_cell`."""

    def lines():
        out = _Chunks()
        writer = csv.writer(out)
        writer.writerow(header)
        yield out.take()
        batch = 0
        for row in rows:
            writer.writerow([csv_cell(value) for value in row])
            batch += 1
            if batch == 500:  # a chunk of the response every 500 rows
                yield out.take()
                batch = 0
        yield out.take()

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class HtmxMessagesMiddleware:
    """Confirmations reach htmx answers too: when an htmx request leaves Django messages
    ("Deleted the contact +1 415-555-0100.") and its answer is a fragment swapped into the
    page, the page's messages area (`#flash`, includes/_flash.html) comes with it as an
    out-of-band swap. An answer that makes the browser load another page (HX-Redirect,
    HX-Location, HX-Refresh, a 3xx) leaves them for that page. Listed after MessageMiddleware."""

    LEAVE_FOR_NEXT_PAGE = ("HX-Redirect", "HX-Location", "HX-Refresh")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not getattr(request, "htmx", False):
            return response
        storage = flash_messages.get_messages(request)
        if (
            not response.streaming
            and response.status_code == 200  # not a 204 (no body), an error or a redirect
            and response.get("Content-Type", "").startswith("text/html")
            and not any(header in response for header in self.LEAVE_FOR_NEXT_PAGE)
            and not getattr(storage, "used", True)  # the answer did not show them itself
            and len(storage)
        ):
            area = render_to_string(
                "includes/_flash.html", {"messages": storage, "oob": True}, request=None
            )
            response.content += area.encode(response.charset)
        return response
