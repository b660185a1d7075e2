"""contacts.ids: time-ordered primary keys."""

from contacts.ids import uuid7


def test_contact_ids_are_time_ordered_version_7_uuids():
    first, second = uuid7(), uuid7()
    assert first.version == 7 and first.variant == "specified in RFC 4122"
    assert first.int >> 80 <= second.int >> 80  # the millisecond timestamp comes first
    assert len({uuid7() for _ in range(10_000)}) == 10_000
