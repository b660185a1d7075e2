"""/providers/…: the callback URLs to register with each provider (docs/providers/README.md)."""

urlpatterns: list = [
    # The Twilio and WhatsApp Cloud API callbacks are added by their modules:
    # path("twilio/status", twilio.status, name="twilio-status"),
    # path("whatsapp/webhook", whatsapp.webhook, name="whatsapp-webhook"),
]
