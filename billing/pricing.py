"""What a message costs: one resolution rule, used by quotes, sends and the price list.

For (channel, country, category) the unit price is, first match wins:
1. the customer's `PriceOverride`, most specific first — (country, category), (country, any),
   (*, category), (*, any) — either a fixed unit price or a discount off step 2's price;
2. the `Price` table: the country's row, else the `*` row of the channel and category;
3. the built-in rate card (`billing.rate_card`), so a gap in the table never makes a
   message free or unpriceable.

SMS is priced per segment (`units = segments`); MMS per message (`units = 1`, whatever the
text's length); WhatsApp per message (`units = 1`) by
template category, and free-form text (no category) as SERVICE. Discounted unit prices
are rounded half-up to 4 decimal places before multiplying, so amount = unit × units exactly.
"""

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from billing import caching
from billing.models import ANY_COUNTRY, Channel, Customer, Price, PriceCategory, PriceOverride
from billing.rate_card import RATE_CARD
from sent_project.errors import InvalidChoice, ValidationFailed, ValueOutOfRange

CENT_FRACTION = Decimal("0.0001")
WHATSAPP_CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION", "SERVICE")
_COUNTRY = re.compile(r"^([A-Z]{2}|\*)$")


@dataclass(frozen=True)
class PriceQuote:
    """The price of one message, and where it came from."""

    channel: str
    country: str
    category: str  # "" for SMS
    units: int  # SMS segments; 1 for WhatsApp
    unit_price: Decimal  # what this customer pays per unit
    list_price: Decimal  # the table's unit price, before any override
    amount: Decimal  # unit_price × units
    source: str  # "override", "table" or "rate_card"
    row: str  # the row used, e.g. "whatsapp:*:MARKETING"
    discount_percent: Decimal | None = None
    currency: str = "USD"


def _normalize(channel: str, country: str, category: str | None) -> tuple[str, str, str]:
    channel = (channel or "").strip().lower()
    if channel not in Channel.values:
        raise InvalidChoice(
            details={"channel": [f"Must be one of: {', '.join(Channel.values)}."]},
        )
    country = (country or "").strip().upper()
    if not _COUNTRY.match(country):
        raise ValidationFailed(details={"country": ['A two-letter ISO code such as "DE".']})
    if channel in (Channel.SMS, Channel.MMS):
        return channel, country, ""  # an SMS or MMS costs the same whatever its category
    category = (category or PriceCategory.SERVICE).strip().upper()
    if category not in WHATSAPP_CATEGORIES:
        raise InvalidChoice(
            details={"category": [f"Must be one of: {', '.join(WHATSAPP_CATEGORIES)}."]},
        )
    return channel, country, category


class PriceBook:
    """The price table and one customer's overrides, loaded once (two queries, or none when
    cached), quoted in memory.

    Build one per request when pricing many messages: `book = PriceBook.load(customer)`,
    then `book.quote(...)` per recipient.
    """

    def __init__(self, prices: dict, overrides: dict):
        self.prices = prices  # (channel, country, category) → Decimal
        self.overrides = overrides  # (channel, country, category) → (unit_price, discount)

    @classmethod
    def load(cls, customer: Customer | None) -> "PriceBook":
        """The customer's book: from the cache for an API request's customer when neither the
        table nor its overrides changed since it was cached (`billing.caching`), else read."""
        if customer is None:
            return cls._read(None)
        return caching.customer_cached(customer, "prices", "book", lambda: cls._read(customer))

    @classmethod
    def _read(cls, customer: Customer | None) -> "PriceBook":
        prices = {
            (channel, country, category): unit_price
            for channel, country, category, unit_price in Price.objects.values_list(
                "channel", "country", "category", "unit_price"
            )
        }
        overrides = {}
        if customer is not None:
            rows = PriceOverride.objects.filter(customer=customer).values_list(
                "channel", "country", "category", "unit_price", "discount_percent"
            )
            overrides = {(ch, co, ca): (price, discount) for ch, co, ca, price, discount in rows}
        return cls(prices, overrides)

    def _list_price(self, channel: str, country: str, category: str) -> tuple[Decimal, str, str]:
        for source, table in (("table", self.prices), ("rate_card", RATE_CARD)):
            for key in ((channel, country, category), (channel, ANY_COUNTRY, category)):
                if key in table:
                    return table[key], source, ":".join(filter(None, key))
        raise LookupError(f"no price for {channel} {country} {category}")  # the card has every `*`

    def _override(self, channel: str, country: str, category: str):
        for key in (
            (channel, country, category),
            (channel, country, ""),
            (channel, ANY_COUNTRY, category),
            (channel, ANY_COUNTRY, ""),
        ):
            if key in self.overrides:
                return self.overrides[key]
        return None

    def quote(
        self, *, channel: str, country: str, segments: int = 1, category: str | None = None
    ) -> PriceQuote:
        channel, country, category = _normalize(channel, country, category)
        if not isinstance(segments, int) or segments < 1:
            raise ValueOutOfRange(details={"segments": ["Must be a whole number, 1 or more."]})
        units = segments if channel == Channel.SMS else 1
        list_price, source, row = self._list_price(channel, country, category)
        unit_price, discount = list_price, None
        override = self._override(channel, country, category)
        if override is not None:
            fixed, discount = override
            source = "override"
            if fixed is not None:
                unit_price = fixed
            else:
                unit_price = (list_price * (100 - discount) / 100).quantize(
                    CENT_FRACTION, rounding=ROUND_HALF_UP
                )
        return PriceQuote(
            channel=channel,
            country=country,
            category=category,
            units=units,
            unit_price=unit_price,
            list_price=list_price,
            amount=unit_price * units,
            source=source,
            row=row,
            discount_percent=discount,
        )

    def effective_prices(self, *, channel: str = "", country: str = "") -> list[PriceQuote]:
        """One single-unit quote per priced (channel, country, category), sorted.

        Covers every table and rate-card row plus the countries the customer's overrides
        name. With `country`, the prices that apply to that country (from its own rows
        or the `*` ones); with `channel`, that channel only.
        """
        keys = set(self.prices) | set(RATE_CARD)
        for ch, co, ca in self.overrides:
            categories = [ca] if ca or ch != Channel.WHATSAPP else WHATSAPP_CATEGORIES
            keys.update((ch, co, c) for c in categories)
        if country:
            keys = {(ch, country.upper(), ca) for ch, _, ca in keys}
        if channel:
            keys = {key for key in keys if key[0] == channel}
        quotes = [self.quote(channel=ch, country=co, category=ca or None) for ch, co, ca in keys]
        return sorted(
            quotes, key=lambda q: (q.channel, q.country == ANY_COUNTRY, q.country, q.category)
        )


def price_quote_detail(
    customer: Customer | None,
    *,
    channel: str,
    country: str,
    segments: int = 1,
    category: str | None = None,
) -> PriceQuote:
    """The full quote for one message (see the module docstring for the rule)."""
    return PriceBook.load(customer).quote(
        channel=channel, country=country, segments=segments, category=category
    )


def price_quote(
    customer: Customer | None,
    *,
    channel: str,
    country: str,
    segments: int = 1,
    category: str | None = None,
) -> Decimal:
    """What one message costs this customer, in USD (Decimal, 4 decimal places).

    `channel`: "sms", "mms" or "whatsapp". `country`: the recipient's ISO code ("DE").
    `segments`: the SMS segment count from the template renderer (ignored for WhatsApp).
    `category`: the template's MARKETING / UTILITY / AUTHENTICATION; None (free-form text)
    prices a WhatsApp message as SERVICE. Raises ValidationFailed (VALIDATION_005/006) on
    an unknown channel or category, a malformed country or segments < 1.
    Two queries; to price many messages, use `PriceBook.load(customer).quote(...)`.
    """
    return price_quote_detail(
        customer, channel=channel, country=country, segments=segments, category=category
    ).amount
