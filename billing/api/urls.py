from django.urls import path

from billing.api.views import MeView

app_name = "billing_api"
urlpatterns = [
    path("me", MeView.as_view(), name="me"),
]
