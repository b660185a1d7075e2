"""Rendering: a template (or free text) for one channel, with SMS encoding and segments.

`render_template` is what sends, previews and billing use: it picks the channel's body
(its own, else the fallback to `multiChannel`), substitutes the variables by id,
and reports every missing parameter by name. For SMS the result's `body` is the whole text
that goes out — text header, body, footer and link/phone/code buttons flattened onto lines —
and `encoding`/`segments`/`characters` describe exactly that text, which is what an SMS is
billed on. For WhatsApp the header, footer and buttons stay structured, `segments` is 1.

`sms_segments` implements GSM 03.38: GSM-7 when every character is in the default alphabet
or its extension table (the extension characters € [ ] { } \\ ^ ~ | and form feed take two
septets), 160 septets in a single SMS and 153 per part of a concatenated one; otherwise
UCS-2, counted in UTF-16 code units (an emoji outside the BMP takes two), 70 single and 67
per part. Parts never split an escape sequence or a surrogate pair, as handsets do.
"""

from dataclasses import dataclass, field
from urllib.parse import quote

import phonenumbers

from sent_project.errors import InvalidChoice
from templates_app import definition as defn
from templates_app.errors import TemplateChannelUnavailable, TemplateParametersMissing

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "\f^{}\\[~]|€"
_GSM7_COST = {**dict.fromkeys(GSM7_BASIC, 1), **dict.fromkeys(GSM7_EXTENSION, 2)}

GSM7, UCS2 = "GSM-7", "UCS-2"
# (single-message capacity, capacity per part of a concatenated message), in the encoding's units.
CAPACITY = {GSM7: (160, 153), UCS2: (70, 67)}

SECURITY_RECOMMENDATION = "For your security, do not share this code."
OTP_LABELS = {"COPY_CODE": "Copy code", "ONE_TAP": "Autofill", "ZERO_TAP": "Autofill"}
# Buttons that still mean something as a line of SMS text.
SMS_BUTTON_TYPES = ("URL", "PHONE_NUMBER", "COPY_CODE")


@dataclass(frozen=True)
class RenderedContent:
    channel: str
    body: str
    header: str | None = None
    footer: str | None = None
    buttons: list[dict] = field(default_factory=list)  # {type, text, value, postbackData}
    encoding: str | None = None  # "GSM-7" | "UCS-2" on SMS, None elsewhere
    segments: int = 1
    characters: int = 0  # SMS: septets (GSM-7) or UTF-16 code units (UCS-2); else characters
    header_media: dict | None = None  # {type, url} for a media header (WhatsApp)


def _unit_costs(text: str) -> tuple[str, list[int]]:
    costs = [_GSM7_COST.get(ch) for ch in text]
    if None not in costs:
        return GSM7, costs
    return UCS2, [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def sms_segments(text: str) -> tuple[str, int, int]:
    """(encoding, segments, characters) of an SMS text. An empty text is one segment."""
    encoding, costs = _unit_costs(text)
    single, per_part = CAPACITY[encoding]
    characters = sum(costs)
    if characters <= single:
        return encoding, 1, characters
    segments, used = 1, 0
    for cost in costs:  # pack parts without splitting an escape pair or a surrogate pair
        if used + cost > per_part:
            segments, used = segments + 1, 0
        used += cost
    return encoding, segments, characters


def _measure(channel: str, body: str) -> dict:
    if channel == "sms":
        encoding, segments, characters = sms_segments(body)
        return {"encoding": encoding, "segments": segments, "characters": characters}
    return {"encoding": None, "segments": 1, "characters": len(body)}


def _check_channel(channel: str) -> None:
    if channel not in defn.CHANNELS:
        raise InvalidChoice(
            details={"channel": [f"Must be one of: {', '.join(defn.CHANNELS)}."]},
        )


def render_text(text: str, *, channel: str) -> RenderedContent:
    """Free-form text as it would go out on `channel` (no substitution)."""
    _check_channel(channel)
    return RenderedContent(channel=channel, body=text, **_measure(channel, text))


def _fill(section: dict | None, values: dict[str, str], *, url: bool = False) -> str | None:
    if not section:
        return None
    names = {variable["id"]: variable["name"] for variable in section.get("variables") or []}

    def substitute(match):
        name = names.get(int(match.group(1)))
        if name is None:
            return match.group(0)
        return quote(values[name], safe="") if url else values[name]

    return defn.PLACEHOLDER_RE.sub(substitute, section.get("template") or section.get("url") or "")


def _phone(props: dict) -> str:
    number = props["phoneNumber"]
    raw = (
        number if number.startswith("+") else f"+{props.get('countryCode', '').lstrip('+')}{number}"
    )
    try:
        parsed = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return raw
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _buttons(definition: dict, values: dict[str, str], code: str | None) -> list[dict]:
    rendered = []
    for button in definition.get("buttons") or []:
        props, kind = button["props"], button["type"]
        text, value, postback = props.get("text"), None, None
        if kind == "URL":
            value = _fill(props, values, url=True)
        elif kind == "PHONE_NUMBER":
            value = _phone(props)
        elif kind == "COPY_CODE":
            value = props["offerCode"]
        elif kind == "OTP":
            text, value = OTP_LABELS[props["otpType"]], code
        elif kind == "QUICK_REPLY":
            postback = text
        rendered.append({"type": kind, "text": text, "value": value, "postbackData": postback})
    return rendered


def _header(definition: dict, values: dict[str, str]) -> tuple[str | None, dict | None]:
    header = definition.get("header")
    if not header:
        return None, None
    if header["type"] == "text":
        return _fill(header, values), None
    if header["type"] == "location":
        return None, {"type": "location", **(header.get("location") or {})}
    media_variable = header["variables"][0]["name"]
    return None, {"type": header["type"], "url": values[media_variable]}


def _missing(template, parameters: dict, prefix: str) -> dict[str, str]:
    values = {
        str(key): str(value) for key, value in (parameters or {}).items() if value is not None
    }
    missing = [name for name in template.variables if not values.get(name, "").strip()]
    if missing:
        raise TemplateParametersMissing(
            f"Missing template parameters: {', '.join(missing)}",
            details={f"{prefix}.{name}": ["This parameter is required."] for name in missing},
        )
    return values


def render_template(
    template,
    *,
    channel: str,
    parameters: dict[str, str],
    details_prefix: str = "template.parameters",
) -> RenderedContent:
    """The template rendered for `channel`.

    Every declared variable needs a non-empty value (unknown keys are ignored): otherwise
    TemplateParametersMissing (TEMPLATE_001) whose details name each missing one as
    `<details_prefix>.<name>`. A channel the definition has no body for →
    TemplateChannelUnavailable (TEMPLATE_003). Works on unsaved templates too (previews).
    """
    _check_channel(channel)
    definition = template.definition
    content = defn.body_for_channel(definition, channel)
    if content is None:
        raise TemplateChannelUnavailable(
            f"Template '{template.name}' has no content for {channel}",
            details={"channel": [f"This template renders on: {', '.join(template.channels)}."]},
        )
    values = _missing(template, parameters, details_prefix)
    body = _fill(content, values)
    auth = definition.get("authenticationConfig") or {}
    code = values[content["variables"][0]["name"]] if content["variables"] else None
    if auth.get("addSecurityRecommendation"):
        body = f"{body} {SECURITY_RECOMMENDATION}"
    footer = _fill(definition.get("footer"), values)
    if auth.get("codeExpirationMinutes"):
        footer = f"This code expires in {auth['codeExpirationMinutes']} minutes."
    header, header_media = _header(definition, values)
    buttons = _buttons(definition, values, code)
    if channel in ("sms", "mms"):
        lines = [header, body, footer] + [
            f"{b['text']}: {b['value']}" for b in buttons if b["type"] in SMS_BUTTON_TYPES
        ]
        text = "\n".join(line for line in lines if line)
        return RenderedContent(channel=channel, body=text, **_measure(channel, text))
    return RenderedContent(
        channel=channel,
        body=body,
        header=header,
        footer=footer,
        buttons=buttons,
        header_media=header_media,
        **_measure(channel, body),
    )


def template_preview(
    template, *, parameters: dict[str, str] | None = None, channels: list[str] | None = None
) -> tuple[dict[str, str], list[RenderedContent]]:
    """Render for each channel (default: SMS and WhatsApp where the template renders), with
    the given parameters, else each variable's sample, else `[name]`. Returns the values used."""
    values = {name: f"[{name}]" for name in template.variables}
    values.update(defn.variable_samples(template.definition))
    values.update({k: str(v) for k, v in (parameters or {}).items() if str(v).strip()})
    wanted = channels or ["sms", "whatsapp"]
    previews = [
        render_template(template, channel=channel, parameters=values, details_prefix="parameters")
        for channel in wanted
        if channel in template.channels
    ]
    return values, previews
