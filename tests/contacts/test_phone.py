"""contacts.phone: every accepted input format, the derived fields, and what bad input says."""

import pytest
from phonenumbers import PhoneNumberFormat

from contacts.errors import InvalidPhoneNumber
from contacts.phone import describe_e164, digits_fragment, normalise, parse_phone


@pytest.mark.parametrize(
    "raw",
    [
        "+1 234-567-8900",
        "(234) 567-8900",
        "234-567-8900",
        "+12345678900",
        "2345678900",
        "234.567.8900",
        "+1 (234) 567 8900",
        "1 234 567 8900",
        "011 1 234 567 8900",
        "001 234 567 8900",
        "tel:+1-234-567-8900",
        "TEL:+12345678900",
        "tel:234-567-8900;phone-context=+1",
        "  +1 234 567 8900  ",
        "+1\u00a0234\u2011567\u20118900",
    ],
)
def test_the_seed_formats_all_normalise_to_one_e164_for_a_us_customer(raw):
    assert parse_phone(raw, default_region="US").e164 == "+12345678900"


def test_a_us_number_has_every_format_and_field():
    parsed = parse_phone("+1 234-567-8900", default_region="US")
    assert parsed.international == "+1 234-567-8900"
    assert parsed.national == "(234) 567-8900"
    assert parsed.rfc3966 == "tel:+1-234-567-8900"
    assert parsed.country_code == "1"
    assert parsed.region_code == "US"
    assert parsed.line_type == "fixed_line_or_mobile"
    assert parsed.carrier == ""
    assert parsed.time_zones == ["America/New_York"]
    assert parsed.is_valid is True


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("07911 123456", "GB", "+447911123456"),  # national with trunk 0
        ("00 44 7911 123456", "US", "+447911123456"),  # 00 works from any region
        ("011 44 7911 123456", "US", "+447911123456"),  # the US IDD
        ("011 44 7911 123456", "DE", "+447911123456"),  # 011 from a region whose IDD is 00
        ("0011 44 7911 123456", "AU", "+447911123456"),  # Australia's own IDD
        ("0113 496 0000", "GB", "+441134960000"),  # a Leeds number, not an IDD
        ("+44 (0) 7911 123-456", "US", "+447911123456"),
        ("+49 151 1234 5678", "US", "+4915112345678"),
        ("0151 12345678", "DE", "+4915112345678"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("+1 234 567 8900", "GB", "+12345678900"),  # international ignores the region
        ("+٩٧١٥٠١٢٣٤٥٦٧", "US", "+971501234567"),  # Arabic-Indic digits
    ],
)
def test_international_national_and_idd_forms(raw, region, e164):
    assert parse_phone(raw, default_region=region).e164 == e164


@pytest.mark.parametrize(
    ("e164", "line_type"),
    [
        ("+447911123456", "mobile"),
        ("+442079460958", "fixed_line"),
        ("+12345678900", "fixed_line_or_mobile"),
        ("+18005550100", "toll_free"),
        ("+493012345678", "fixed_line"),
    ],
)
def test_the_line_type_is_readable(e164, line_type):
    assert parse_phone(e164, default_region="US").line_type == line_type


def test_carrier_and_time_zones_where_phonenumbers_knows_them():
    german = parse_phone("+4915112345678", default_region="US")
    assert (german.carrier, german.time_zones, german.region_code) == (
        "T-Mobile",
        ["Europe/Berlin"],
        "DE",
    )
    assert parse_phone("+33612345678", default_region="US").carrier == "SFR"
    # +44 7911 is a Guernsey range: the region says so, not just the calling code.
    assert parse_phone("+447911123456", default_region="US").region_code == "GG"


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("abc", "letters"),
        ("+1 800 FLOWERS", "letters"),
        ("+1 234 567 8900 ext 12", "letters"),
        ("12#34", "not part of a phone number"),
        ("+", "no digits"),
        ("---", "no digits"),
        ("1", "too short"),
        ("+1 23", "too short"),
        ("+1 234 567 89001234", "too long"),
        ("+1 " + "9" * 70, "too long"),
        ("+999 1234 5678", "unknown country calling code"),
        ("+1 234 167 8900", "not a valid"),  # exchange can't start with 1
    ],
)
def test_bad_input_is_validation_002_with_a_message_saying_what_is_wrong(raw, says):
    with pytest.raises(InvalidPhoneNumber) as caught:
        parse_phone(raw, default_region="US")
    assert caught.value.code == "VALIDATION_002"
    assert caught.value.status == 400
    assert says in caught.value.message
    assert caught.value.details == {"phone_number": [caught.value.message]}


def test_a_national_number_without_a_usable_region_asks_for_the_country_code():
    with pytest.raises(InvalidPhoneNumber) as caught:
        parse_phone("07911 123456", default_region="")
    assert "international form" in caught.value.message


def test_a_number_of_the_wrong_length_for_its_country_says_so():
    with pytest.raises(InvalidPhoneNumber) as caught:
        parse_phone("+44 7911 1234", default_region="US")
    assert "GB" in caught.value.message


def test_non_strict_parsing_returns_invalid_numbers_marked_invalid():
    parsed = parse_phone("+1 234 167 8900", default_region="US", strict=False)
    assert parsed.is_valid is False
    assert parsed.e164 == "+12341678900"
    assert parsed.line_type == "unknown"


def test_normalise_returns_only_what_a_contact_stores():
    number = normalise("(234) 567-8900", "US")
    assert (number.e164, number.country_code, number.region_code, number.line_type) == (
        "+12345678900",
        "1",
        "US",
        "fixed_line_or_mobile",
    )


def test_derived_fields_of_an_e164_number_are_cached():
    assert describe_e164("+447911123456") is describe_e164("+447911123456")
    assert describe_e164("+447911123456").national == "07911 123456"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("+1234", ("1234", True)),
        ("00 44 79", ("004479", False)),
        ("234-56", ("23456", False)),
        ("(234) 567", ("234567", False)),
        ("07911", ("07911", False)),
        ("acme", None),
        ("12a", None),
        ("", None),
    ],
)
def test_search_fragments_of_numbers(query, expected):
    assert digits_fragment(query) == expected


def test_type_and_region_in_one_pass_agree_with_phonenumbers_public_functions():
    import random

    import phonenumbers

    from contacts.phone import _type_and_region

    rng = random.Random(3)
    # Shared calling codes (NANPA, +7, +44, +47, +61, +262, +590, +599) and single-region ones.
    codes = [1, 1, 1, 7, 44, 47, 61, 262, 290, 590, 599, 33, 49, 91, 800, 870, 979]
    for _ in range(5000):
        code = rng.choice(codes)
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 12)))
        try:
            number = phonenumbers.parse(f"+{code}{digits}", None)
        except phonenumbers.NumberParseException:
            continue
        expected = (phonenumbers.number_type(number), phonenumbers.region_code_for_number(number))
        number_type, region = _type_and_region(number)
        assert number_type == expected[0], number
        if number_type != phonenumbers.PhoneNumberType.UNKNOWN:
            assert region == expected[1], number


def _example_inputs():
    """Every region's example numbers of every type, written the ways people write them
    (E.164, national digits, with the country code but no "+", with IDD prefixes), plus
    variants one digit longer or shorter and with their last digits changed."""
    import random

    import phonenumbers

    rng = random.Random(7)
    inputs = set()
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in range(12):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            code = str(example.country_code)
            nsn = phonenumbers.national_significant_number(example)
            national = "".join(
                ch for ch in phonenumbers.format_number(example, PhoneNumberFormat.NATIONAL)
                if ch.isdigit()
            )  # fmt: skip
            variants = {nsn, nsn[:-1], nsn + rng.choice("0123456789")}
            variants.add(nsn[:-2] + f"{rng.randrange(100):02d}")
            for digits in variants:
                inputs.update({f"+{code}{digits}", digits, f"{code}{digits}", f"00{code}{digits}"})
                inputs.add(f"011{code}{digits}")
            inputs.update({national, "0" + nsn, f"+{code}0{nsn}"})
    return sorted(inputs)


def test_plain_digit_parse_gives_what_phonenumbers_parse_gives():
    import phonenumbers

    from contacts.phone import _parse_plain_digits

    inputs = _example_inputs()
    handled = 0
    for default_region in ("US", "GB", "IT", "DE", "BR", "AU", None):
        for compact in inputs:
            fast = _parse_plain_digits(compact, default_region)
            try:
                expected = phonenumbers.parse(compact, default_region)
            except phonenumbers.NumberParseException:
                expected = None
            if fast is None:
                continue  # phonenumbers.parse decides (IDD prefixes, errors)
            handled += 1
            assert fast == expected, (compact, default_region)
            assert fast.italian_leading_zero == expected.italian_leading_zero, compact
            assert fast.number_of_leading_zeros == expected.number_of_leading_zeros, compact
    # The fast path is the common path, not a corner: most inputs never reach phonenumbers.parse.
    assert handled > 0.7 * len(inputs) * 7


def test_type_and_region_of_every_regions_examples_agree_with_phonenumbers():
    import phonenumbers

    from contacts.phone import _normalised, _type_and_region

    seen_types = set()
    for compact in _example_inputs():
        if not compact.startswith("+"):
            continue
        try:
            number = phonenumbers.parse(compact, None)
        except phonenumbers.NumberParseException:
            continue
        number_type, region = _type_and_region(number)
        assert number_type == phonenumbers.number_type(number), compact
        if number_type != phonenumbers.PhoneNumberType.UNKNOWN:
            seen_types.add(number_type)
            assert region == phonenumbers.region_code_for_number(number), compact
            stored = _normalised(number, number_type, region)
            assert stored.e164 == phonenumbers.format_number(number, PhoneNumberFormat.E164)
    assert len(seen_types) >= 10
