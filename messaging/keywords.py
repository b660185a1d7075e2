"""Inbound keywords: STOP, START, HELP and a customer's own (docs/api/inbound.md#keywords).

A keyword is the whole inbound text, ignoring case, surrounding spaces and punctuation
("Stop.", " stop!" and "STOP" are STOP; "please stop texting me" is not). The defaults follow
the carriers' (CTIA) list; a customer's `Keyword` rows override a default word (another
action, another reply, or `is_active=False` to turn it off) and add custom ones.
"""

import unicodedata
from dataclasses import dataclass

from billing.roles import acting, require
from messaging.models import Keyword, KeywordAction

A = KeywordAction
DEFAULT_KEYWORDS: dict[str, str] = {
    **dict.fromkeys(["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"], A.OPT_OUT),
    **dict.fromkeys(["START", "UNSTOP", "YES"], A.OPT_IN),
    "HELP": A.HELP,
}
# The reply when neither the keyword nor an auto-reply template gives one; {name} is the
# customer's name. A custom keyword without a reply gets none.
DEFAULT_REPLIES = {
    A.OPT_OUT: "You are unsubscribed from {name} and will get no more messages. "
    "Reply START to subscribe again.",
    A.OPT_IN: "You are subscribed to {name} again. Reply STOP to unsubscribe, HELP for help.",
    A.HELP: "{name}: reply STOP to unsubscribe, START to subscribe again.",
}
# The contact webhook event each action emits.
EVENTS = {
    A.OPT_OUT: "contact.opt_out",
    A.OPT_IN: "contact.opt_in",
    A.HELP: "contact.help",
    A.OTHER: "contact.custom_keyword",
}
MAX_KEYWORD_LENGTH = 32


@dataclass(frozen=True)
class KeywordMatch:
    word: str
    action: str
    reply: str  # the keyword's own reply, "" if it has none


def keyword_normalise(text: str | None) -> str:
    """The text as a keyword candidate: NFKC, upper case, outer spaces and punctuation
    stripped ("" when it is too long to be one)."""
    if not text or len(text) > 4 * MAX_KEYWORD_LENGTH:
        return ""
    text = unicodedata.normalize("NFKC", text).strip()
    start, end = 0, len(text)
    while start < end and _is_punctuation_or_space(text[start]):
        start += 1
    while end > start and _is_punctuation_or_space(text[end - 1]):
        end -= 1
    word = " ".join(text[start:end].split()).upper()
    return word if len(word) <= MAX_KEYWORD_LENGTH else ""


def _is_punctuation_or_space(char: str) -> bool:
    return char.isspace() or unicodedata.category(char)[0] in ("P", "S", "C")


def keyword_match(customer_id, text: str | None) -> KeywordMatch | None:
    """The keyword the whole text is, for this customer, or None."""
    word = keyword_normalise(text)
    if not word:
        return None
    own = Keyword.objects.filter(customer_id=customer_id, word=word).first()
    if own is not None:
        return KeywordMatch(word, own.action, own.reply) if own.is_active else None
    action = DEFAULT_KEYWORDS.get(word)
    return KeywordMatch(word, action, "") if action else None


def keyword_set(customer, *, word: str, action: str, reply: str = "", is_active=True) -> Keyword:
    """Add or change one of the customer's keywords (the dashboard's and the admin's way)."""
    require(acting(), "messages")
    normalised = keyword_normalise(word)
    if not normalised or normalised != " ".join(word.split()).upper():
        raise ValueError(f"{word!r} is not a keyword: letters and digits, at most 32")
    keyword, _ = Keyword.objects.update_or_create(
        customer=customer,
        word=normalised,
        defaults={"action": action, "reply": reply, "is_active": is_active},
    )
    return keyword
