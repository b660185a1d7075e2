"""The format rules of a template definition (its shape: `templates_app.definition`).

`definition_normalize` checks everything at once and raises `ValidationFailed` whose
`details` map each offending field path (`definition.body.multiChannel.variables.1.name`)
to its messages, so a client can fix every problem in one round. It is pure: no database.

These are the rules every template obeys from its creation, on every channel: the SDK's
shapes, lengths within limits, placeholders that are well formed and bound to declared
variables. WhatsApp's own content rules (variables need words around them, no gaps in the
numbering, Meta's button limits, AUTHENTICATION's restrictions) are not checked here but
when the template is submitted for WhatsApp review: `templates_app.whatsapp_rules`
(docs/api/templates.md#the-definition-and-its-rules).

Decisions beyond the SDK's wire format (docs/api/decisions.md#templates):
- An `sms` body alone is accepted (an SMS-only template: no WhatsApp content, so no
  WhatsApp review). `whatsapp` alone, `rcs`/`mms` alone and multiChannel mixed with
  sms/whatsapp are refused, as the SDK's format says.
- Variable ids are unique within each section and start at 0 (SDK) or 1 (seed docs);
  every section of one template must use the same start.
"""

import re
from urllib.parse import urlsplit

import phonenumbers

from sent_project.errors import ValidationFailed
from templates_app.definition import (
    BODY_KEYS,
    BODY_LIMITS,
    BUTTON_TEXT_MAX,
    BUTTON_TEXT_RULE,
    BUTTON_TYPES,
    FOOTER_MAX,
    HEADER_MAX,
    HEADER_TYPES,
    MAX_BUTTONS,
    MAX_VARIABLES,
    MEDIA_HEADER_PARAMETER,
    OFFER_CODE_MAX,
    OTP_TYPES,
    PLACEHOLDER_RE,
    REQUIRED,
    TEXT_HEADER_MAX_VARIABLES,
    URL_BUTTON_MAX_VARIABLES,
    URL_MAX,
    URL_TYPES,
    VARIABLE_NAME_RE,
    VARIABLE_PROPS,
    VARIABLE_TYPES,
    has_emoji,
    placeholder_ids,
    unstorable,
)

_BRACES_RE = re.compile(r"\{\{(.*?)\}\}", re.S)
_TRAILING_PLACEHOLDER_RE = re.compile(r"\{\{\s*\d+\s*(?::[^{}]*)?\}\}$")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _whole(value):
    """JSON numbers that are whole (1 or 1.0) as int; anything else unchanged."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _is_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. "https://[host/x": an unclosed IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value


class _Validator:
    """Walks one raw definition, collecting every error with its path."""

    def __init__(self, category: str):
        self.category = category
        self.errors: dict[str, list[str]] = {}
        self.bases: list[tuple[str, int]] = []  # (variables path, first id) per section

    def add(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    # --- scalars -----------------------------------------------------------------------
    def text(self, path: str, value, *, required=False, blank=False, limit=None) -> str | None:
        if value is None:
            if required:
                self.add(path, REQUIRED)
            return None
        if not isinstance(value, str):
            self.add(path, "Must be a string.")
            return None
        if unstorable(value):
            self.add(path, "Contains characters that can't be stored (NUL or lone surrogates).")
            return None
        if not blank and not value.strip():
            self.add(path, "This field may not be blank.")
            return None
        if limit is not None and len(value) > limit:
            self.add(path, f"At most {limit} characters (this one has {len(value)}).")
        return value

    def obj(self, path: str, value, *, required=False) -> dict | None:
        if value is None:
            if required:
                self.add(path, REQUIRED)
            return None
        if not isinstance(value, dict):
            self.add(path, "Must be an object.")
            return None
        return value

    # --- variables and placeholders ----------------------------------------------------
    def variable(self, path: str, raw) -> dict | None:
        raw = self.obj(path, raw, required=True)
        if raw is None:
            return None
        ok = True
        var_id = _whole(raw.get("id", 0))
        if not _is_int(var_id) or var_id < 0:
            self.add(f"{path}.id", "Must be a whole number, 0 or more.")
            ok = False
        name = raw.get("name")
        if not isinstance(name, str) or not VARIABLE_NAME_RE.match(name):
            self.add(
                f"{path}.name",
                REQUIRED
                if name is None
                else "Must start with a letter and hold only letters, digits and underscores.",
            )
            ok = False
        elif len(name) > 64:
            self.add(f"{path}.name", "At most 64 characters.")
            ok = False
        var_type = raw.get("type")
        if var_type not in VARIABLE_TYPES:
            self.add(
                f"{path}.type",
                REQUIRED if var_type is None else f"Must be one of: {', '.join(VARIABLE_TYPES)}.",
            )
            ok = False
        props = self.variable_props(f"{path}.props", raw.get("props"))
        if not ok or props is None:
            return None
        return {"id": var_id, "name": name, "type": var_type, "props": props}

    def variable_props(self, path: str, raw) -> dict | None:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.add(path, "Must be an object.")
            return None
        props = {}
        for key in VARIABLE_PROPS:
            value = raw.get(key)
            if value is None:
                continue
            if key == "sample" and isinstance(value, bool):
                value = "true" if value else "false"
            elif key == "sample" and isinstance(value, int | float):
                value = str(value)
            if not isinstance(value, str) or unstorable(value):
                self.add(f"{path}.{key}", "Must be a string (without NUL characters).")
                return None
            if len(value) > URL_MAX:
                self.add(f"{path}.{key}", f"At most {URL_MAX} characters.")
                return None
            if key == "regex":
                try:
                    re.compile(value)
                except re.error:
                    self.add(f"{path}.{key}", "Not a valid regular expression.")
                    return None
            props[key] = value
        return props

    def bind(self, text_path: str, text: str, vars_path: str, raw_vars) -> list[dict]:
        """Check the placeholders of `text` against the declared variables, one to one."""
        for inner in _BRACES_RE.findall(text):
            if not re.fullmatch(r"\s*\d+\s*(?::[^{}]*)?", inner):
                self.add(text_path, f"Placeholders look like {{{{0:name}}}}, not {{{{{inner}}}}}.")
        if "{{" in _BRACES_RE.sub("", text):
            self.add(text_path, "A placeholder is not closed: '{{' without '}}'.")
        if raw_vars is None:
            raw_vars = []
        if not isinstance(raw_vars, list):
            self.add(vars_path, "Must be a list.")
            return []
        if len(raw_vars) > MAX_VARIABLES:
            self.add(vars_path, f"At most {MAX_VARIABLES} variables.")
            return []
        variables = [self.variable(f"{vars_path}.{i}", raw) for i, raw in enumerate(raw_vars)]
        if None in variables:
            return []
        seen_ids: set[int] = set()
        seen_names: set[str] = set()
        for i, var in enumerate(variables):
            if var["id"] in seen_ids:
                self.add(f"{vars_path}.{i}.id", "Variables must have unique IDs.")
            if var["name"] in seen_names:
                self.add(f"{vars_path}.{i}.name", "Variable names must be unique within a section.")
            seen_ids.add(var["id"])
            seen_names.add(var["name"])
        if seen_ids:
            # Gaps (0, 2) are WhatsApp's concern: templates_app.whatsapp_rules.
            base = min(seen_ids)
            if base not in (0, 1):
                self.add(
                    vars_path,
                    f"Variable ids start at 0 or 1 (got {', '.join(map(str, sorted(seen_ids)))}).",
                )
            else:
                self.bases.append((vars_path, base))
        used = set(placeholder_ids(text))
        for missing in sorted(used - seen_ids):
            self.add(text_path, f"{{{{{missing}}}}} refers to no declared variable.")
        for i, var in enumerate(variables):
            if var["id"] not in used:
                self.add(
                    f"{vars_path}.{i}",
                    f"Variable '{var['name']}' (id {var['id']}) does not appear in the text.",
                )
        return variables

    # --- sections ----------------------------------------------------------------------
    def body_content(self, key: str, raw) -> dict | None:
        path = f"definition.body.{key}"
        raw = self.obj(path, raw)
        if raw is None:
            return None
        text = self.text(
            f"{path}.template", raw.get("template"), required=True, limit=BODY_LIMITS[key]
        )
        body_type = raw.get("type")
        if body_type not in (None, "text"):
            self.add(f"{path}.type", 'Must be "text".')
        if text is None:
            return None
        variables = self.bind(f"{path}.template", text, f"{path}.variables", raw.get("variables"))
        content = {"type": "text", "template": text, "variables": variables}
        if key == "mms":
            content.update(self.mms_extras(path, raw))
        return content

    def mms_extras(self, path: str, raw: dict) -> dict:
        extras: dict = {}
        subject = self.text(f"{path}.subject", raw.get("subject"), limit=HEADER_MAX)
        if subject is not None:
            extras["subject"] = subject
        media = raw.get("media")
        if media is None:
            return extras
        if not isinstance(media, list):
            self.add(f"{path}.media", "Must be a list.")
            return extras
        items = []
        for i, item in enumerate(media):
            item = self.obj(f"{path}.media.{i}", item, required=True)
            if item is None:
                continue
            url = self.text(f"{path}.media.{i}.url", item.get("url"), required=True, limit=URL_MAX)
            if url is not None and not (url.startswith("https://") and _is_url(url)):
                self.add(f"{path}.media.{i}.url", "Must be a public https URL.")
            media_type = self.text(f"{path}.media.{i}.mediaType", item.get("mediaType"))
            items.append({"url": url, "mediaType": media_type})
        extras["media"] = items
        return extras

    def body(self, raw) -> dict:
        raw = self.obj("definition.body", raw, required=True)
        if raw is None:
            return {}
        present = [key for key in BODY_KEYS if raw.get(key) is not None]
        if "multiChannel" in present and ({"sms", "whatsapp"} & set(present)):
            self.add(
                "definition.body",
                "Use either a multiChannel body or the sms + whatsapp pair, not both.",
            )
        elif "whatsapp" in present and "sms" not in present:
            self.add(
                "definition.body.sms",
                "A whatsapp body needs an sms body too (give the pair, or one multiChannel body).",
            )
        elif not {"multiChannel", "sms"} & set(present):
            self.add("definition.body", "Give a multiChannel body, or an sms + whatsapp pair.")
        body = {}
        for key in present:
            content = self.body_content(key, raw[key])
            if content is not None:
                body[key] = content
        return body

    def header(self, raw) -> dict | None:
        path = "definition.header"
        raw = self.obj(path, raw)
        if raw is None:
            return None
        header_type = raw.get("type")
        if header_type is None:
            header_type = "text"
        if header_type not in HEADER_TYPES:
            self.add(f"{path}.type", f"Must be one of: {', '.join(HEADER_TYPES)} (lowercase).")
            return None
        text = self.text(
            f"{path}.template",
            raw.get("template"),
            required=header_type == "text",
            blank=header_type != "text",
            limit=HEADER_MAX,
        )
        header: dict = {"type": header_type, "template": text or ""}
        if header_type == "text":
            if text is None:
                return None
            bare = PLACEHOLDER_RE.sub("", text)
            if "\n" in bare or has_emoji(bare) or any(ch in bare for ch in "*_~"):
                self.add(
                    f"{path}.template",
                    "A text header can't have newlines, emojis or formatting characters.",
                )
            variables = self.bind(
                f"{path}.template", text, f"{path}.variables", raw.get("variables")
            )
            if len(variables) > TEXT_HEADER_MAX_VARIABLES:
                self.add(f"{path}.variables", "A text header can hold at most one variable.")
            header["variables"] = variables
        elif header_type == "location":
            header["variables"] = []
            location = self.obj(f"{path}.location", raw.get("location"))
            if location is not None:
                header["location"] = {
                    key: self.text(f"{path}.location.{key}", location.get(key), blank=True)
                    for key in ("name", "address", "latitude", "longitude")
                }
        else:
            header["variables"] = self.media_header_variables(path, header_type, raw)
        if raw.get("static_resource") is True:
            header["static_resource"] = True
        elif raw.get("static_resource") not in (None, False):
            self.add(f"{path}.static_resource", "Must be true or false.")
        return header

    def media_header_variables(self, path: str, header_type: str, raw: dict) -> list[dict]:
        """A media header holds one media variable whose sample is the review asset;
        `example_url` is folded into it and not stored
        (docs/api/templates.md#the-definition-and-its-rules)."""
        example_url = self.text(f"{path}.example_url", raw.get("example_url"), limit=URL_MAX)
        if example_url is not None and not (
            example_url.startswith("https://") and _is_url(example_url)
        ):
            self.add(f"{path}.example_url", "Must be an https URL.")
            return []
        raw_vars = raw.get("variables") or []
        if not isinstance(raw_vars, list) or len(raw_vars) > 1:
            self.add(f"{path}.variables", "A media header holds exactly one media variable.")
            return []
        variable = self.variable(f"{path}.variables.0", raw_vars[0]) if raw_vars else None
        if raw_vars and variable is None:
            return []
        if variable is None:
            variable = {
                "id": 0,
                "name": MEDIA_HEADER_PARAMETER[header_type],
                "type": "media",
                "props": {"mediaType": header_type},
            }
        variable["props"] = {**variable["props"], "mediaType": header_type}
        if example_url:
            variable["props"]["sample"] = example_url
        if not variable["props"].get("sample"):
            self.add(
                f"{path}.example_url",
                "A media header needs a sample for review: give example_url (https://…).",
            )
        return [variable]

    def footer(self, raw) -> dict | None:
        path = "definition.footer"
        raw = self.obj(path, raw)
        if raw is None:
            return None
        text = self.text(f"{path}.template", raw.get("template"), required=True, limit=FOOTER_MAX)
        if raw.get("type") not in (None, "text"):
            self.add(f"{path}.type", 'Must be "text".')
        if text is None:
            return None
        if "\n" in text:
            self.add(f"{path}.template", "A footer can't have line breaks.")
        variables = self.bind(f"{path}.template", text, f"{path}.variables", raw.get("variables"))
        return {"type": "text", "template": text, "variables": variables}

    # --- buttons -----------------------------------------------------------------------
    def buttons(self, raw) -> list[dict]:
        path = "definition.buttons"
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.add(path, "Must be a list.")
            return []
        if len(raw) > MAX_BUTTONS:
            self.add(path, f"At most {MAX_BUTTONS} buttons (got {len(raw)}).")
            return []
        buttons = []
        seen_ids: set[int] = set()
        for i, item in enumerate(raw):
            button = self.button(f"{path}.{i}", item, position=i + 1)
            if button is None:
                continue
            if button["id"] in seen_ids:
                self.add(f"{path}.{i}.id", "Button IDs must be unique.")
            seen_ids.add(button["id"])
            buttons.append(button)
        return buttons

    def button(self, path: str, raw, *, position: int) -> dict | None:
        raw = self.obj(path, raw, required=True)
        if raw is None:
            return None
        button_id = _whole(raw.get("id", position))
        if not _is_int(button_id) or button_id < 0:
            self.add(f"{path}.id", "Must be a whole number, 0 or more.")
            return None
        button_type = raw.get("type")
        if button_type not in BUTTON_TYPES:
            self.add(
                f"{path}.type",
                REQUIRED
                if button_type is None
                else f"Unknown button type: use one of {', '.join(BUTTON_TYPES)}.",
            )
            return None
        props = self.obj(f"{path}.props", raw.get("props"), required=True)
        if props is None:
            return None
        ppath = f"{path}.props"
        out: dict = {}
        if button_type == "OTP":
            if self.category != "AUTHENTICATION":
                self.add(f"{path}.type", "OTP buttons are only for AUTHENTICATION templates.")
            out.update(self.otp_props(ppath, props))
        else:
            text = self.text(
                f"{ppath}.text", props.get("text"), required=True, limit=BUTTON_TEXT_MAX
            )
            if text is not None and (
                "{{" in text or "\n" in text or has_emoji(text) or any(ch in text for ch in "*_~")
            ):
                self.add(f"{ppath}.text", BUTTON_TEXT_RULE)
            out["text"] = text
        if button_type == "URL":
            out.update(self.url_props(ppath, props))
        elif button_type == "PHONE_NUMBER":
            out.update(self.phone_props(ppath, props))
        elif button_type == "COPY_CODE":
            out["offerCode"] = self.text(
                f"{ppath}.offerCode", props.get("offerCode"), required=True, limit=OFFER_CODE_MAX
            )
        elif button_type == "VOICE_CALL":
            active_for = _whole(props.get("activeFor"))
            if active_for is not None and (not _is_int(active_for) or active_for <= 0):
                self.add(f"{ppath}.activeFor", "Must be a whole number of seconds, more than 0.")
            elif active_for is not None:
                out["activeFor"] = active_for
        elif button_type == "QUICK_REPLY":
            out["quickReplyType"] = (
                self.text(f"{ppath}.quickReplyType", props.get("quickReplyType")) or "custom"
            )
        return {"id": button_id, "type": button_type, "props": out}

    def url_props(self, path: str, props: dict) -> dict:
        url_type = props.get("urlType")
        url_type = "static" if url_type is None else url_type
        if url_type not in URL_TYPES:
            self.add(f"{path}.urlType", 'Must be "static" or "dynamic".')
            return {}
        url = self.text(f"{path}.url", props.get("url"), required=True, limit=URL_MAX)
        if url is None:
            return {}
        shape = PLACEHOLDER_RE.sub("x", url)
        if not _is_url(shape):
            self.add(f"{path}.url", "Must be an absolute http(s) URL.")
            return {}
        out = {"urlType": url_type, "url": url}
        if url_type == "static":
            if "{{" in url:
                self.add(f"{path}.url", 'A static URL has no variables: use urlType "dynamic".')
            return out
        if not _TRAILING_PLACEHOLDER_RE.search(url):
            self.add(
                f"{path}.url",
                "A dynamic URL ends with its variable, e.g. "
                "https://example.com/orders/{{0:order_id}}.",
            )
        variables = self.bind(f"{path}.url", url, f"{path}.variables", props.get("variables"))
        if len(variables) > URL_BUTTON_MAX_VARIABLES:
            self.add(f"{path}.variables", "A URL button holds at most one variable.")
        out["variables"] = variables
        return out

    def phone_props(self, path: str, props: dict) -> dict:
        number = self.text(f"{path}.phoneNumber", props.get("phoneNumber"), required=True, limit=32)
        country = self.text(f"{path}.countryCode", props.get("countryCode"), limit=8)
        if number is None:
            return {}
        full = number if number.startswith("+") else f"+{(country or '').lstrip('+')}{number}"
        try:
            valid = phonenumbers.is_valid_number(phonenumbers.parse(full, None))
        except phonenumbers.NumberParseException:
            valid = False
        if not valid:
            self.add(
                f"{path}.phoneNumber",
                'Not a valid phone number (give countryCode, e.g. "+1", and the national number).',
            )
        out = {"phoneNumber": number}
        if country is not None:
            out["countryCode"] = country
        return out

    def otp_props(self, path: str, props: dict) -> dict:
        otp_type = props.get("otpType")
        otp_type = "COPY_CODE" if otp_type is None else otp_type
        if otp_type not in OTP_TYPES:
            self.add(f"{path}.otpType", f"Must be one of: {', '.join(OTP_TYPES)}.")
            return {}
        out = {"otpType": otp_type}
        for key in ("autofillText", "packageName", "signatureHash"):
            value = self.text(
                f"{path}.{key}",
                props.get(key),
                limit=200,
                required=otp_type != "COPY_CODE" and key != "autofillText",
            )
            if value is not None:
                out[key] = value
        return out

    # --- whole definition --------------------------------------------------------------
    def authentication_config(self, raw) -> dict | None:
        path = "definition.authenticationConfig"
        raw = self.obj(path, raw)
        if raw is None:
            return None
        if self.category != "AUTHENTICATION":
            self.add(path, "Only AUTHENTICATION templates take an authenticationConfig.")
        config: dict = {}
        add_security = raw.get("addSecurityRecommendation", False)
        if not isinstance(add_security, bool):
            self.add(f"{path}.addSecurityRecommendation", "Must be true or false.")
        config["addSecurityRecommendation"] = add_security is True
        minutes = _whole(raw.get("codeExpirationMinutes"))
        if minutes is not None and (not _is_int(minutes) or not 1 <= minutes <= 90):
            self.add(f"{path}.codeExpirationMinutes", "Must be a whole number from 1 to 90.")
        config["codeExpirationMinutes"] = minutes if _is_int(minutes) else None
        return config

    def consistent_bases(self) -> None:
        if not self.bases:
            return
        first_path, base = self.bases[0]
        for path, other in self.bases[1:]:
            if other != base:
                self.add(
                    path,
                    f"Variable ids start at {base} in {first_path}: "
                    f"number them from {base} here too.",
                )

    def run(self, raw) -> dict:
        raw = self.obj("definition", raw, required=True)
        if raw is None:
            return {}
        result: dict = {"body": self.body(raw.get("body"))}
        header = self.header(raw.get("header"))
        if header is not None:
            result["header"] = header
        footer = self.footer(raw.get("footer"))
        if footer is not None:
            result["footer"] = footer
        buttons = self.buttons(raw.get("buttons"))
        if buttons:
            result["buttons"] = buttons
        version = self.text("definition.definitionVersion", raw.get("definitionVersion"), limit=20)
        result["definitionVersion"] = version or "1.0"
        config = self.authentication_config(raw.get("authenticationConfig"))
        if config is not None:
            result["authenticationConfig"] = config
        self.consistent_bases()
        self.align_media_header(result)
        return result

    def align_media_header(self, result: dict) -> None:
        """A synthesised media variable takes the template's id start (0 or 1)."""
        header = result.get("header")
        if header and header["type"] in MEDIA_HEADER_PARAMETER and header["variables"]:
            base = self.bases[0][1] if self.bases else 0
            header["variables"][0]["id"] = base
            header["template"] = f"{{{{{base}:{header['variables'][0]['name']}}}}}"


def definition_normalize(raw, *, category: str) -> dict:
    """The definition in its stored form, or ValidationFailed listing every problem by path.

    `category` is the template's (AUTHENTICATION has its own rules)."""
    validator = _Validator(category)
    result = validator.run(raw)
    if validator.errors:
        raise ValidationFailed(details=validator.errors)
    return result
