"""The ``get_work`` selection algorithm (spec §16) on top of the ready-task heaps.

Luigi sorts every PENDING and RUNNING task on each request. Here:

* a *trivial* worker (none of its PENDING tasks needs resources) takes the top of its own heap of
  ready tasks: amortised O(log n);
* otherwise ready tasks (one heap per resource signature) and RUNNING tasks are merged in rank
  order while simulating Luigi's greedy resource reservation for the workers that asked for work
  recently; the walk stops at the first task this worker may take, and drops a signature's whole
  stream once one of its tasks no longer fits. Cost O((k + s) log n) for the k higher-ranked tasks
  visited and s signatures (non-ready PENDING tasks are never visited: in Luigi they are no-ops);
* batch extension walks the family's ready heap after the picked task.
"""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from typing import Any, NamedTuple, Sequence

from luigi._scheduler.constants import PENDING


class Selection(NamedTuple):
    """Outcome of the selection: the task to hand out and the batch it seeds (if any).

    A named tuple: one is built per ``get_work``."""

    best_task: Any = None
    batched_tasks: Sequence = ()
    batched_params: dict | None = None


def _resources_held(task: Any) -> dict:
    held = getattr(task, "resources_running", None)
    return task.resources if held is None else held


def lost_task(state: Any, worker_id: str, current_tasks: list) -> Any:
    """Highest-ranked task the scheduler thinks this worker runs but the worker did not list."""
    slot = state._index.peek_slot(worker_id)
    if slot is None or not slot.running:
        return None
    current = set(current_tasks)
    snaps = state._index.snaps
    lost = [task for task in slot.running.values() if task.id not in current]
    if not lost:
        return None
    return max(lost, key=lambda t: (t.priority, -t.time, snaps[t.id].seq))


def reset_orphaned_batch_running_tasks(state: Any, worker_id: str) -> None:
    """BATCH_RUNNING members whose batch representative this worker never started go back to PENDING."""
    slot = state._index.peek_slot(worker_id)
    if slot is None or not slot.batch_running:
        return
    running_batch_ids = {task.batch_id for task in slot.running.values()}
    for task in list(slot.batch_running.values()):
        if task.batch_id not in running_batch_ids:
            state.set_status(task, PENDING)


class _GreedyBudget:
    """Luigi's ``greedy_workers`` table, filled lazily for the worker ids actually encountered."""

    def __init__(self, state: Any, cutoff: float) -> None:
        self._workers = state._active_workers
        self._cutoff = cutoff
        self._counts: dict = {}

    def count(self, worker_id: str) -> int | None:
        """Remaining capacity, or None when the worker did not ask for work recently."""
        if worker_id in self._counts:
            return self._counts[worker_id]
        worker = self._workers.get(worker_id)
        active = worker is not None and worker.last_get_work is not None and worker.last_get_work > self._cutoff
        value = worker.info.get("workers", 1) if active else None
        self._counts[worker_id] = value
        return value

    def take(self, worker_id: str) -> None:
        self._counts[worker_id] = self._counts[worker_id] - 1


def select(scheduler: Any, worker: Any, assistant: bool) -> Selection:
    """Pick the task (and batch) for ``worker``; see the module docstring for the cost."""
    state = scheduler._state
    index = state._index
    if worker.is_trivial_worker(state):
        best = index.top_ready_for_worker(worker.id)
        return _extend_batch(scheduler, worker.id, best, only_listed=True)

    index.compact_ready_queue(worker.id)
    best = _greedy_walk(scheduler, worker, assistant)
    return _extend_batch(scheduler, worker.id, best, only_listed=False)


def _greedy_walk(scheduler: Any, worker: Any, assistant: bool) -> Any:
    """Luigi's rank-ordered walk with greedy reservations, merged from per-signature streams.

    Ready tasks come from one heap per resource signature plus the (few) RUNNING tasks. Greedy
    resources only grow during the walk, so once a task of signature S does not fit them no later
    task of S can: the whole stream is dropped. A saturated resource therefore costs O(log n), not
    a scan of every task waiting for it.
    """
    index = scheduler._state._index
    used = scheduler._used_resources()
    greedy_resources: dict = defaultdict(int)
    budget = _GreedyBudget(scheduler._state, scheduler._state.now() - scheduler._config.worker_disconnect_delay)
    has_resources = scheduler._has_resources
    key_of = index.key_of
    walks: list = [iter(index.running_in_rank_order())]
    for sig, heap in list(index.ensure_sig_heaps().items()):
        if heap:
            walks.append(index.iterate(heap, index.sig_validator(sig)))
        else:
            del index.sig_heaps[sig]
    heads: list = []
    for number, walk in enumerate(walks):
        task = next(walk, None)
        if task is not None:
            heads.append((key_of(task.id), number, task))
    heapq.heapify(heads)
    try:
        while heads:
            _key, number, task = heapq.heappop(heads)
            if number == 0:  # a RUNNING task
                if budget.count(task.worker_running) is not None:
                    budget.take(task.worker_running)
                    for name, amount in _resources_held(task).items():
                        greedy_resources[name] += amount
            elif not has_resources(task.resources, greedy_resources):
                continue  # drop this signature's stream: none of its later tasks fits either
            else:
                eligible = (assistant and task.runnable) or worker.id in task.workers
                if eligible and has_resources(task.resources, used):
                    return task
                _reserve(task, worker.id, assistant, budget, greedy_resources)
            following = next(walks[number], None)
            if following is not None:
                heapq.heappush(heads, (key_of(following.id), number, following))
    finally:
        for walk in walks[1:]:
            walk.close()
    return None


def _reserve(task: Any, worker_id: str, assistant: bool, budget: _GreedyBudget, greedy_resources: dict) -> None:
    """Book ``task``'s resources for the first worker able to run it that still has capacity."""
    extra = (worker_id,) if assistant else ()
    for other in itertools.chain(task.workers, extra):
        if (budget.count(other) or 0) > 0:
            budget.take(other)
            for name, amount in task.resources.items():
                greedy_resources[name] += amount
            return


def _extend_batch(scheduler: Any, worker_id: str, best: Any, only_listed: bool) -> Selection:
    """Seed a batch with ``best`` and add later-ranked compatible ready tasks of its family."""
    if best is None:
        return Selection()
    state = scheduler._state
    if worker_id not in state._task_batchers:
        return Selection(best)
    batch_names, max_batch_size = state.get_batcher(worker_id, best.family)
    if not batch_names or not best.is_batchable():
        return Selection(best)
    try:
        batched_params = {name: [best.params[name]] for name in batch_names}
    except KeyError:
        return Selection(best)
    unbatched = {k: v for k, v in best.params.items() if k not in batched_params}
    batched_tasks = [best]
    index = state._index
    best_key = index.key_of(best.id)
    if len(batched_tasks) < max_batch_size:
        walk = index.iterate(index.ensure_family_heap(best.family), index.valid_ready)
        try:
            for task in walk:
                if len(batched_tasks) >= max_batch_size:
                    break
                if index.key_of(task.id) <= best_key or task.family != best.family:
                    continue
                if only_listed and worker_id not in task.workers:
                    continue
                if task.is_batchable() and task.resources == best.resources \
                        and all(task.params.get(name) == value for name, value in unbatched.items()):
                    for name, values in batched_params.items():
                        values.append(task.params.get(name))
                    batched_tasks.append(task)
        finally:
            walk.close()
    return Selection(best, batched_tasks, batched_params)
