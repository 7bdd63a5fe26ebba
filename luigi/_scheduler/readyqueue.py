"""``ReadyQueue``: a min-priority queue with lazy deletion that is O(1) for in-order pushes.

Each worker keeps one of these over the ready tasks it may run. Tasks mostly become ready in
the order of their keys (a graph's leaves are created, reported and made ready in traversal
order, or in reverse order: a worker checks the dependencies of a task last to first), so an
entry that extends the sorted run at either end goes there and only the others pay for the
binary heap. ``get_work`` then takes the smaller head of the
two in O(1) instead of sifting a heap of every pending task (a pop from a 100,000-entry heap
of tuples costs about 30 tuple comparisons).

Entries are ``(key, task_id)`` tuples; the owner decides whether an entry is still valid
(lazy deletion) by comparing it with the task's current key.
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import Callable


class ReadyQueue:
    """Sorted run (a deque grown at both ends) + binary heap; ``peek(valid)`` drops invalid heads."""

    __slots__ = ("_run", "_heap")

    def __init__(self) -> None:
        self._run: deque = deque()
        self._heap: list = []

    def __len__(self) -> int:
        return len(self._run) + len(self._heap)

    def push(self, entry: tuple) -> None:
        run = self._run
        if not run or entry >= run[-1]:
            run.append(entry)
        elif entry <= run[0]:
            run.appendleft(entry)
        else:
            heapq.heappush(self._heap, entry)

    def peek(self, valid: Callable[[tuple], bool]) -> tuple | None:
        """Smallest valid entry (left in place), or None; invalid smaller entries are discarded.

        Amortised O(1) when entries were pushed in order, O(log n) per heap entry otherwise.
        """
        run, heap = self._run, self._heap
        while run or heap:
            if run and (not heap or run[0] <= heap[0]):
                entry = run[0]
                if valid(entry):
                    return entry
                run.popleft()
            else:
                entry = heap[0]
                if valid(entry):
                    return entry
                heapq.heappop(heap)
        return None

    def compact(self, valid: Callable[[tuple], bool]) -> None:
        """Drop every invalid entry. O(n)."""
        self._run = deque(entry for entry in self._run if valid(entry))
        self._heap = [entry for entry in self._heap if valid(entry)]
        heapq.heapify(self._heap)
