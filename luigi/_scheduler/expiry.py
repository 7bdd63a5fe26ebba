"""Time-ordered queues of task deadlines (retry, removal, end of a scheduler disable).

Pruning pops only the entries that are due instead of walking every task. An entry remembers
the field value it was pushed for; when the field has changed since (e.g. ``add_task`` reset
``remove`` to None), the entry is stale and silently dropped.
"""

from __future__ import annotations

import heapq
from typing import Any, Callable, Iterator


class ExpiryQueue:
    """Min-heap of ``(deadline, task_id, field value)`` for one task field."""

    def __init__(self, field: str) -> None:
        self.field = field
        self._heap: list = []

    def push(self, deadline: float, task_id: str, value: Any) -> None:
        heapq.heappush(self._heap, (deadline, task_id, value))

    def clear(self) -> None:
        self._heap.clear()

    def __len__(self) -> int:
        return len(self._heap)

    def has_due(self, now: float) -> bool:
        """True if some entry's deadline is ``<= now`` (O(1); lets pruning skip idle queues)."""
        heap = self._heap
        return bool(heap) and heap[0][0] <= now

    def pop_due(self, now: float, tasks: dict, is_due: Callable[[Any], bool | None]) -> Iterator[Any]:
        """Yield live tasks whose deadline is ``<= now`` and for which ``is_due(task)`` is true.

        ``is_due`` returns True (due), False (entry obsolete: drop it) or None (not due yet under
        the exact rule, e.g. a strict comparison at the boundary: keep it for a later prune).
        O(k log n) for k popped entries.
        """
        heap = self._heap
        keep = []
        while heap and heap[0][0] <= now:
            entry = heapq.heappop(heap)
            task = tasks.get(entry[1])
            if task is None or getattr(task, self.field, None) != entry[2]:
                continue
            verdict = is_due(task)
            if verdict:
                yield task
            elif verdict is None:
                keep.append(entry)
        for entry in keep:
            heapq.heappush(heap, entry)
