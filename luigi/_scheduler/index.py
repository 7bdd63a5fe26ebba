"""Incremental indexes over the scheduler's task records.

Luigi answers ``get_work``, ``count_pending`` and ``prune`` by scanning every task. Here each task
has a *snapshot* of the fields the indexes depend on (status, deps, workers, stakeholders,
priority key, resources flag, running worker, batch id). ``StateIndex.refresh(task)`` diffs the
record against its snapshot and updates only what changed, in O(|workers| + |stakeholders| +
changed deps + dependents whose readiness flips). Everything else reads the indexes:

* ``status_tasks``: status -> {id: Task} in Luigi's order (a status change moves the id to the end);
* reverse dependencies and a per-task count of deps that are not DONE ("ready" = PENDING with 0);
* per worker (``WorkerSlot``): tasks it offered to run by status, counters for count_pending and
  worker_list, the number of its PENDING tasks needing resources, a ``ReadyQueue`` of its ready tasks, the
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

from luigi._scheduler.constants import BATCH_RUNNING, DISABLED, DONE, FAILED, PENDING, RUNNING, UNKNOWN
from luigi._scheduler.readyqueue import ReadyQueue
from luigi._scheduler.records import shared_tuple


class _Snap:
    """Fields of one task as last seen by the indexes (a fresh one matches no real task).

    Collections are stored as tuples (``deps``) or shared tuples (``workers``, ``stake``: most
    tasks share the same one or two worker ids), which costs far less than a frozenset per task.
    """

    __slots__ = ("status", "seq", "deps", "gkey", "ready", "workers", "stake", "has_res", "sig",
                 "family", "worker_running", "batch_id")

    def __init__(self) -> None:
        self.status = None
        self.seq = 0
        self.deps = ()
        self.gkey = None
        self.ready = False
        self.workers = ()
        self.stake = ()
        self.has_res = False
        self.sig = ()
        self.family = None
        self.worker_running = None
        self.batch_id = None


class WorkerSlot:
    """Per-worker view of the tasks that list the worker in ``workers``/``stakeholders``.

    ``offered`` holds every task listing the worker in ``workers`` whatever its status; a status
    change only moves counters (``counts``, ``unique``, ``last``) and, for RUNNING tasks, the
    small ``offered_running`` table, never an entry of a table the size of the graph.
    """

    __slots__ = ("offered", "counts", "offered_running", "unique", "last", "res_pending", "ready", "running",
                 "batch_running", "stakes")

    def __init__(self) -> None:
        self.offered: dict = {}
        self.counts: dict[str, int] = defaultdict(int)
        self.offered_running: dict = {}
        self.unique: dict[str, int] = defaultdict(int)
        self.last: dict[str, int] = defaultdict(int)
        self.res_pending = 0
        self.ready = ReadyQueue()
        self.running: dict = {}
        self.batch_running: dict = {}
        self.stakes: set = set()

    def is_empty(self) -> bool:
        return not (self.offered or self.running or self.batch_running or self.stakes)


def _members(collection: Any) -> Any:
    """The members of a record's ``workers``/``stakeholders``: the compact set's own (shared)
    tuple or dict, so an unchanged member list is recognised by identity; a plain set (old
    state files) is returned as is."""
    return getattr(collection, "_items", collection)


def _member_tuple(items: Any) -> tuple:
    """``_members()`` as a tuple shared by every snapshot with the same members."""
    return items if type(items) is tuple else shared_tuple(tuple(items))


def _contains_all(container: Any, items: Iterable) -> bool:
    """``all(item in container for item in items)`` without a generator (compiled methods cannot hold one)."""
    for item in items:
        if item not in container:
            return False
    return True


class StateIndex:
    """All indexes of one ``SimpleTaskState``; see the module docstring."""

    def __init__(self, tasks: dict, status_tasks: dict) -> None:
        self.tasks = tasks
        self.status_tasks = status_tasks
        self.snaps: dict[str, _Snap] = {}
        self.rdeps: dict[str, str | set] = {}  # dep id -> the one dependent's id, or a set of 2+ ids
        self.unready: dict[str, int] = {}  # only non-zero counts are stored
        self.workers: dict[str, WorkerSlot] = {}
        self._validators: dict[str, Any] = {}  # worker id -> its ready-queue entry check
        self.sig_heaps: dict[tuple, list] | None = None  # ready tasks by resource signature (ensure_sig_heaps)
        self.family_heaps: dict[str, list] = {}  # only families somebody batches (ensure_family_heap)
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

    def dependents(self, task_id: str) -> Any:
        """Ids of the tasks listing ``task_id`` as a dependency (a tuple or a set; do not mutate)."""
        users = self.rdeps.get(task_id)
        if users is None:
            return ()
        return (users,) if type(users) is str else users

    def _add_dependent(self, dep: str, tid: str) -> None:
        rdeps = self.rdeps
        users = rdeps.get(dep)
        if users is None:
            rdeps[dep] = tid
        elif type(users) is str:
            if users != tid:
                rdeps[dep] = {users, tid}
        else:
            users.add(tid)

    def _remove_dependent(self, dep: str, tid: str) -> None:
        rdeps = self.rdeps
        users = rdeps.get(dep)
        if users is None:
            return
        if type(users) is str:
            if users == tid:
                del rdeps[dep]
            return
        users.discard(tid)
        if len(users) == 1:
            rdeps[dep] = next(iter(users))

    def _bump_unready(self, tid: str, delta: int) -> bool:
        """Adjust ``tid``'s count of deps that are not DONE; True if "all deps DONE" flipped."""
        unready = self.unready
        old = unready.get(tid, 0)
        count = old + delta
        if count:
            unready[tid] = count
        else:
            unready.pop(tid, None)
        return (old <= 0) != (count <= 0)

    def is_ready(self, task_id: str) -> bool:
        snap = self.snaps.get(task_id)
        return snap is not None and snap.ready

    def key_of(self, task_id: str) -> tuple | None:
        snap = self.snaps.get(task_id)
        return None if snap is None else snap.gkey

    # ------------------------------------------------------------------ refresh
    def refresh(self, task: Any, deps_changed: bool = False) -> None:
        """Bring every index in line with ``task``'s current fields.

        The snapshot is updated in place and each index is touched only when the fields it
        depends on changed. ``deps`` is only compared for a new snapshot or when the caller says
        it may have changed (``deps_changed``): a fan-in root is refreshed each time one of its
        dependencies changes status, and comparing its whole dependency set there would make a
        build quadratic. O(|workers| + |stakeholders| + dependents whose readiness flips), plus
        O(|deps|) when ``deps_changed``.

        This runs about four times per task in a build (placeholder, PENDING, RUNNING, DONE), so
        it is written for a low constant: no tuple is built when the worker list is unchanged and
        the per-worker contributions are only redone when status, workers or resources moved.
        """
        tid = task.id
        snap = self.snaps.get(tid)
        fresh = snap is None
        if fresh:
            if task.status == UNKNOWN and not (task.workers or task.deps or task.resources or task.worker_running
                                               or task.batch_id is not None):
                self.add_placeholders((task,))
                return
            snap = self.snaps[tid] = _Snap()
        old_status = snap.status
        status = task.status
        status_changed = status != old_status
        if status_changed:
            status_tasks = self.status_tasks
            if not fresh:
                status_tasks[old_status].pop(tid, None)
            status_tasks[status][tid] = task
            self._seq += 1
            self.version += 1
        if fresh or deps_changed:
            deps = task.deps
            old_deps = snap.deps
            if len(old_deps) != len(deps) or not _contains_all(deps, old_deps):
                self._set_deps(tid, snap, deps)
        flipped: Any = ()  # dependents whose readiness may change: only they need a refresh
        if status_changed and (status == DONE or old_status == DONE):
            users = self.rdeps.get(tid)
            if users is not None:
                delta = -1 if status == DONE else 1
                if type(users) is str:
                    flipped = (users,) if self._bump_unready(users, delta) else ()
                else:
                    flipped = [dependent for dependent in users if self._bump_unready(dependent, delta)]

        items = _members(task.workers)
        old_workers = snap.workers
        workers_changed = items is not old_workers and tuple(items) != old_workers
        has_res = bool(task.resources)
        old_has_res = snap.has_res
        contributions_changed = status_changed or workers_changed or has_res != old_has_res
        if contributions_changed and old_workers and workers_changed:
            self._contribute(tid, task, old_workers, ((old_status, -1, old_has_res),), True)
        worker_running = task.worker_running
        batch_id = task.batch_id
        running_changed = status_changed or worker_running != snap.worker_running or batch_id != snap.batch_id
        if running_changed and (old_status == RUNNING or old_status == BATCH_RUNNING):
            self._running_contribution(tid, task, snap, remove=True)

        was_ready = snap.ready
        old_key = snap.gkey
        old_family = snap.family
        old_sig = snap.sig
        if has_res:
            snap.sig = shared_tuple(tuple(sorted(task.resources.items())))
        elif old_sig:
            snap.sig = ()
        ready = status == PENDING and self.unready.get(tid, 0) <= 0
        if status_changed:
            snap.seq = self._seq
        if ready or status == RUNNING:
            priority = task.priority
            if not isinstance(priority, (int, float)):
                priority = 0
            key = (-priority, task.time, 0 if ready else 1, snap.seq)
            if key == old_key:
                key = old_key
        else:
            key = None
        snap.status = status
        snap.ready = ready
        snap.gkey = key
        snap.family = task.family
        if has_res != snap.has_res:
            snap.has_res = has_res
        if workers_changed:
            snap.workers = _member_tuple(items)
        if running_changed:
            snap.worker_running = worker_running
            snap.batch_id = batch_id
        if contributions_changed:
            if workers_changed:
                if snap.workers:
                    self._contribute(tid, task, snap.workers, ((status, 1, has_res),), True)
            elif old_workers:  # same workers: one pass moves the task's share to the new status
                self._contribute(tid, task, old_workers, ((old_status, -1, old_has_res), (status, 1, has_res)), False)
        if running_changed and (status == RUNNING or status == BATCH_RUNNING):
            self._running_contribution(tid, task, snap, remove=False)

        stake = task.stakeholders
        stake_items = _members(stake)
        if stake_items is not snap.stake and (len(stake_items) != len(snap.stake)
                                             or not _contains_all(stake_items, snap.stake)):
            self._set_stake(tid, snap, stake)
        if not stake_items:
            self.orphans.add(tid)

        if was_ready != ready:
            self.n_ready += 1 if ready else -1
        if ready:
            self._push(tid, key, old_key, was_ready, old_family, old_sig, old_workers, snap)
        for dependent in flipped:
            if dependent != tid:
                other = self.tasks.get(dependent)
                if other is not None:
                    self.refresh(other)

    def add_placeholders(self, tasks: Iterable[Any]) -> None:
        """Index new records nobody offered to run yet (dependency placeholders: UNKNOWN, no
        workers, deps or resources). Of all the indexes only the status table and the stakeholder
        index concern them. One pass for a whole dependency list: the placeholders a report
        creates share their stakeholder list, so the stake sets are looked up once."""
        snaps, unknown, orphans = self.snaps, self.status_tasks[UNKNOWN], self.orphans
        seq = self._seq
        last_items: Any = None
        stake_sets: list = []
        shared: tuple = ()
        for task in tasks:
            tid = task.id
            snap = snaps[tid] = _Snap()
            unknown[tid] = task
            seq += 1
            snap.status = UNKNOWN
            snap.seq = seq
            snap.family = task.family
            items = _members(task.stakeholders)
            if not items:
                orphans.add(tid)
                continue
            if items is not last_items:
                last_items = items
                stake_sets = [self.slot(worker_id).stakes for worker_id in items]
                shared = _member_tuple(items)
            for stakes in stake_sets:
                stakes.add(tid)
            snap.stake = shared
        self._seq = seq
        self.version += 1

    def _set_deps(self, tid: str, snap: _Snap, deps: Any) -> None:
        """Adopt a changed dependency set. O(|old deps| + |new deps|)."""
        old_deps = set(snap.deps)
        for dep in old_deps.difference(deps):
            self._remove_dependent(dep, tid)
        for dep in deps:
            if dep not in old_deps:
                self._add_dependent(dep, tid)
        snaps = self.snaps
        unready = 0
        for dep in deps:
            dep_snap = snaps.get(dep)
            if dep_snap is None or dep_snap.status != DONE:
                unready += 1
        if unready:
            self.unready[tid] = unready
        else:
            self.unready.pop(tid, None)
        snap.deps = tuple(deps)
        self.version += 1

    def _set_stake(self, tid: str, snap: _Snap, stake: Any) -> None:
        old_stake = snap.stake
        items = _members(stake)
        for worker_id in old_stake:
            if worker_id not in items:
                slot = self.workers.get(worker_id)
                if slot is not None:
                    slot.stakes.discard(tid)
        for worker_id in items:
            if worker_id not in old_stake:
                self.slot(worker_id).stakes.add(tid)
        snap.stake = _member_tuple(items)

    def _contribute(self, tid: str, task: Any, workers: tuple, changes: tuple, membership: bool) -> None:
        """Apply ``changes`` to ``task``'s share of the tables of every worker in ``workers``.

        ``changes``: ``(status, sign, has_res)`` triples, -1 to take back the share counted for a
        status, +1 to add one (a status change passes both, so the workers are visited once).
        ``membership``: the worker list changed, so the ``offered`` tables change too (a status
        change alone only moves counters). The unique/last-scheduled counters are only kept for
        PENDING and FAILED, the statuses ``count_pending`` and ``worker_list`` read them for.
        """
        single = len(workers) == 1
        newest = workers[-1]
        slots = self.workers
        for worker_id in workers:
            slot = slots.get(worker_id)
            if slot is None:
                slot = slots[worker_id] = WorkerSlot()
            for status, sign, has_res in changes:
                if membership:
                    if sign > 0:
                        slot.offered[tid] = task
                    else:
                        slot.offered.pop(tid, None)
                slot.counts[status] += sign
                if status == RUNNING:
                    if sign > 0:
                        slot.offered_running[tid] = task
                    else:
                        slot.offered_running.pop(tid, None)
                elif status == PENDING or status == FAILED:
                    if single:
                        slot.unique[status] += sign
                    if newest == worker_id:
                        slot.last[status] += sign
                    if has_res and status == PENDING:
                        slot.res_pending += sign

    def _push(self, tid: str, key: tuple, old_key: tuple | None, was_ready: bool,
              old_family: str | None, old_sig: tuple, old_workers: tuple, snap: _Snap) -> None:
        """Push heap entries of a ready task that are not already present with the same key."""
        was_ready_same = was_ready and old_key == key
        if self.sig_heaps is not None and not (was_ready_same and old_sig == snap.sig):
            heap = self.sig_heaps.get(snap.sig)
            if heap is None:
                heap = self.sig_heaps[snap.sig] = []
            heapq.heappush(heap, (key, tid))
        if self.family_heaps:
            family_heap = self.family_heaps.get(snap.family)
            if family_heap is not None and not (was_ready_same and old_family == snap.family):
                heapq.heappush(family_heap, (key, tid))
        entry = (key, tid)
        for worker_id in snap.workers:
            if not (was_ready_same and worker_id in old_workers):
                self.slot(worker_id).ready.push(entry)

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
        if old.workers:
            self._contribute(tid, task, old.workers, ((old.status, -1, old.has_res),), True)
        self._running_contribution(tid, task, old, remove=True)
        for worker_id in old.stake:
            slot = self.workers.get(worker_id)
            if slot is not None:
                slot.stakes.discard(tid)
        for dep in old.deps:
            self._remove_dependent(dep, tid)
        self.unready.pop(tid, None)
        if old.ready:
            self.n_ready -= 1
        self.orphans.discard(tid)
        self.version += 1
        if old.status == DONE:
            for dependent in list(self.dependents(tid)):
                self._bump_unready(dependent, 1)
                other = self.tasks.get(dependent)
                if other is not None:
                    self.refresh(other)

    def forget_worker(self, worker_id: str) -> None:
        slot = self.workers.get(worker_id)
        if slot is not None and slot.is_empty():
            del self.workers[worker_id]
            self._validators.pop(worker_id, None)

    # ------------------------------------------------------------------ ordered iteration
    def ensure_sig_heaps(self) -> dict[tuple, list]:
        """Ready tasks grouped by resource signature, one heap each.

        Built in O(pending) the first time a non-trivial worker or an assistant asks for work,
        then maintained by ``refresh``.
        """
        if self.sig_heaps is None:
            snaps = self.snaps
            heaps: dict[tuple, list] = defaultdict(list)
            for tid in self.status_tasks.get(PENDING, ()):
                snap = snaps[tid]
                if snap.ready:
                    heaps[snap.sig].append((snap.gkey, tid))
            for heap in heaps.values():
                heapq.heapify(heap)
            self.sig_heaps = dict(heaps)
        return self.sig_heaps

    def running_in_rank_order(self) -> list:
        """RUNNING tasks sorted like the ready heaps. O(r log r) for r running tasks."""
        snaps = self.snaps
        running = list(self.status_tasks.get(RUNNING, {}).values())
        keys = [snaps[task.id].gkey for task in running]
        return [running[i] for i in sorted(range(len(running)), key=keys.__getitem__)]

    def ensure_family_heap(self, family: str) -> list:
        """Heap of the family's ready tasks; built in O(pending) the first time the family is batched."""
        heap = self.family_heaps.get(family)
        if heap is None:
            snaps = self.snaps
            heap = self.family_heaps[family] = [(snaps[tid].gkey, tid) for tid in self.status_tasks.get(PENDING, ())
                                                if snaps[tid].ready and snaps[tid].family == family]
            heapq.heapify(heap)
        return heap

    def sig_validator(self, sig: tuple) -> Any:
        snaps = self.snaps

        def valid(entry: tuple) -> bool:
            snap = snaps.get(entry[1])
            return snap is not None and snap.ready and snap.gkey == entry[0] and snap.sig == sig

        return valid

    def valid_ready(self, entry: tuple) -> bool:
        snap = self.snaps.get(entry[1])
        return snap is not None and snap.ready and snap.gkey == entry[0]

    def top_ready_for_worker(self, worker_id: str) -> Any:
        """Highest-ranked ready task the worker offered to run, or None. Amortised O(1) for
        tasks that became ready in rank order, O(log n) otherwise (see ``ReadyQueue``)."""
        slot = self.workers.get(worker_id)
        if slot is None:
            return None
        queue = slot.ready
        if len(queue) > 2 * self.n_ready + 1024:
            self.compact_ready_queue(worker_id)
        entry = queue.peek(self._ready_for(worker_id))
        return None if entry is None else self.tasks[entry[1]]

    def _ready_for(self, worker_id: str) -> Any:
        """Validity of a worker's ready-queue entry: the task is still ready under that key and
        still offered by the worker (one closure per worker, kept: asked for on every get_work)."""
        valid = self._validators.get(worker_id)
        if valid is not None:
            return valid
        snaps = self.snaps

        def valid(entry: tuple) -> bool:
            snap = snaps.get(entry[1])
            return snap is not None and snap.ready and snap.gkey == entry[0] and worker_id in snap.workers

        self._validators[worker_id] = valid
        return valid

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

    def compact_ready_queue(self, worker_id: str) -> None:
        slot = self.workers.get(worker_id)
        if slot is not None and len(slot.ready) > 2 * self.n_ready + 1024:
            slot.ready.compact(self._ready_for(worker_id))

    # ------------------------------------------------------------------ derived views
    def upstream_disabled(self) -> set:
        """Ids of PENDING tasks that reach a DISABLED task through PENDING tasks (cached per version)."""
        version, cached = self._disabled_cache
        if version == self.version:
            return cached
        blocked: set = set()
        stack = list(self.status_tasks.get(DISABLED, ()))
        while stack:
            for dependent in self.dependents(stack.pop()):
                snap = self.snaps.get(dependent)
                if snap is not None and snap.status == PENDING and dependent not in blocked:
                    blocked.add(dependent)
                    stack.append(dependent)
        self._disabled_cache = (self.version, blocked)
        return blocked

    def worker_tasks(self, worker_id: str, statuses: Iterable[str]) -> Iterator[Any]:
        """Tasks offered by the worker with one of ``statuses``: O(result) for RUNNING alone,
        O(tasks offered by the worker) otherwise."""
        slot = self.workers.get(worker_id)
        if slot is None:
            return iter(())
        statuses = tuple(statuses)
        if statuses == (RUNNING,):
            return iter(list(slot.offered_running.values()))
        snaps = self.snaps
        return iter([task for tid, task in slot.offered.items() if snaps[tid].status in statuses])

    def pending_counts(self, worker_id: str) -> tuple[int, int, int]:
        """(pending, unique, last scheduled) over PENDING+FAILED tasks, minus UPSTREAM_DISABLED ones."""
        slot = self.workers.get(worker_id)
        if slot is None:
            return 0, 0, 0
        counts, unique_by, last_by = slot.counts, slot.unique, slot.last  # spelled out: once per get_work
        pending = counts.get(PENDING, 0) + counts.get(FAILED, 0)
        unique = unique_by.get(PENDING, 0) + unique_by.get(FAILED, 0)
        last = last_by.get(PENDING, 0) + last_by.get(FAILED, 0)
        if self.status_tasks.get(DISABLED):
            for tid in self.upstream_disabled():
                snap = self.snaps[tid]
                if worker_id in snap.workers:
                    pending -= 1
                    unique -= len(snap.workers) == 1
                    last -= snap.workers[-1] == worker_id
        return pending, unique, last
