"""Phone numbers: parse, validate and normalise with `phonenumbers`.

Plain functions with no Django import: the bulk import's worker processes import this module.

- `parse_phone(raw, default_region=...)` → `ParsedPhone` (every format, line type, carrier,
  time zones) or `InvalidPhoneNumber` (400 VALIDATION_002) with a message saying what is wrong.
- `normalise(raw, default_region)` → the four values a contact row stores (E.164, calling code,
  region, line type): the fast path of bulk creation and imports.
- `describe_e164(e164)` → the derived fields (display formats, carrier, time zones), cached:
  contacts store only what queries need and derive the rest on read.
"""

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import NamedTuple

import phonenumbers
from phonenumbers import (
    NumberParseException,
    PhoneMetadata,
    PhoneNumber,
    PhoneNumberFormat,
    PhoneNumberType,
)
from phonenumbers import ValidationResult as Possible
from phonenumbers import carrier as pn_carrier
from phonenumbers import timezone as pn_timezone
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE, region_code_for_country_code

# The fast path of plain digits uses private helpers of phonenumbers (the version is pinned
# exactly in pyproject.toml). If a release renames one, `FAST_PATH` is off and every number
# goes through the public `phonenumbers.parse`: slower, same answers.
try:
    from phonenumbers.phonenumberutil import (
        _extract_country_code,
        _match_national_number,
        _maybe_strip_national_prefix_carrier_code,
        _set_italian_leading_zeros_for_phone_number,
        _test_number_length,
    )
    from phonenumbers.re_util import re_compile

    FAST_PATH = True
except ImportError:  # pragma: no cover - exercised by hiding a name (tests/contacts)
    FAST_PATH = False
    re_compile = re.compile

from contacts.errors import InvalidPhoneNumber

# Readable line types, stored on contacts and shown on the wire.
LINE_TYPES: dict[int, str] = {
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.UNKNOWN: "unknown",
}
# Longer than any real number in any format, tel: URI included.
MAX_INPUT_LENGTH = 64
# Spaces, dashes, dots, brackets and slashes are formatting; "+" starts an international number.
FORMATTING = re.compile(r"[\s\-\.\(\)/\u2010-\u2015\u2212]")
# What may remain once formatting is removed: an optional "+" and digits (any script's digits:
# phonenumbers reads Arabic-Indic and full-width digits too).
DIGITS_ONLY = re.compile(r"^\+?\d+$")
# International call prefixes accepted from every region (the region's own one is too).
UNIVERSAL_IDD = ("00", "011")


@dataclass(frozen=True)
class ParsedPhone:
    e164: str  # "+12345678900"
    international: str  # "+1 234-567-8900"
    national: str  # "(234) 567-8900"
    rfc3966: str  # "tel:+1-234-567-8900"
    country_code: str  # calling code, "1"
    region_code: str  # ISO 3166-1 alpha-2 ("US"), "001" for non-geographic numbers, "" if unknown
    line_type: str  # a value of LINE_TYPES
    carrier: str  # "" where phonenumbers doesn't know it (always for NANPA: numbers are ported)
    time_zones: list[str] = field(default_factory=list)
    is_valid: bool = True


class Normalised(NamedTuple):
    """The stored part of a parsed number (a tuple: imports build 100,000 of them)."""

    e164: str
    country_code: str
    region_code: str
    line_type: str


@dataclass(frozen=True)
class PhoneDetails:
    """The derived part: display formats, carrier, time zones."""

    international: str
    national: str
    rfc3966: str
    carrier: str
    time_zones: list[str]


def _clean(raw: str) -> str:
    """The input with formatting removed ("+12345678900", "2345678900"), or InvalidPhoneNumber."""
    if not isinstance(raw, str):
        raise InvalidPhoneNumber("The phone number must be a string.")
    text = raw.strip()
    if not text:
        raise InvalidPhoneNumber("The phone number is empty.")
    if len(text) > MAX_INPUT_LENGTH:
        raise InvalidPhoneNumber(
            f"The phone number is too long ({len(text)} characters; at most {MAX_INPUT_LENGTH})."
        )
    if text[:4].lower() == "tel:":
        text = _from_tel_uri(text)
    compact = FORMATTING.sub("", text)
    if not compact or compact == "+":
        raise InvalidPhoneNumber(f"{raw!r} contains no digits.")
    if not DIGITS_ONLY.match(compact):
        if any(ch.isalpha() for ch in compact):
            raise InvalidPhoneNumber(
                f"{raw!r} contains letters; use digits only (no extensions or vanity numbers)."
            )
        raise InvalidPhoneNumber(
            f"{raw!r} contains characters that are not part of a phone number; "
            "use digits, spaces, dashes, dots, brackets and a leading +."
        )
    return compact


def _from_tel_uri(text: str) -> str:
    """tel:+1-234-567-8900 → +1-234-567-8900; tel:234-567-8900;phone-context=+1 → +1234…"""
    number, *params = text[4:].split(";")
    context = ""
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "phone-context" and value.strip().startswith("+"):
            context = value.strip()
    if context and not number.strip().startswith("+"):
        return context + FORMATTING.sub("", number)
    return number


# --- Fast paths: phonenumbers' own answers without its general-purpose overhead -----------
# An import parses 100,000 numbers: phonenumbers.parse spends most of its time on what a
# cleaned input doesn't have (extensions, letters, non-ASCII digits, tel: parameters), and
# number_type() matches the number against its region's patterns through several layers of
# calls. These two take the same decisions with phonenumbers' own helpers and metadata
# (tests/contacts/test_phone.py checks them against the public functions on every region's
# example numbers and their variants); anything unusual goes to phonenumbers itself.

# What a number reaching a rule other than "not valid" may cost: TOO_SHORT and the like mean
# the national prefix was not one (phonenumbers.parse keeps the number as it was).
_UNUSABLE_LENGTHS = (Possible.TOO_SHORT, Possible.IS_POSSIBLE_LOCAL_ONLY, Possible.INVALID_LENGTH)


def _metadata_of_code(country_code: int, region: str | None, metadata):
    """What phonenumbers.parse goes on with once a country code is read: the metadata of the
    code's main region, unless that is the default region (whose metadata it has)."""
    number_region = region_code_for_country_code(country_code)
    if number_region == region:
        return metadata
    return PhoneMetadata.metadata_for_region_or_calling_code(country_code, number_region)


def _parse_plain_digits(compact: str, region: str | None) -> PhoneNumber | None:
    """`phonenumbers.parse(compact, region)` for ASCII digits with an optional leading "+",
    or None where only phonenumbers.parse can answer (IDD prefixes, every error)."""
    metadata = PhoneMetadata.metadata_for_region(region, None) if region else None
    if compact[0] == "+":
        digits = compact[1:]
        if len(digits) <= 2:
            return None
        country_code, nsn = _extract_country_code(digits)
        if country_code == 0:
            return None
        metadata = _metadata_of_code(country_code, region, metadata)
    else:
        if metadata is None:
            return None
        idd = metadata.international_prefix
        if idd is not None and re_compile(idd).match(compact):
            return None
        country_code, nsn = metadata.country_code, compact
        # A national number written with its country code but no "+" ("1 234 567 8900").
        code = str(country_code)
        if compact.startswith(code):
            general = metadata.general_desc
            _, without_code, _ = _maybe_strip_national_prefix_carrier_code(
                compact[len(code) :], metadata
            )
            if (
                not _match_national_number(compact, general, False)
                and _match_national_number(without_code, general, False)
            ) or _test_number_length(compact, metadata) == Possible.TOO_LONG:
                nsn = without_code
                metadata = _metadata_of_code(country_code, region, metadata)
    if len(nsn) < 2:
        return None
    if metadata is not None:
        _, without_prefix, _ = _maybe_strip_national_prefix_carrier_code(nsn, metadata)
        if _test_number_length(without_prefix, metadata) not in _UNUSABLE_LENGTHS:
            nsn = without_prefix
    if not 2 <= len(nsn) <= 17:
        return None
    number = PhoneNumber(country_code=country_code)
    _set_italian_leading_zeros_for_phone_number(nsn, number)
    number.national_number = int(nsn)
    return number


# The number types phonenumbers tries, in its order, before fixed line and mobile.
_SPECIAL_TYPES = (
    ("premium_rate", PhoneNumberType.PREMIUM_RATE),
    ("toll_free", PhoneNumberType.TOLL_FREE),
    ("shared_cost", PhoneNumberType.SHARED_COST),
    ("voip", PhoneNumberType.VOIP),
    ("personal_number", PhoneNumberType.PERSONAL_NUMBER),
    ("pager", PhoneNumberType.PAGER),
    ("uan", PhoneNumberType.UAN),
    ("voicemail", PhoneNumberType.VOICEMAIL),
)
# (possible lengths or None for any, the pattern's fullmatch), or None: matches nothing.
_Matcher = tuple[frozenset | None, object] | None


def _matcher(desc) -> _Matcher:
    if desc is None or not desc.national_number_pattern:
        return None
    return frozenset(desc.possible_length) or None, re_compile(
        desc.national_number_pattern
    ).fullmatch


def _matches(matcher: _Matcher, nsn: str) -> bool:
    return (
        matcher is not None
        and (matcher[0] is None or len(nsn) in matcher[0])
        and matcher[1](nsn) is not None
    )


@cache
def _type_matchers(country_code: int, region: str) -> tuple:
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    return (
        _matcher(metadata.general_desc),
        tuple((_matcher(getattr(metadata, name)), kind) for name, kind in _SPECIAL_TYPES),
        _matcher(metadata.fixed_line),
        _matcher(metadata.mobile),
        metadata.same_mobile_and_fixed_line_pattern,
    )


def _number_type(nsn: str, country_code: int, region: str) -> int:
    """phonenumbers' `_number_type_helper`, with the patterns looked up once per region."""
    general, special, fixed_line, mobile, same_patterns = _type_matchers(country_code, region)
    if not _matches(general, nsn):
        return PhoneNumberType.UNKNOWN
    for matcher, kind in special:
        if _matches(matcher, nsn):
            return kind
    if _matches(fixed_line, nsn):
        if same_patterns or _matches(mobile, nsn):
            return PhoneNumberType.FIXED_LINE_OR_MOBILE
        return PhoneNumberType.FIXED_LINE
    if not same_patterns and _matches(mobile, nsn):
        return PhoneNumberType.MOBILE
    return PhoneNumberType.UNKNOWN


def _type_and_region(number: phonenumbers.PhoneNumber) -> tuple[int, str]:
    """(type, region): `number_type()` and `region_code_for_number()` in one pass.

    Calling both matches the number against its patterns three times for a +1 number (the
    region search validates it against US first, then number_type searches the region again
    and validates once more); this does it once, which is half of an import's parse cost.
    Same result as the public pair (tests/contacts/test_phone.py checks it).
    """
    regions = COUNTRY_CODE_TO_REGION_CODE.get(number.country_code)
    if not regions:
        return PhoneNumberType.UNKNOWN, ""
    nsn = phonenumbers.national_significant_number(number)
    for region in regions:
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(number.country_code, region)
        if metadata is None:
            continue
        if len(regions) > 1 and metadata.leading_digits is not None:
            if re_compile(metadata.leading_digits).match(nsn):
                return _number_type(nsn, number.country_code, region), region
            continue
        number_type = _number_type(nsn, number.country_code, region)
        if len(regions) == 1 or number_type != PhoneNumberType.UNKNOWN:
            return number_type, region
    return PhoneNumberType.UNKNOWN, ""


def _parse(
    compact: str, default_region: str, raw: str
) -> tuple[phonenumbers.PhoneNumber, int, str]:
    """(number, type, region). The type is UNKNOWN when the number is not valid."""
    region = (default_region or "").upper() or None
    number = failure = None
    if FAST_PATH and compact.isascii():
        try:
            number = _parse_plain_digits(compact, region)
        except (AttributeError, TypeError):  # a private helper changed shape: the public way
            number = None
    if number is None:
        try:
            number = phonenumbers.parse(compact, region)
        except NumberParseException as exc:
            failure = exc
    if number is not None:
        number_type, number_region = _type_and_region(number)
        if number_type != PhoneNumberType.UNKNOWN:
            return number, number_type, number_region
    # "00…" and "011…" work from every region, not only where they are the local IDD.
    if not compact.startswith("+"):
        for prefix in UNIVERSAL_IDD:
            if compact.startswith(prefix):
                try:
                    alternative = phonenumbers.parse("+" + compact[len(prefix) :], None)
                except NumberParseException:
                    continue
                number_type, number_region = _type_and_region(alternative)
                if number_type != PhoneNumberType.UNKNOWN:
                    return alternative, number_type, number_region
    if number is None:
        raise InvalidPhoneNumber(_parse_failure_message(failure, raw, compact, region)) from None
    return number, PhoneNumberType.UNKNOWN, number_region


def _parse_failure_message(exc: NumberParseException, raw: str, compact: str, region) -> str:
    kind = exc.error_type
    if kind == NumberParseException.INVALID_COUNTRY_CODE:
        if compact.startswith("+"):
            return f"{raw!r} starts with an unknown country calling code."
        return (
            f"{raw!r} has no country code and cannot be read as a national number"
            + (f" of {region}" if region else "")
            + ": write it in international form, e.g. +14155550100."
        )
    if kind in (NumberParseException.TOO_SHORT_NSN, NumberParseException.TOO_SHORT_AFTER_IDD) or (
        kind == NumberParseException.NOT_A_NUMBER and len(compact.lstrip("+")) < 3
    ):
        return f"{raw!r} is too short to be a phone number."
    if kind == NumberParseException.TOO_LONG:
        return f"{raw!r} is too long to be a phone number."
    return f"{raw!r} is not a phone number."


def _invalid_message(number: phonenumbers.PhoneNumber, raw: str) -> str:
    where = phonenumbers.region_code_for_country_code(number.country_code)
    if where == phonenumbers.UNKNOWN_REGION:
        where = f"+{number.country_code}"
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason == Possible.TOO_SHORT:
        return f"{raw!r} is too short for a {where} number."
    if reason == Possible.TOO_LONG:
        return f"{raw!r} is too long for a {where} number."
    if reason == Possible.IS_POSSIBLE_LOCAL_ONLY:
        return f"{raw!r} is too short: it looks like a local {where} number without its area code."
    if reason == Possible.INVALID_LENGTH:
        return f"{raw!r} has the wrong number of digits for a {where} number."
    if reason == Possible.INVALID_COUNTRY_CODE:
        return f"{raw!r} has an unknown country calling code."
    return f"{raw!r} is not a valid {where} number (no such number range is in use)."


def _normalised(number: phonenumbers.PhoneNumber, number_type: int, region: str) -> Normalised:
    # What format_number(number, E164) gives, without its general-purpose checks.
    return Normalised(
        e164=f"+{number.country_code}{phonenumbers.national_significant_number(number)}",
        country_code=str(number.country_code),
        region_code=region,
        line_type=LINE_TYPES.get(number_type, "unknown"),
    )


def normalise(raw: str, default_region: str) -> Normalised:
    """The stored part of a valid number, or InvalidPhoneNumber. About 20 µs."""
    number, number_type, region = _parse(_clean(raw), default_region, raw)
    if number_type == PhoneNumberType.UNKNOWN:
        raise InvalidPhoneNumber(_invalid_message(number, raw))
    return _normalised(number, number_type, region)


def normalise_many(raws: list[str], default_region: str) -> list[tuple]:
    """For worker processes: per input, (e164, country_code, region_code, line_type) or (error,)."""
    results: list[tuple] = []
    for raw in raws:
        try:
            n = normalise(raw, default_region)
        except InvalidPhoneNumber as exc:
            results.append((exc.message,))
        else:
            results.append((n.e164, n.country_code, n.region_code, n.line_type))
    return results


def parse_phone(raw: str, *, default_region: str, strict: bool = True) -> ParsedPhone:
    """Everything phonenumbers knows about a number.

    Accepts E.164, international with spaces/dashes/dots/brackets, national numbers of
    `default_region`, IDD prefixes (00, 011 and the region's own) and tel: URIs. Raises
    InvalidPhoneNumber (VALIDATION_002) for what cannot be a number; with `strict=False` a
    number that parses but is not valid comes back with `is_valid=False` instead.
    """
    number, number_type, region = _parse(_clean(raw), default_region, raw)
    is_valid = number_type != PhoneNumberType.UNKNOWN
    if not is_valid and strict:
        raise InvalidPhoneNumber(_invalid_message(number, raw))
    stored = _normalised(number, number_type, region)
    details = describe_e164(stored.e164) if is_valid else _details(number, valid=False)
    return ParsedPhone(
        e164=stored.e164,
        international=details.international,
        national=details.national,
        rfc3966=details.rfc3966,
        country_code=stored.country_code,
        region_code=stored.region_code,
        line_type=stored.line_type,
        carrier=details.carrier,
        time_zones=list(details.time_zones),
        is_valid=is_valid,
    )


def _details(number: phonenumbers.PhoneNumber, *, valid: bool) -> PhoneDetails:
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    zones = [z for z in pn_timezone.time_zones_for_number(number) if z != "Etc/Unknown"]
    return PhoneDetails(
        international=international,
        national=phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL),
        # RFC 3966 is the international form with dashes (what phonenumbers does too).
        rfc3966="tel:" + international.replace(" ", "-"),
        carrier=pn_carrier.name_for_number(number, "en") if valid else "",
        time_zones=zones,
    )


@lru_cache(maxsize=65_536)
def describe_e164(e164: str) -> PhoneDetails:
    """Display formats, carrier and time zones of a stored (valid) E.164 number. Cached."""
    return _details(phonenumbers.parse(e164, None), valid=True)


def digits_fragment(query: str) -> tuple[str, bool] | None:
    """A search term that looks like part of a phone number → (digits, is_prefix), else None.

    "+1234" → ("1234", True): the start of an E.164 number. "234-56", "(234) 567" →
    ("23456", False), ("234567", False): digits anywhere in it (the caller decides what a
    leading "00" or "0" may also mean).
    """
    compact = FORMATTING.sub("", query.strip())
    if compact[:4].lower() == "tel:":
        compact = compact[4:]
    if not compact or not DIGITS_ONLY.match(compact):
        return None
    compact = "".join(str(int(ch)) if ch != "+" else ch for ch in compact)  # any script → ASCII
    if compact.startswith("+"):
        return compact[1:], True
    return compact, False
