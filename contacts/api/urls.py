from django.urls import path  # noqa: F401

app_name = "contacts_api"
urlpatterns: list = []
