from django.urls import path

from contacts.api.import_views import ContactImportDetailView, ContactImportListCreateView
from contacts.api.views import (
    ConsentExportView,
    ContactConsentView,
    ContactDetailView,
    ContactListCreateView,
    ContactMessageSummaryView,
    NumberLookupView,
)

app_name = "contacts_api"
urlpatterns = [
    path("contacts", ContactListCreateView.as_view(), name="contacts"),
    path("contacts/import", ContactImportListCreateView.as_view(), name="contact-imports"),
    path(
        "contacts/import/<uuid:import_id>", ContactImportDetailView.as_view(), name="contact-import"
    ),
    path("contacts/consent/export", ConsentExportView.as_view(), name="consent-export"),
    path("contacts/<uuid:contact_id>", ContactDetailView.as_view(), name="contact"),
    path(
        "contacts/<uuid:contact_id>/message-summary",
        ContactMessageSummaryView.as_view(),
        name="contact-message-summary",
    ),
    path(
        "contacts/<uuid:contact_id>/consent", ContactConsentView.as_view(), name="contact-consent"
    ),
    path("numbers/lookup/<str:phone_number>", NumberLookupView.as_view(), name="number-lookup"),
]
