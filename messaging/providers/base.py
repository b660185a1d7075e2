"""The provider interfaces. Each provider is a small adapter class behind one of these.

This package is a leaf: it never imports contacts or any other app's models, so every app
(contacts for channel detection, messaging for sending) can use it without import cycles.
"""


class WhatsAppProvider:
    """What Sent needs from a WhatsApp provider. The messaging issue adds sending."""

    #: The value of settings.WHATSAPP_PROVIDER that selects this adapter.
    name = ""

    def lookup(self, e164: str) -> bool:
        """Is this number (E.164, e.g. "+14155550100") reachable on WhatsApp?"""
        raise NotImplementedError
