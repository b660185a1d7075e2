"""/providers/…: the callback URLs to register with each provider (docs/providers/README.md)."""

from django.urls import path

from messaging.callbacks import twilio

urlpatterns: list = [
    path("twilio/status", twilio.status, name="twilio-status"),
    # The WhatsApp Cloud API callback is added by its module:
    # path("whatsapp/webhook", whatsapp.webhook, name="whatsapp-webhook"),
]
