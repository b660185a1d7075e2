"""sent_project.ids: time-ordered primary keys."""

from sent_project.ids import uuid7


def test_contact_ids_are_time_ordered_version_7_uuids():
    first, second = uuid7(), uuid7()
    assert first.version == 7 and first.variant == "specified in RFC 4122"
    assert first.int >> 80 <= second.int >> 80  # the millisecond timestamp comes first
    assert len({uuid7() for _ in range(10_000)}) == 10_000


def _random_part(id_) -> int:
    """The 74 random bits (the timestamp in front differs between two calls anyway)."""
    return (id_.int >> 64 & 0xFFF) << 62 | id_.int & ((1 << 62) - 1)


def test_a_forked_process_never_repeats_its_parents_ids():
    import os
    import uuid

    uuid7()  # the parent has random bits ready
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send its next ids, then leave without running anything else
        os.write(write_end, "".join(str(uuid7()) for _ in range(5)).encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end) as pipe:
        sent = pipe.read()
    child = {_random_part(uuid.UUID(sent[i : i + 36])) for i in range(0, len(sent), 36)}
    parent = {_random_part(uuid7()) for _ in range(5)}
    assert len(child) == 5 and child.isdisjoint(parent)


def test_threads_drawing_ids_at_once_get_distinct_ones():
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        batches = list(pool.map(lambda _: [uuid7() for _ in range(5000)], range(4)))
    assert len({id_ for batch in batches for id_ in batch}) == 20_000
