"""ReadyQueue: the per-worker queue of ready tasks must hand out entries in key order whatever
the push order, and skip entries its owner no longer considers valid."""

from hypothesis import given
from hypothesis import strategies as st

from luigi._scheduler.readyqueue import ReadyQueue


def _drain(queue: ReadyQueue, valid) -> list:
    """Take entries like get_work does: a dispatched entry becomes invalid."""
    taken: set = set()

    def still_valid(entry):
        return entry not in taken and valid(entry)

    out = []
    while (entry := queue.peek(still_valid)) is not None:
        out.append(entry)
        taken.add(entry)
    return out


@given(st.lists(st.integers(min_value=0, max_value=50)), st.sets(st.integers(min_value=0, max_value=50)))
def test_entries_come_out_sorted_and_invalid_ones_are_skipped(keys, stale):
    queue = ReadyQueue()
    entries = [((key,), f"task-{n}") for n, key in enumerate(keys)]
    for entry in entries:
        queue.push(entry)
    valid = lambda entry: entry[0][0] not in stale  # noqa: E731
    expected = sorted(entry for entry in entries if valid(entry))
    assert _drain(queue, valid) == expected


def test_ascending_and_descending_pushes_stay_out_of_the_heap():
    ascending, descending = ReadyQueue(), ReadyQueue()
    for n in range(1000):
        ascending.push(((n,), "t"))
        descending.push(((1000 - n,), "t"))
    assert not ascending._heap and not descending._heap
    assert ascending.peek(lambda e: True) == ((0,), "t")
    assert descending.peek(lambda e: True) == ((1,), "t")


def test_compact_keeps_only_valid_entries():
    queue = ReadyQueue()
    for key in (5, 1, 9, 3, 7):
        queue.push(((key,), str(key)))
    queue.compact(lambda e: e[0][0] > 3)
    assert len(queue) == 3
    assert queue.peek(lambda e: True) == ((5,), "5")
