"""Our template definition in Meta's terms (docs/providers/whatsapp.md#templates).

Two translations, both pure:

- `template_payload(template, parameters)`: what a send of the template carries
  (`{"template": {"name", "language": {"code"}, "components": [...]}}`), computed when the
  message is accepted on WhatsApp and stored in `Message.provider_payload`: header text or
  media parameters, the body's parameters in `{{n}}` order, and the buttons' dynamic parts
  (a URL button's suffix, a quick reply's payload, a copy-code button's code, an OTP).
- `create_components(definition, category)`: the components of `POST /{waba-id}/
  message_templates` (HEADER, BODY with `{{n}}` placeholders and `example.body_text`,
  FOOTER, BUTTONS), what template review submits.

Our placeholders are `{{id:label}}` with ids starting at 0 or 1 in each section; Meta's are
positional `{{1}}`, `{{2}}`… in each component: a placeholder's number is its variable's rank
among the section's ids, from 1.
"""

import re
from urllib.parse import quote

from templates_app import definition as defn
from templates_app.review import whatsapp_template_name

MEDIA_FORMATS = {"image": "IMAGE", "video": "VIDEO", "gif": "GIF", "document": "DOCUMENT"}


class Untranslatable(ValueError):
    """The definition has something Meta's template API can't take as we hold it."""


def _variables(section: dict | None) -> list[dict]:
    return sorted((section or {}).get("variables") or [], key=lambda variable: variable["id"])


def _numbers(section: dict | None) -> dict[int, int]:
    """Our placeholder id → Meta's position (1, 2, …) in this section."""
    return {variable["id"]: rank for rank, variable in enumerate(_variables(section), start=1)}


def meta_text(text: str, section: dict | None) -> str:
    """`Hi {{0:name}}, order {{1:order_id}}` → `Hi {{1}}, order {{2}}`."""
    numbers = _numbers(section)

    def number(match: re.Match) -> str:
        position = numbers.get(int(match.group(1)))
        return match.group(0) if position is None else f"{{{{{position}}}}}"

    return defn.PLACEHOLDER_RE.sub(number, text or "")


def _text(value) -> dict:
    return {"type": "text", "text": str(value)}


def _phone_digits(props: dict) -> str:
    number = props.get("phoneNumber", "")
    if not number.startswith("+"):
        number = f"{props.get('countryCode', '')}{number}"
    return re.sub(r"\D", "", number)


# --- sending ------------------------------------------------------------------------------


def _header_parameters(header: dict | None, values: dict) -> list[dict]:
    if not header:
        return []
    kind = header.get("type", "text")
    if kind == "text":
        return [_text(values[v["name"]]) for v in _variables(header)]
    if kind == "location":
        location = {k: v for k, v in (header.get("location") or {}).items() if v}
        return [{"type": "location", "location": location}]
    [media] = _variables(header)
    return [{"type": kind, kind: {"link": values[media["name"]]}}]


def send_components(definition: dict, parameters: dict) -> list[dict]:
    """The `components` of a template send: only those with parameters."""
    values = {str(k): str(v) for k, v in (parameters or {}).items() if v is not None}
    components = []
    header = _header_parameters(definition.get("header"), values)
    if header:
        components.append({"type": "header", "parameters": header})
    body = defn.body_for_channel(definition, "whatsapp") or {}
    body_values = [values[v["name"]] for v in _variables(body)]
    if body_values:
        components.append({"type": "body", "parameters": [_text(v) for v in body_values]})
    for index, button in enumerate(definition.get("buttons") or []):
        props, kind = button.get("props") or {}, button["type"]
        if kind == "URL" and props.get("urlType") == "dynamic" and _variables(props):
            [suffix] = _variables(props)
            sub_type, parameter = "url", _text(quote(values[suffix["name"]], safe=""))
        elif kind == "QUICK_REPLY":
            sub_type, parameter = "quick_reply", {"type": "payload", "payload": props["text"]}
        elif kind == "COPY_CODE":
            sub_type = "copy_code"
            parameter = {"type": "coupon_code", "coupon_code": props["offerCode"]}
        elif kind == "OTP" and body_values:  # the one-time code, the body's only variable
            sub_type, parameter = "url", _text(body_values[0])
        else:  # static URL, phone number, voice call: nothing to fill in
            continue
        components.append(
            {"type": "button", "sub_type": sub_type, "index": index, "parameters": [parameter]}
        )
    return components


def template_payload(template, parameters: dict) -> dict:
    """`Message.provider_payload` of a WhatsApp message of `template` (as it is now)."""
    payload = {
        "name": template.whatsapp_template_name or whatsapp_template_name(template),
        "language": {"code": template.language},
    }
    components = send_components(template.definition, parameters)
    if components:
        payload["components"] = components
    return {"template": payload}


# --- review: creating the template on the WABA ----------------------------------------------


def _sample(variable: dict) -> str:
    return (variable.get("props") or {}).get("sample") or variable["name"]


def _header_component(header: dict) -> dict:
    kind = header.get("type", "text")
    if kind == "text":
        component = {
            "type": "HEADER",
            "format": "TEXT",
            "text": meta_text(header["template"], header),
        }
        samples = [_sample(v) for v in _variables(header)]
        if samples:
            component["example"] = {"header_text": samples}
        return component
    if kind == "location":
        return {"type": "HEADER", "format": "LOCATION"}
    raise Untranslatable(
        f"A {kind} header needs its sample uploaded to Meta (a media handle), which Sent "
        "doesn't do yet: use a text header, or create the template in WhatsApp Manager"
    )


def _button_component(button: dict) -> dict:
    props, kind = button.get("props") or {}, button["type"]
    if kind == "QUICK_REPLY":
        return {"type": "QUICK_REPLY", "text": props["text"]}
    if kind == "URL":
        component = {"type": "URL", "text": props["text"], "url": meta_text(props["url"], props)}
        if _variables(props):  # a dynamic URL: Meta wants it whole, with a sample suffix
            samples = {v["id"]: quote(_sample(v), safe="") for v in _variables(props)}
            component["example"] = [
                defn.PLACEHOLDER_RE.sub(lambda m: samples.get(int(m.group(1)), ""), props["url"])
            ]
        return component
    if kind == "PHONE_NUMBER":
        return {"type": "PHONE_NUMBER", "text": props["text"], "phone_number": _phone_digits(props)}
    if kind == "COPY_CODE":
        return {"type": "COPY_CODE", "example": props["offerCode"]}
    if kind == "VOICE_CALL":
        return {"type": "VOICE_CALL", "text": props["text"]}
    if kind == "OTP":
        component = {"type": "OTP", "otp_type": props.get("otpType", "COPY_CODE")}
        if props.get("autofillText"):
            component["autofill_text"] = props["autofillText"]
        if component["otp_type"] in ("ONE_TAP", "ZERO_TAP"):
            component["supported_apps"] = [
                {"package_name": props["packageName"], "signature_hash": props["signatureHash"]}
            ]
        if component["otp_type"] == "ZERO_TAP":
            component["zero_tap_terms_accepted"] = True
        return component
    raise Untranslatable(f"Meta's templates have no {kind} button")


def create_components(definition: dict, category: str) -> list[dict]:
    """The `components` of `POST /{waba-id}/message_templates` for our definition."""
    buttons = [_button_component(button) for button in definition.get("buttons") or []]
    if category == "AUTHENTICATION":  # Meta writes the body and footer of an OTP itself
        config = definition.get("authenticationConfig") or {}
        components = [
            {
                "type": "BODY",
                "add_security_recommendation": bool(config.get("addSecurityRecommendation")),
            }
        ]
        if config.get("codeExpirationMinutes"):
            components.append(
                {"type": "FOOTER", "code_expiration_minutes": config["codeExpirationMinutes"]}
            )
        return components + ([{"type": "BUTTONS", "buttons": buttons}] if buttons else [])
    components = []
    if definition.get("header"):
        components.append(_header_component(definition["header"]))
    body = defn.body_for_channel(definition, "whatsapp")
    if body is None:
        raise Untranslatable("The template has no WhatsApp body")
    component = {"type": "BODY", "text": meta_text(body["template"], body)}
    samples = [_sample(v) for v in _variables(body)]
    if samples:
        component["example"] = {"body_text": [samples]}
    components.append(component)
    footer = definition.get("footer")
    if footer and footer.get("template"):
        components.append({"type": "FOOTER", "text": footer["template"]})
    if buttons:
        components.append({"type": "BUTTONS", "buttons": buttons})
    return components


def create_body(template) -> dict:
    """The whole `message_templates` request for `template`."""
    return {
        "name": template.whatsapp_template_name or whatsapp_template_name(template),
        "language": template.language,
        "category": template.category,
        "components": create_components(template.definition, template.category),
    }
