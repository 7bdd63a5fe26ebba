"""Incremental indexes over the scheduler's task records.

Luigi answers ``get_work``, ``count_pending`` and ``prune`` by scanning every task. Here each task
has a *snapshot* of the fields the indexes depend on (status, deps, workers, stakeholders,
priority key, resources flag, running worker, batch id). ``StateIndex.refresh(task)`` diffs the
record against its snapshot and updates only what changed, in O(|workers| + |stakeholders| +
changed deps + dependents whose readiness flips). Everything else reads the indexes:

* ``status_tasks``: status -> {id: Task} in Luigi's order (a status change moves the id to the end);
* reverse dependencies and a per-task count of deps that are not DONE ("ready" = PENDING with 0);
* per worker (``WorkerSlot``): tasks it offered to run by status, counters for count_pending and
  worker_list, the number of its PENDING tasks needing resources, a heap of its ready tasks, the
  tasks it is running (``worker_running``) and the tasks it is a stakeholder of;
* a global heap of ready + RUNNING tasks and per-family heaps of ready tasks, ordered by
  ``(-priority, time, running?, seq)``; heaps use lazy deletion (an entry is valid only while its
  key equals the snapshot's key) and are compacted when mostly stale;
* batch id -> BATCH_RUNNING members.

``seq`` is a counter bumped whenever a task changes status, which reproduces Luigi's stable-sort
tie-breaking by position in the status index.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from typing import Any, Iterable, Iterator

from luigi._scheduler.constants import BATCH_RUNNING, DISABLED, DONE, FAILED, PENDING, RUNNING

_COUNTED = (PENDING, FAILED)


class _Snap:
    """Fields of one task as last seen by the indexes."""

    __slots__ = ("status", "seq", "deps", "gkey", "ready", "workers", "newest", "stake", "has_res",
                 "family", "worker_running", "batch_id")


class WorkerSlot:
    """Per-worker view of the tasks that list the worker in ``workers``/``stakeholders``."""

    __slots__ = ("by_status", "unique", "last", "res_pending", "heap", "running", "batch_running", "stakes")

    def __init__(self) -> None:
        self.by_status: dict[str, dict] = defaultdict(dict)
        self.unique: dict[str, int] = defaultdict(int)
        self.last: dict[str, int] = defaultdict(int)
        self.res_pending = 0
        self.heap: list = []
        self.running: dict = {}
        self.batch_running: dict = {}
        self.stakes: set = set()

    def is_empty(self) -> bool:
        return not (any(self.by_status.values()) or self.running or self.batch_running or self.stakes)


def _priority_of(task: Any) -> float:
    priority = task.priority
    return priority if isinstance(priority, (int, float)) else 0


class StateIndex:
    """All indexes of one ``SimpleTaskState``; see the module docstring."""

    def __init__(self, tasks: dict, status_tasks: dict) -> None:
        self.tasks = tasks
        self.status_tasks = status_tasks
        self.snaps: dict[str, _Snap] = {}
        self.rdeps: dict[str, set] = {}
        self.unready: dict[str, int] = {}
        self.workers: dict[str, WorkerSlot] = {}
        self.global_heap: list = []
        self.family_heaps: dict[str, list] = defaultdict(list)
        self.batches: dict[Any, dict] = defaultdict(dict)
        self.orphans: set = set()  # ids whose stakeholders became empty (prune schedules removal)
        self.n_ready = 0
        self.version = 0  # bumped on status/deps changes; keys derived caches
        self._seq = 0
        self._disabled_cache: tuple[int, set] = (-1, set())

    # ------------------------------------------------------------------ lookups
    def slot(self, worker_id: str) -> WorkerSlot:
        slot = self.workers.get(worker_id)
        if slot is None:
            slot = self.workers[worker_id] = WorkerSlot()
        return slot

    def peek_slot(self, worker_id: str) -> WorkerSlot | None:
        return self.workers.get(worker_id)

    def is_ready(self, task_id: str) -> bool:
        snap = self.snaps.get(task_id)
        return snap is not None and snap.ready

    def key_of(self, task_id: str) -> tuple | None:
        snap = self.snaps.get(task_id)
        return None if snap is None else snap.gkey

    def worker_listed(self, task_id: str, worker_id: str) -> bool:
        snap = self.snaps.get(task_id)
        return snap is not None and worker_id in snap.workers

    def _done(self, task_id: str) -> bool:
        snap = self.snaps.get(task_id)
        return snap is not None and snap.status == DONE

    # ------------------------------------------------------------------ refresh
    def refresh(self, task: Any) -> None:
        """Bring every index in line with ``task``'s current fields. O(|workers| + changes)."""
        tid = task.id
        old = self.snaps.get(tid)
        status = task.status
        new = _Snap()
        new.status = status
        if old is None or old.status != status:
            if old is not None:
                self.status_tasks[old.status].pop(tid, None)
            self.status_tasks[status][tid] = task
            self._seq += 1
            new.seq = self._seq
            self.version += 1
        else:
            new.seq = old.seq
        self._refresh_deps(tid, task.deps, old, new)
        was_done = old is not None and old.status == DONE
        now_done = status == DONE
        dependents = self.rdeps.get(tid, ()) if was_done != now_done else ()
        if dependents:
            delta = -1 if now_done else 1
            for dependent in dependents:
                self.unready[dependent] = self.unready.get(dependent, 0) + delta
        new.ready = status == PENDING and self.unready.get(tid, 0) <= 0
        if new.ready:
            new.gkey = (-_priority_of(task), task.time, 0, new.seq)
        elif status == RUNNING:
            new.gkey = (-_priority_of(task), task.time, 1, new.seq)
        else:
            new.gkey = None
        workers = task.workers
        new.workers = old.workers if old is not None and len(old.workers) == len(workers) and old.workers.issuperset(workers) else frozenset(workers)
        new.newest = workers.peek() if workers else None
        stake = task.stakeholders
        new.stake = old.stake if old is not None and old.stake == stake else frozenset(stake)
        new.has_res = bool(task.resources)
        new.family = task.family
        new.worker_running = task.worker_running
        new.batch_id = task.batch_id
        self.snaps[tid] = new
        self._apply_worker_diff(task, old, new)
        self._apply_heap_pushes(tid, old, new)
        self._apply_running_diff(task, old, new)
        if not new.stake:
            self.orphans.add(tid)
        for dependent in dependents:
            if dependent != tid:
                other = self.tasks.get(dependent)
                if other is not None:
                    self.refresh(other)

    def _refresh_deps(self, tid: str, deps: set, old: _Snap | None, new: _Snap) -> None:
        if old is not None and old.deps == deps:
            new.deps = old.deps
            return
        new_deps = frozenset(deps)
        old_deps = old.deps if old is not None else frozenset()
        for dep in old_deps - new_deps:
            users = self.rdeps.get(dep)
            if users is not None:
                users.discard(tid)
                if not users:
                    del self.rdeps[dep]
        for dep in new_deps - old_deps:
            self.rdeps.setdefault(dep, set()).add(tid)
        self.unready[tid] = sum(1 for dep in new_deps if not self._done(dep))
        new.deps = new_deps
        self.version += 1

    def _apply_worker_diff(self, task: Any, old: _Snap | None, new: _Snap) -> None:
        tid = task.id
        if old is not None and old.status == new.status and old.workers is new.workers and old.newest == new.newest \
                and old.has_res == new.has_res:
            pass
        else:
            if old is not None:
                self._contribute(tid, task, old, -1)
            self._contribute(tid, task, new, 1)
        if old is None or old.stake is not new.stake:
            old_stake = old.stake if old is not None else frozenset()
            for worker_id in old_stake - new.stake:
                slot = self.workers.get(worker_id)
                if slot is not None:
                    slot.stakes.discard(tid)
            for worker_id in new.stake - old_stake:
                self.slot(worker_id).stakes.add(tid)

    def _contribute(self, tid: str, task: Any, snap: _Snap, sign: int) -> None:
        status = snap.status
        single = len(snap.workers) == 1
        for worker_id in snap.workers:
            slot = self.slot(worker_id)
            if sign > 0:
                slot.by_status[status][tid] = task
            else:
                slot.by_status[status].pop(tid, None)
            if single:
                slot.unique[status] += sign
            if snap.newest == worker_id:
                slot.last[status] += sign
            if status == PENDING and snap.has_res:
                slot.res_pending += sign

    def _apply_heap_pushes(self, tid: str, old: _Snap | None, new: _Snap) -> None:
        if old is not None and old.ready:
            self.n_ready -= 1
        if new.ready:
            self.n_ready += 1
        key = new.gkey
        if key is None:
            return
        same_key = old is not None and old.gkey == key
        if not same_key:
            heapq.heappush(self.global_heap, (key, tid))
        if not new.ready:
            return
        was_ready_same = same_key and old.ready
        if not (was_ready_same and old.family == new.family):
            heapq.heappush(self.family_heaps[new.family], (key, tid))
        for worker_id in new.workers:
            if not (was_ready_same and worker_id in old.workers):
                heapq.heappush(self.slot(worker_id).heap, (key, tid))

    def _apply_running_diff(self, task: Any, old: _Snap | None, new: _Snap) -> None:
        if old is not None and old.status == new.status and old.worker_running == new.worker_running \
                and old.batch_id == new.batch_id:
            return
        tid = task.id
        if old is not None:
            self._running_contribution(tid, task, old, remove=True)
        self._running_contribution(tid, task, new, remove=False)

    def _running_contribution(self, tid: str, task: Any, snap: _Snap, remove: bool) -> None:
        if snap.status == RUNNING:
            table = self.slot(snap.worker_running).running
        elif snap.status == BATCH_RUNNING:
            table = self.slot(snap.worker_running).batch_running
            if snap.batch_id is not None:
                members = self.batches[snap.batch_id]
                if remove:
                    members.pop(tid, None)
                    if not members:
                        del self.batches[snap.batch_id]
                else:
                    members[tid] = task
        else:
            return
        if remove:
            table.pop(tid, None)
        else:
            table[tid] = task

    def drop(self, task: Any) -> None:
        """Forget a removed task; its dependents now see a missing (not DONE) dependency."""
        tid = task.id
        old = self.snaps.pop(tid, None)
        if old is None:
            return
        self.status_tasks[old.status].pop(tid, None)
        self._contribute(tid, task, old, -1)
        self._running_contribution(tid, task, old, remove=True)
        for worker_id in old.stake:
            slot = self.workers.get(worker_id)
            if slot is not None:
                slot.stakes.discard(tid)
        for dep in old.deps:
            users = self.rdeps.get(dep)
            if users is not None:
                users.discard(tid)
                if not users:
                    del self.rdeps[dep]
        self.unready.pop(tid, None)
        if old.ready:
            self.n_ready -= 1
        self.orphans.discard(tid)
        self.version += 1
        if old.status == DONE:
            for dependent in self.rdeps.get(tid, ()):
                self.unready[dependent] = self.unready.get(dependent, 0) + 1
                other = self.tasks.get(dependent)
                if other is not None:
                    self.refresh(other)

    def forget_worker(self, worker_id: str) -> None:
        slot = self.workers.get(worker_id)
        if slot is not None and slot.is_empty():
            del self.workers[worker_id]

    # ------------------------------------------------------------------ ordered iteration
    def valid_global(self, entry: tuple) -> bool:
        snap = self.snaps.get(entry[1])
        return snap is not None and snap.gkey == entry[0]

    def valid_ready(self, entry: tuple) -> bool:
        snap = self.snaps.get(entry[1])
        return snap is not None and snap.ready and snap.gkey == entry[0]

    def top_ready_for_worker(self, worker_id: str) -> Any:
        """Highest-ranked ready task the worker offered to run, or None. Amortised O(log n)."""
        slot = self.workers.get(worker_id)
        if slot is None:
            return None
        heap = slot.heap
        snaps = self.snaps
        while heap:
            key, tid = heap[0]
            snap = snaps.get(tid)
            if snap is not None and snap.ready and snap.gkey == key and worker_id in snap.workers:
                return self.tasks[tid]
            heapq.heappop(heap)
        return None

    def iterate(self, heap: list, valid: Any) -> Iterator[Any]:
        """Yield tasks of ``heap`` in key order without losing them.

        Entries are popped while iterating and pushed back when the generator is closed; stale
        and duplicate entries are dropped for good. O(k log n) for k yielded tasks.
        """
        taken: list = []
        seen: set = set()
        try:
            while heap:
                entry = heapq.heappop(heap)
                tid = entry[1]
                if tid in seen or not valid(entry):
                    continue
                seen.add(tid)
                taken.append(entry)
                yield self.tasks[tid]
        finally:
            for entry in taken:
                heapq.heappush(heap, entry)
            self._maybe_compact(heap, valid)

    def _maybe_compact(self, heap: list, valid: Any) -> None:
        if len(heap) > 2 * self.n_ready + 1024 + 2 * len(self.status_tasks.get(RUNNING, ())):
            heap[:] = [entry for entry in heap if valid(entry)]
            heapq.heapify(heap)

    def compact_worker_heap(self, worker_id: str) -> None:
        slot = self.workers.get(worker_id)
        if slot is not None and len(slot.heap) > 2 * self.n_ready + 1024:
            snaps = self.snaps
            slot.heap[:] = [e for e in slot.heap if (s := snaps.get(e[1])) is not None and s.ready
                            and s.gkey == e[0] and worker_id in s.workers]
            heapq.heapify(slot.heap)

    # ------------------------------------------------------------------ derived views
    def upstream_disabled(self) -> set:
        """Ids of PENDING tasks that reach a DISABLED task through PENDING tasks (cached per version)."""
        version, cached = self._disabled_cache
        if version == self.version:
            return cached
        blocked: set = set()
        stack = list(self.status_tasks.get(DISABLED, ()))
        while stack:
            for dependent in self.rdeps.get(stack.pop(), ()):
                snap = self.snaps.get(dependent)
                if snap is not None and snap.status == PENDING and dependent not in blocked:
                    blocked.add(dependent)
                    stack.append(dependent)
        self._disabled_cache = (self.version, blocked)
        return blocked

    def worker_tasks(self, worker_id: str, statuses: Iterable[str]) -> Iterator[Any]:
        slot = self.workers.get(worker_id)
        if slot is None:
            return iter(())
        return (task for status in statuses for task in list(slot.by_status.get(status, {}).values()))

    def pending_counts(self, worker_id: str) -> tuple[int, int, int]:
        """(pending, unique, last scheduled) over PENDING+FAILED tasks, minus UPSTREAM_DISABLED ones."""
        slot = self.workers.get(worker_id)
        if slot is None:
            return 0, 0, 0
        pending = sum(len(slot.by_status.get(status, ())) for status in _COUNTED)
        unique = sum(slot.unique.get(status, 0) for status in _COUNTED)
        last = sum(slot.last.get(status, 0) for status in _COUNTED)
        if self.status_tasks.get(DISABLED):
            for tid in self.upstream_disabled():
                snap = self.snaps[tid]
                if worker_id in snap.workers:
                    pending -= 1
                    unique -= len(snap.workers) == 1
                    last -= snap.newest == worker_id
        return pending, unique, last
