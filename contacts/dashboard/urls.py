from django.urls import path

from contacts.dashboard import import_views, views

app_name = "contacts"
urlpatterns = [
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/new/", views.contact_create_view, name="contact_create"),
    path("contacts/lookup/", views.contact_lookup, name="contact_lookup"),
    path("contacts/import/", import_views.contact_import, name="contact_import"),
    path(
        "contacts/import/<uuid:import_id>/",
        import_views.contact_import_detail,
        name="contact_import_detail",
    ),
    path("contacts/<uuid:contact_id>/", views.contact_detail, name="contact_detail"),
    path("contacts/<uuid:contact_id>/delete/", views.contact_delete_view, name="contact_delete"),
    path("contacts/<uuid:contact_id>/opt-out/", views.contact_opt_out, name="contact_opt_out"),
    path(
        "contacts/<uuid:contact_id>/default-channel/",
        views.contact_default_channel,
        name="contact_default_channel",
    ),
    path("contacts/<uuid:contact_id>/refresh/", views.contact_refresh, name="contact_refresh"),
    path("contacts/<uuid:contact_id>/metadata/", views.contact_metadata, name="contact_metadata"),
    path("contacts/<uuid:contact_id>/name/", views.contact_name, name="contact_name"),
]
