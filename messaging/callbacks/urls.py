"""/providers/…: the callback URLs to register with each provider (docs/providers/README.md)."""

from django.urls import path

from messaging.callbacks import twilio, whatsapp

urlpatterns: list = [
    path("twilio/status", twilio.status, name="twilio-status"),
    path("twilio/inbound", twilio.inbound, name="twilio-inbound"),
    path("whatsapp/webhook", whatsapp.webhook, name="whatsapp-webhook"),
]
