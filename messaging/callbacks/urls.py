"""/providers/…: the callback URLs to register with each provider (docs/providers/README.md)."""

from django.urls import path

from messaging.callbacks import views

urlpatterns: list = [
    path("twilio/status", views.twilio_status, name="twilio-status"),
    path("twilio/inbound", views.twilio_inbound, name="twilio-inbound"),
    path("whatsapp/webhook", views.whatsapp_webhook, name="whatsapp-webhook"),
]
