"""The built-in rate card: what `prices_seed_defaults()` writes, and the last resort of a quote.

USD, four decimal places. Figures follow the public rate cards of late 2025:
- SMS: Twilio's outbound price per segment to each country (carrier surcharges excluded).
- MMS: Twilio's outbound price per message to the US and Canada (carrier fees excluded).
- WhatsApp: Meta's per-message price for each template category and market, plus a
  platform fee of 0.0050 per message (what Twilio adds on top of Meta). Free-form text
  (no template) can only be sent inside the 24-hour customer-service window, where Meta
  charges nothing, so it is priced as SERVICE: the platform fee alone.

The `*` rows price every country not listed. Sanity anchors (tested): an Indian WhatsApp
utility message (0.0064) costs less than a US SMS segment (0.0083), and a German WhatsApp
marketing message (0.1415) more than ten of them.

This module is plain data (imported by a data migration too): change figures in the
admin, not here; a change here only affects databases seeded after it.
"""

from decimal import Decimal
from types import MappingProxyType

PLATFORM_FEE = Decimal("0.0050")

# Country → USD per SMS segment.
SMS: dict[str, str] = {
    "US": "0.0083",
    "CA": "0.0083",
    "GB": "0.0524",
    "DE": "0.0995",
    "FR": "0.0794",
    "ES": "0.0843",
    "IT": "0.0886",
    "NL": "0.1178",
    "BR": "0.0513",
    "MX": "0.0577",
    "IN": "0.0832",
    "NG": "0.3044",
    "ZA": "0.0384",
    "AU": "0.0515",
    "*": "0.1000",
}

# Country → USD per MMS (one message, whatever its length, up to Twilio's media limits).
# Sent carries MMS to the US and Canada only (docs/api/messages.md#mms); the `*` row keeps
# every channel priceable.
MMS: dict[str, str] = {
    "US": "0.0220",
    "CA": "0.0220",
    "*": "0.0220",
}

# Country → Meta's USD per message (marketing, utility, authentication), before the fee.
WHATSAPP_META: dict[str, tuple[str, str, str]] = {
    "US": ("0.0250", "0.0034", "0.0034"),
    "CA": ("0.0250", "0.0034", "0.0034"),
    "GB": ("0.0529", "0.0220", "0.0358"),
    "DE": ("0.1365", "0.0550", "0.0768"),
    "FR": ("0.0859", "0.0300", "0.0688"),
    "ES": ("0.0615", "0.0200", "0.0342"),
    "IT": ("0.0691", "0.0300", "0.0378"),
    "NL": ("0.1597", "0.0500", "0.0727"),
    "BR": ("0.0625", "0.0068", "0.0068"),
    "MX": ("0.0305", "0.0085", "0.0085"),
    "IN": ("0.0118", "0.0014", "0.0014"),
    "NG": ("0.0516", "0.0067", "0.0067"),
    "ZA": ("0.0379", "0.0076", "0.0076"),
    "AU": ("0.0737", "0.0160", "0.0135"),
    "*": ("0.0604", "0.0077", "0.0280"),
}
WHATSAPP_CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")


def _build() -> dict[tuple[str, str, str], Decimal]:
    card = {("sms", country, ""): Decimal(price) for country, price in SMS.items()}
    card.update({("mms", country, ""): Decimal(price) for country, price in MMS.items()})
    for country, prices in WHATSAPP_META.items():
        for category, meta_price in zip(WHATSAPP_CATEGORIES, prices, strict=True):
            card["whatsapp", country, category] = Decimal(meta_price) + PLATFORM_FEE
    card["whatsapp", "*", "SERVICE"] = PLATFORM_FEE
    return card


# (channel, country, category) → USD unit price, for every built-in row.
RATE_CARD = MappingProxyType(_build())


def rate_card_rows(price_model) -> list:
    """Unsaved `price_model` instances for the whole card (the model or a migration's copy)."""
    return [
        price_model(channel=channel, country=country, category=category, unit_price=price)
        for (channel, country, category), price in RATE_CARD.items()
    ]
