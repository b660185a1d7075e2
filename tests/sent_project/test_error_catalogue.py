"""The catalogue: one class per code, each declared once, and the /docs/errors/ page lists them."""

import html
import re
from pathlib import Path

import pytest

from sent_project.errors import CATALOGUE, NotFound, SentError, ValidationFailed, error_class_for

# Every code the API answers with. Clients switch on these: never drop or rename one.
CODES = [
    *("AUTH_001", "AUTH_002", "AUTH_004"),
    *(f"VALIDATION_00{n}" for n in range(1, 8)),
    *(f"REQUEST_00{n}" for n in range(1, 7)),
    *(f"RESOURCE_0{n:02}" for n in (1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12)),
    *("CONFLICT_001", "CONFLICT_006", "CONFLICT_007", "IDEMPOTENCY_001"),
    *(f"BUSINESS_00{n}" for n in range(2, 7)),
    *("TEMPLATE_001", "TEMPLATE_002", "TEMPLATE_003", "MESSAGE_001"),
    *(f"MESSAGE_00{n}" for n in range(2, 6)),
    *("WEBHOOK_001", "WEBHOOK_002", "WEBHOOK_003", "WEBHOOK_004", "INTERNAL_001", "SERVICE_001"),
    *("USER_001", "USER_002", "USER_003", "USER_004", "USER_005", "USER_006"),
]


def _declared_classes() -> list[type[SentError]]:
    """Every class of the code base (not of the tests) that declares a code of its own."""
    found, todo = [], [SentError]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if "status" in vars(cls) and not cls.__module__.startswith("tests."):
            found.append(cls)
    return found


def test_the_catalogue_has_every_code_once():
    declared = [cls.code for cls in _declared_classes()]
    assert sorted(declared) == sorted(set(declared)), "a code is declared by two classes"
    assert sorted(CATALOGUE) == sorted(CODES) == sorted(declared)
    for code, cls in CATALOGUE.items():
        assert cls.code == code and error_class_for(code) is cls


def test_declaring_a_code_again_with_another_meaning_raises():
    before = dict(CATALOGUE)
    with pytest.raises(ValueError, match="RESOURCE_003 declared twice"):

        class OtherMessageNotFound(NotFound, code="RESOURCE_003", status=404, message="Gone"): ...

    with pytest.raises(ValueError, match="RESOURCE_003 declared twice"):

        class WrongStatus(NotFound, code="RESOURCE_003", status=410, message="Message not found"):
            pass

    assert before == CATALOGUE


def test_a_status_or_message_without_a_code_is_refused():
    with pytest.raises(TypeError):

        class Vague(SentError, status=400, message="Something"): ...

    with pytest.raises(TypeError):

        class Incomplete(SentError, code="NEW_001", status=400): ...

    assert "NEW_001" not in CATALOGUE


def test_a_subclass_without_a_code_inherits_its_parents():
    class Special(NotFound): ...

    error = Special()
    assert (error.code, error.status, error.message) == ("RESOURCE_011", 404, "Not found")
    assert CATALOGUE["RESOURCE_011"] is NotFound


def test_a_code_chosen_at_run_time_makes_its_declared_class():
    error = ValidationFailed(code="VALIDATION_005", details={"page": ["Too big."]})
    assert type(error) is error_class_for("VALIDATION_005")
    assert isinstance(error, ValidationFailed)
    assert (error.status, error.message, error.details) == (
        400,
        "A value is out of range",
        {"page": ["Too big."]},
    )
    assert type(SentError()) is error_class_for("INTERNAL_001")
    insufficient = SentError(code="BUSINESS_003")
    assert type(insufficient) is error_class_for("BUSINESS_003")
    assert insufficient.headers == {"x-should-retry": "false"}
    with pytest.raises(TypeError):
        ValidationFailed(code="AUTH_002")  # not a validation failure
    with pytest.raises(LookupError):
        SentError(code="NOPE_001")


def test_the_reference_page_lists_every_class_as_declared(client):
    response = client.get("/docs/errors/")
    assert response.status_code == 200
    rows = re.findall(
        r'<tr id="([^"]+)"><td><code>([^<]+)</code></td><td>(\d+)</td><td>([^<]*)</td></tr>',
        response.content.decode(),
    )
    assert [row[0] for row in rows] == [row[1] for row in rows] == sorted(CODES)
    listed = [(code, int(status), html.unescape(message)) for code, _, status, message in rows]
    assert listed == sorted((cls.code, cls.status, cls.message) for cls in CATALOGUE.values())


def test_the_error_reference_lists_the_codes_not_worth_retrying():
    page = (Path(__file__).resolve().parents[2] / "docs" / "api" / "errors.md").read_text()
    paragraph = page[page.index("`x-should-retry: false` marks") :].split("\n\n")[0]
    documented = set(re.findall(r"`([A-Z]+_\d{3})`", paragraph))
    assert documented == {code for code, error in CATALOGUE.items() if not error.retryable}
