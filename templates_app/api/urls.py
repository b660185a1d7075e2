from django.urls import path

from templates_app.api.views import TemplateDetailView, TemplateListCreateView, TemplatePreviewView

app_name = "templates_app_api"
urlpatterns = [
    path("templates", TemplateListCreateView.as_view(), name="templates"),
    path("templates/<uuid:id>", TemplateDetailView.as_view(), name="template"),
    path("templates/<uuid:id>/preview", TemplatePreviewView.as_view(), name="template-preview"),
]
