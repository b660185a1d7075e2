"""The phone fast path falls back to phonenumbers' public API when a private name it uses
disappears (docs/operations.md#dependencies): same answers, only slower."""

import importlib
import sys
import types

import phonenumbers.phonenumberutil as phonenumberutil

import contacts.phone

SAMPLES = [
    ("+14155550123", "US"),
    ("(415) 555-0124", "US"),
    ("14155550125", "US"),
    ("+447911123456", "GB"),
    ("07911 123456", "GB"),
    ("0044 7911 123457", "US"),
    ("+33612345678", "FR"),
    ("+390612345678", "IT"),
    ("12", "US"),
    ("+1800555012", "US"),
]


def answers(module) -> list:
    found = []
    for raw, region in SAMPLES:
        try:
            found.append(tuple(module.normalise(raw, region)))
        except Exception as error:
            found.append((type(error).__name__, str(error)))
    return found


def test_hiding_a_private_name_turns_the_fast_path_off_with_the_same_answers(monkeypatch):
    fast = answers(contacts.phone)
    assert contacts.phone.FAST_PATH is True

    # What our module sees of phonenumbers' module, without one private name (phonenumbers
    # itself keeps it: its public functions still work).
    class WithoutOneName(types.ModuleType):
        def __getattr__(self, name):
            if name == "_extract_country_code":
                raise AttributeError(name)
            return getattr(phonenumberutil, name)

    monkeypatch.setitem(
        sys.modules, "phonenumbers.phonenumberutil", WithoutOneName(phonenumberutil.__name__)
    )
    try:
        slow_module = importlib.reload(contacts.phone)
        assert slow_module.FAST_PATH is False
        assert answers(slow_module) == fast
    finally:
        monkeypatch.undo()
        importlib.reload(contacts.phone)
    assert contacts.phone.FAST_PATH is True
