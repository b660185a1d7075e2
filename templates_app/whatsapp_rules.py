"""WhatsApp's own rules for a template's WhatsApp content: what Meta's review refuses in a
template that is otherwise well formed (docs/api/templates.md#whatsapps-review-rules).

They are checked when the template is submitted for WhatsApp review, never at creation:
a draft, or a template meant for SMS only, may hold any well-formed text (its format rules:
`templates_app.validation`). A submission that breaks one gets the template's WhatsApp leg
REJECTED with the rule as the reason, while SMS stays usable (`templates_app.services`).
The dashboard's editor shows the same breaches as advice while you type.

What WhatsApp reviews: the WhatsApp body (`whatsapp`, else `multiChannel`), the header,
the footer and the buttons. Pure code: a normalised definition in, breaches out.
"""

import re
from collections import Counter

from templates_app.definition import PLACEHOLDER_RE, placeholder_ids

_ADJACENT_RE = re.compile(r"\}\}\s*\{\{")
_URL_IN_TEXT_RE = re.compile(r"https?://|www\.", re.I)
# Meta's limits per button type (the total, 10, is a format rule: definition.MAX_BUTTONS).
BUTTON_TYPE_LIMITS = {"URL": 2, "PHONE_NUMBER": 1, "COPY_CODE": 1}
BUTTON_TYPE_NAMES = {"URL": "URL", "PHONE_NUMBER": "phone number", "COPY_CODE": "copy-code"}


def whatsapp_body_key(definition: dict) -> str | None:
    """Which body WhatsApp renders, and so reviews: `whatsapp`, else `multiChannel`."""
    body = definition.get("body") or {}
    for key in ("whatsapp", "multiChannel"):
        if body.get(key):
            return key
    return None


def whatsapp_rule_breaches(definition: dict, *, category: str) -> dict[str, list[str]]:
    """Every WhatsApp rule the (normalised) definition breaks, by field path, as
    `definition_normalize` reports format errors. Empty when it abides by them all, or
    when it has no WhatsApp content (nothing for WhatsApp to review)."""
    key = whatsapp_body_key(definition)
    if key is None:
        return {}
    breaches: dict[str, list[str]] = {}

    def add(path: str, message: str) -> None:
        breaches.setdefault(path, []).append(message)

    body = definition["body"][key]
    _body_context(add, f"definition.body.{key}.template", body["template"])
    for path, section in _reviewed_sections(definition, key):
        _sequential(add, path, section)
    _button_limits(add, definition.get("buttons") or [])
    if category == "AUTHENTICATION":
        _authentication(add, definition, key)
    return breaches


def whatsapp_rejection_reason(breaches: dict[str, list[str]]) -> str:
    """The breaches as the one reason a rejected WhatsApp leg carries: "Breaks WhatsApp's
    template rules. In body.multiChannel.template: The text can't end with a variable…"."""
    parts = [
        f"In {path.removeprefix('definition.')}: {' '.join(messages)}"
        for path, messages in breaches.items()
    ]
    return " ".join(["Breaks WhatsApp's template rules.", *parts])


def _reviewed_sections(definition: dict, body_key: str) -> list[tuple[str, dict]]:
    """(variables path, section) of every section WhatsApp reviews that holds variables."""
    sections = [("definition.header", definition.get("header"))]
    sections.append((f"definition.body.{body_key}", definition["body"][body_key]))
    sections.append(("definition.footer", definition.get("footer")))
    for i, button in enumerate(definition.get("buttons") or []):
        sections.append((f"definition.buttons.{i}.props", button.get("props")))
    return [(f"{path}.variables", section) for path, section in sections if section]


def _body_context(add, path: str, text: str) -> None:
    """Every variable needs words around it, and the layout stays tidy."""
    if text != text.strip("\n") or text.startswith("\r") or text.endswith("\r"):
        add(path, "The text can't start or end with a line break.")
    if re.search(r"(\r?\n){3,}", text):
        add(path, "At most two line breaks in a row.")
    if "     " in text:
        add(path, "At most four spaces in a row.")
    count = len(placeholder_ids(text))
    if not count:
        return
    if _ADJACENT_RE.search(text):
        add(path, "Two variables can't be separated only by spaces: put words between them.")
    matches = list(PLACEHOLDER_RE.finditer(text))
    if not any(ch.isalpha() for ch in text[: matches[0].start()]):
        add(path, "The text can't start with a variable: put a word before the first variable.")
    if not any(ch.isalpha() for ch in text[matches[-1].end() :]):
        add(
            path,
            "The text can't end with a variable: put a word after the last variable "
            "(punctuation doesn't count).",
        )
    words = [w for w in PLACEHOLDER_RE.sub(" ", text).split() if any(c.isalnum() for c in w)]
    if len(words) < 2 * count + 1:
        add(
            path,
            f"Too many variables for the length of the text: with {count} variable(s) it "
            f"needs at least {2 * count + 1} words besides them (it has {len(words)}).",
        )


def _sequential(add, path: str, section: dict) -> None:
    """WhatsApp numbers a section's variables {{1}}, {{2}}, … with no gaps."""
    ids = sorted(variable["id"] for variable in section.get("variables") or [])
    if ids and ids != list(range(ids[0], ids[0] + len(ids))):
        add(
            path,
            f"Variable ids must be sequential, with no gaps (got {', '.join(map(str, ids))}).",
        )


def _button_limits(add, buttons: list[dict]) -> None:
    counts = Counter(button["type"] for button in buttons)
    for kind, limit in BUTTON_TYPE_LIMITS.items():
        if counts[kind] > limit:
            add(
                "definition.buttons",
                f"At most {limit} {BUTTON_TYPE_NAMES[kind]} button(s) (got {counts[kind]}).",
            )
    kinds = [button["type"] == "QUICK_REPLY" for button in buttons]
    if sum(1 for a, b in zip(kinds, kinds[1:], strict=False) if a != b) > 1:
        add(
            "definition.buttons",
            "Quick replies must be grouped: put them all before or all after the other buttons.",
        )


def _authentication(add, definition: dict, body_key: str) -> None:
    """WhatsApp's rules for AUTHENTICATION templates: a code, no header, no custom footer,
    no links, one OTP button at most."""
    if definition.get("header"):
        add("definition.header", "AUTHENTICATION templates can't have a header.")
    if definition.get("footer"):
        add(
            "definition.footer",
            "AUTHENTICATION templates can't have a custom footer: "
            "set authenticationConfig.codeExpirationMinutes instead.",
        )
    body = definition["body"][body_key]
    if len(body["variables"]) != 1:
        add(
            f"definition.body.{body_key}.variables",
            "AUTHENTICATION templates have exactly one variable: the code.",
        )
    if _URL_IN_TEXT_RE.search(body["template"]):
        add(f"definition.body.{body_key}.template", "AUTHENTICATION templates can't contain URLs.")
    buttons = definition.get("buttons") or []
    if len(buttons) > 1:
        add("definition.buttons", "AUTHENTICATION templates take one OTP button at most.")
    for i, button in enumerate(buttons):
        if button["type"] != "OTP":
            add(f"definition.buttons.{i}.type", "AUTHENTICATION templates only take OTP buttons.")
