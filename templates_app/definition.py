"""The template definition: its vocabulary, and what is derived from a (normalised) one.

A definition is the SDK's camelCase structure (docs/api/templates.md#the-definition-and-its-rules):
`{header?, body: {multiChannel | sms + whatsapp, rcs?, mms?}, footer?, buttons?,
definitionVersion?, authenticationConfig?}`. Sections hold a `template` text with
`{{id:label}}` placeholders and the `variables` they use; a placeholder resolves by `id`
within its own section, and a variable's `name` is the key of the send's `parameters`.

Its format rules and normalised form: `templates_app.validation.definition_normalize`;
WhatsApp's review rules: `templates_app.whatsapp_rules`. Pure code.
"""

import re

from django.utils.text import slugify

BODY_MAX = 1024  # WhatsApp's body limit, also used for sms and multiChannel
RCS_BODY_MAX = 3072
MMS_BODY_MAX = 1600  # carriers' usual MMS text limit
HEADER_MAX = 60
FOOTER_MAX = 60
BUTTON_TEXT_MAX = 25
MAX_BUTTONS = 10  # WhatsApp's total; its limits per type are review rules (whatsapp_rules)
OFFER_CODE_MAX = 15
URL_MAX = 2000
MAX_VARIABLES = 100  # per section; a guard, far above any real template
TEXT_HEADER_MAX_VARIABLES = 1
URL_BUTTON_MAX_VARIABLES = 1

CHANNELS = ("sms", "whatsapp", "rcs", "mms")
# The channels this install sends on (messaging.routing.CHANNELS; a test keeps them equal):
# a definition may carry RCS content, which is kept but never sent.
SENT_CHANNELS = ("sms", "whatsapp", "mms")
BODY_KEYS = ("multiChannel", "sms", "whatsapp", "rcs", "mms")
# Where each channel reads its body from, first present wins (docs/api/templates.md#the-definition-and-its-rules).
BODY_CHAIN = {
    "sms": ("sms", "multiChannel"),
    "whatsapp": ("whatsapp", "multiChannel"),
    "rcs": ("rcs", "multiChannel", "sms"),
    "mms": ("mms", "multiChannel", "sms"),
}
BODY_LIMITS = {
    "multiChannel": BODY_MAX,
    "sms": BODY_MAX,
    "whatsapp": BODY_MAX,
    "rcs": RCS_BODY_MAX,
    "mms": MMS_BODY_MAX,
}

TEXT_TYPES = ("text",)  # the `type` of body and footer contents
VARIABLE_TYPES = ("variable", "link", "media")
VARIABLE_PROPS = ("variableType", "sample", "url", "shortUrl", "alt", "mediaType", "regex")
HEADER_TYPES = ("text", "image", "video", "gif", "document", "location")
# A media header's value is passed at send time under a reserved parameter name.
MEDIA_HEADER_PARAMETER = {
    "image": "header_image",
    "video": "header_video",
    "gif": "header_video",
    "document": "header_document",
}
BUTTON_TYPES = ("QUICK_REPLY", "URL", "PHONE_NUMBER", "VOICE_CALL", "COPY_CODE", "OTP")
OTP_TYPES = ("COPY_CODE", "ONE_TAP", "ZERO_TAP")
URL_TYPES = ("static", "dynamic")

VARIABLE_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
PLACEHOLDER_RE = re.compile(r"\{\{\s*(\d+)\s*(?::[^{}]*)?\}\}")
_EMOJI_RANGES = (
    (0x1F000, 0x1FAFF),
    (0x2600, 0x27BF),
    (0x2300, 0x23FF),
    (0x2B00, 0x2BFF),
    (0xFE00, 0xFE0F),
    (0x200D, 0x200D),
    (0xE0020, 0xE007F),
)
_MARKETING_WORDS = re.compile(
    r"\b(sale|discount|offer|promo|promotion|coupon|deal|deals|% off|off everything|"
    r"limited time|exclusive|shop now|buy now|free shipping|new arrivals)\b",
    re.I,
)

BUTTON_TEXT_RULE = "Buttons can't have any variables, newlines, emojis, or formatting characters."
REQUIRED = "This field is required."


def has_emoji(text: str) -> bool:
    return any(lo <= ord(ch) <= hi for ch in text for lo, hi in _EMOJI_RANGES)


def placeholder_ids(text: str) -> list[int]:
    return [int(match) for match in PLACEHOLDER_RE.findall(text)]


def unstorable(text: str) -> bool:
    """NUL and lone surrogates can't be stored (PostgreSQL refuses them)."""
    return any(ch == "\x00" or 0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def body_for_channel(definition: dict, channel: str) -> dict | None:
    """The body content a channel renders: its own, else the fallback chain above."""
    body = definition.get("body") or {}
    for key in BODY_CHAIN[channel]:
        if body.get(key):
            return body[key]
    return None


def definition_channels(definition: dict) -> list[str]:
    return [channel for channel in CHANNELS if body_for_channel(definition, channel)]


def delivery_channels(definition: dict) -> list[str]:
    """The channels a send of this definition can go out on here: those it renders on that
    this install sends, MMS only when its mms body has media (without, a send never picks
    MMS: it would be a dearer SMS)."""
    mms_media = ((definition.get("body") or {}).get("mms") or {}).get("media")
    return [
        channel
        for channel in definition_channels(definition)
        if channel in SENT_CHANNELS and (channel != "mms" or mms_media)
    ]


def _sections(definition: dict) -> list[dict]:
    body = definition.get("body") or {}
    sections = [definition.get("header")]
    sections += [body.get(key) for key in BODY_KEYS]
    sections.append(definition.get("footer"))
    sections += [button.get("props") for button in definition.get("buttons") or []]
    return [section for section in sections if section]


def definition_variables(definition: dict) -> list[str]:
    names: dict[str, None] = {}
    for section in _sections(definition):
        for variable in section.get("variables") or []:
            names.setdefault(variable["name"])
    return list(names)


def variable_samples(definition: dict) -> dict[str, str]:
    """Each variable's sample value, where it declares one (previews, review)."""
    samples: dict[str, str] = {}
    for section in _sections(definition):
        for variable in section.get("variables") or []:
            sample = (variable.get("props") or {}).get("sample")
            if sample and variable["name"] not in samples:
                samples[variable["name"]] = sample
    return samples


def definition_texts(definition: dict) -> list[str]:
    """Every human-readable text of the definition (reviews, search)."""
    texts = [section.get("template", "") for section in _sections(definition)]
    texts += [(b.get("props") or {}).get("text") or "" for b in definition.get("buttons") or []]
    return [text for text in texts if text]


def _main_text(raw) -> str:
    body = raw.get("body") if isinstance(raw, dict) else None
    if not isinstance(body, dict):
        return ""
    for key in ("multiChannel", "whatsapp", "sms"):
        content = body.get(key)
        if isinstance(content, dict) and isinstance(content.get("template"), str):
            return content["template"]
    return ""


def derive_name(definition: dict, *, max_words: int = 5) -> str:
    """A reference name from the content: "Hi {{0:name}}, your order shipped" → hi_your_order_shipped."""
    words = slugify(PLACEHOLDER_RE.sub(" ", _main_text(definition))).split("-")
    name = "_".join(word for word in words if word)[:50].strip("_")
    name = "_".join(name.split("_")[:max_words])
    if not name or not name[0].isalpha():
        name = f"template_{name}".strip("_")
    return name


def derive_display_name(definition: dict) -> str:
    text = " ".join(PLACEHOLDER_RE.sub("…", _main_text(definition)).split())
    if len(text) <= 60:
        return text or "Untitled template"
    return text[:59].rsplit(" ", 1)[0] + "…"


def detect_category(raw) -> str:
    """Our guess when the caller gives none: AUTHENTICATION when the definition has an
    authenticationConfig or an OTP button, MARKETING when the copy reads like a promotion,
    else UTILITY. Never fails, whatever `raw` is."""
    if not isinstance(raw, dict):
        return "UTILITY"
    buttons = raw.get("buttons") if isinstance(raw.get("buttons"), list) else []
    if raw.get("authenticationConfig") or any(
        isinstance(button, dict) and button.get("type") == "OTP" for button in buttons
    ):
        return "AUTHENTICATION"
    if _MARKETING_WORDS.search(_main_text(raw)):
        return "MARKETING"
    return "UTILITY"
