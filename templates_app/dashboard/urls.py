from django.urls import path

from templates_app.dashboard import views

app_name = "templates_app"
urlpatterns = [
    path("templates/", views.template_list, name="template_list"),
    path("templates/new/", views.template_create_view, name="template_create"),
    path("templates/preview/", views.template_preview_view, name="template_preview_new"),
    path("templates/<uuid:template_id>/", views.template_detail, name="template_detail"),
    path("templates/<uuid:template_id>/edit/", views.template_edit, name="template_edit"),
    path(
        "templates/<uuid:template_id>/preview/",
        views.template_preview_view,
        name="template_preview",
    ),
    path(
        "templates/<uuid:template_id>/submit/", views.template_submit_view, name="template_submit"
    ),
    path(
        "templates/<uuid:template_id>/delete/", views.template_delete_view, name="template_delete"
    ),
]
