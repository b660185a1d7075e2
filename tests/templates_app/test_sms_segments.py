"""sms_segments: GSM-7 vs UCS-2, and segment counts at every boundary (GSM 03.38)."""

import pytest

from templates_app.rendering import sms_segments


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm7_text_fits_160_alone_and_153_per_part(length, segments):
    assert sms_segments("a" * length) == ("GSM-7", segments, length)


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_ucs2_text_fits_70_alone_and_67_per_part(length, segments):
    text = "ж" * length  # Cyrillic: not in the GSM alphabet
    assert sms_segments(text) == ("UCS-2", segments, length)


def test_an_empty_text_is_one_gsm_segment():
    assert sms_segments("") == ("GSM-7", 1, 0)


def test_the_gsm_alphabet_with_accents_greek_and_symbols_stays_gsm7():
    text = "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà\n\r"
    encoding, segments, characters = sms_segments(text)
    assert (encoding, segments, characters) == ("GSM-7", 1, len(text))


@pytest.mark.parametrize("char", list("€[]{}\\^~|") + ["\f"])
def test_each_extension_character_counts_double(char):
    assert sms_segments(char) == ("GSM-7", 1, 2)
    assert sms_segments("a" * 158 + char) == ("GSM-7", 1, 160)
    assert sms_segments("a" * 159 + char) == ("GSM-7", 2, 161)


def test_an_escape_pair_is_never_split_across_parts():
    # 152 septets, then € (2) would straddle the 153 boundary: it moves to part two.
    text = "a" * 152 + "€" + "a" * 151
    assert sms_segments(text) == ("GSM-7", 2, 305)
    text = "a" * 152 + "€" + "a" * 152
    assert sms_segments(text) == ("GSM-7", 3, 306)


def test_one_character_outside_gsm_makes_the_whole_text_ucs2():
    text = "a" * 69 + "ç"  # lowercase ç is not in GSM-7 (only Ç is)
    assert sms_segments(text) == ("UCS-2", 1, 70)
    assert sms_segments("a" * 70 + "’") == ("UCS-2", 2, 71)  # a curly apostrophe


def test_an_emoji_counts_two_utf16_code_units():
    assert sms_segments("😀") == ("UCS-2", 1, 2)
    assert sms_segments("a" * 68 + "😀") == ("UCS-2", 1, 70)
    assert sms_segments("a" * 69 + "😀") == ("UCS-2", 2, 71)


def test_a_surrogate_pair_is_never_split_across_parts():
    # 66 units then an emoji (2) would straddle the 67 boundary: it moves to part two, so
    # 134 units need three parts here where 134 plain ones fit in two.
    assert sms_segments("a" * 66 + "😀" + "a" * 65) == ("UCS-2", 2, 133)
    assert sms_segments("a" * 66 + "😀" + "a" * 66) == ("UCS-2", 3, 134)


def test_a_bmp_symbol_outside_gsm_counts_one_unit():
    assert sms_segments("✓" * 70) == ("UCS-2", 1, 70)
