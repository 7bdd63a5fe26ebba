"""``SimpleTaskState``: the task/worker store, the status state machine and persistence hooks.

Every mutation goes through ``touch_task``/``touch_worker``, which keeps the incremental indexes
(``luigi._scheduler.index``) in sync and records the id in the dirty sets returned by
``drain_changes()`` (the durable store writes those rows; tracking starts once a store calls
``restore``/``drain_changes``, so the local scheduler keeps no dirty sets). Deadlines set here (retry, removal,
end of a scheduler disable) are pushed into expiry queues so pruning only touches due tasks.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
from collections import defaultdict
from typing import Any, Iterable, Iterator

from luigi._scheduler import clock
from luigi._scheduler.constants import BATCH_RUNNING, DISABLED, DONE, FAILED, PENDING, RUNNING, UNKNOWN
from luigi._scheduler.expiry import ExpiryQueue
from luigi._scheduler.index import StateIndex
from luigi._scheduler.records import Task, Worker

logger = logging.getLogger("luigi.scheduler")

_NO_OP_REPEATS = frozenset((PENDING, DONE, RUNNING, BATCH_RUNNING, UNKNOWN))
# Transitions between these statuses (of a task outside any batch) involve no failure, disable
# or batch rule: ``set_status`` takes a short path for them.
_PLAIN_TARGETS = frozenset((PENDING, RUNNING, DONE))
_PLAIN_SOURCES = frozenset((PENDING, RUNNING, DONE, UNKNOWN))


def _send_disable_email(task: Task, config: Any) -> None:
    """Immediate e-mail for a scheduler disable, via the patchable ``luigi.scheduler.notifications``."""
    import luigi.scheduler as public

    policy = task.retry_policy
    subject = f"Luigi Scheduler: DISABLED {task.id} due to excessive failures"
    message = (f"{task.id} failed {policy.retry_count} times in the last {policy.disable_window} seconds, "
               f"so it is being disabled for {config.disable_persist} seconds")
    public.notifications.send_error_email(subject, message)


class SimpleTaskState:
    """In-memory scheduler state with pickle persistence (``state_path``) and record export."""

    def __init__(self, state_path: str, clock_fn: Any = None) -> None:
        self._state_path = state_path
        self._clock = clock_fn or clock.now
        self._tasks: dict[str, Task] = {}
        self._status_tasks: dict[str, dict] = defaultdict(dict)
        self._active_workers: dict[str, Worker] = {}
        self._task_batchers: dict[str, dict] = {}
        self._metrics_collector: Any = None
        # Ids changed since the last ``drain_changes``; None until a durable store attaches (its
        # first ``restore``/``drain_changes``): the local scheduler records nothing.
        self._dirty_tasks: set | None = None
        self._dirty_workers: set | None = None
        self._deferred: str | None = None
        # Bumped whenever records or stakes may have disappeared (task or worker removal, state
        # replaced): until then a task's dependencies all exist with the stakeholders and
        # priorities reported for them.
        self.task_removals = 0
        self._reset_indexes()

    def _reset_indexes(self) -> None:
        self._status_tasks = defaultdict(dict)
        self._index = StateIndex(self._tasks, self._status_tasks)
        self._retry_queue = ExpiryQueue("retry")
        self._remove_queue = ExpiryQueue("remove")
        self._disable_queue = ExpiryQueue("scheduler_disable_time")

    def now(self) -> float:
        return self._clock()

    # ------------------------------------------------------------------ change tracking
    def mark_task(self, task_id: str) -> None:
        """Record a changed task id for the durable store (nothing while none is attached)."""
        if self._dirty_tasks is not None:
            self._dirty_tasks.add(task_id)

    def mark_worker(self, worker_id: str) -> None:
        """Record a changed worker id for the durable store (nothing while none is attached)."""
        if self._dirty_workers is not None:
            self._dirty_workers.add(worker_id)

    def touch_task(self, task: Task) -> None:
        """Re-index ``task`` after a mutation and mark it dirty. O(|workers| + changes)."""
        self.mark_task(task.id)
        if task.id != self._deferred:
            self._index.refresh(task)

    def add_placeholders(self, tasks: list[Task]) -> None:
        """Index (and mark dirty) new UNKNOWN records created for dependencies, already in ``_tasks``."""
        if self._dirty_tasks is not None:
            self._dirty_tasks.update(task.id for task in tasks)
        self._index.add_placeholders(tasks)

    def defer_refresh(self, task: Task) -> None:
        """Start a multi-step update of ``task``: its re-indexing waits for ``end_deferred_refresh``.

        Only for updates that read no index entry of ``task`` itself while it is stale.
        """
        self._deferred = task.id

    def end_deferred_refresh(self, task: Task, deps_changed: bool = False) -> None:
        """Re-index ``task``; ``deps_changed`` says whether its ``deps`` may differ from the index's view."""
        self._deferred = None
        self.mark_task(task.id)
        self._index.refresh(task, deps_changed)

    def touch_worker(self, worker: Worker) -> None:
        self.mark_worker(worker.id)

    def drain_changes(self) -> tuple[set[str], set[str]]:
        """Task ids and worker ids changed since the last drain (removed ids included).

        The first call (unless ``restore`` ran) returns every live id and turns tracking on.
        """
        tasks, workers = self._dirty_tasks, self._dirty_workers
        if tasks is None:  # first drain: nothing has been seen yet, so everything changed
            tasks, workers = set(self._tasks), set(self._active_workers)
        self._dirty_tasks, self._dirty_workers = set(), set()
        return tasks, workers

    def get_task_batchers(self) -> dict:
        return self._task_batchers

    # ------------------------------------------------------------------ persistence
    def get_state(self) -> tuple:
        return self._tasks, self._active_workers, self._task_batchers

    def set_state(self, state: tuple) -> None:
        """Adopt ``(tasks, workers[, task_batchers])`` and rebuild every index. O(tasks + edges)."""
        self._tasks, self._active_workers = state[0], state[1]
        self.task_removals += 1
        if len(state) >= 3:
            self._task_batchers = state[2]
        self._rebuild()

    def _rebuild(self) -> None:
        self._reset_indexes()
        for task in self._tasks.values():
            self._index.refresh(task)
            self._schedule_deadlines(task)
        for worker in self._active_workers.values():
            worker.tasks = {self._tasks[t.id] for t in worker.tasks if self._tasks.get(t.id) is t}

    def _schedule_deadlines(self, task: Task) -> None:
        if task.retry is not None and task.status == FAILED:
            self._retry_queue.push(task.retry, task.id, task.retry)
        if task.remove is not None:
            self._remove_queue.push(task.remove, task.id, task.remove)
        if task.scheduler_disable_time is not None and task.status == DISABLED:
            self._disable_queue.push(task.scheduler_disable_time, task.id, task.scheduler_disable_time)

    def restore(self, task_records: Iterable[dict], worker_records: Iterable[dict],
                task_batchers: dict | None = None) -> None:
        """Rebuild the state (and all indexes) from ``to_record()`` dicts of a durable store."""
        tasks = {}
        for record in task_records:
            task = Task.from_record(record)
            tasks[task.id] = task
        workers = {}
        for record in worker_records:
            worker = Worker.from_record(record, tasks)
            workers[worker.id] = worker
        self.set_state((tasks, workers, dict(task_batchers or {})))
        self._dirty_tasks, self._dirty_workers = set(), set()

    def dump(self) -> None:
        """Pickle the state to ``state_path`` atomically (temp file + rename)."""
        tmp_path = f"{self._state_path}.tmp{os.getpid()}"
        try:
            with open(tmp_path, "wb") as fobj:
                pickle.dump(self.get_state(), fobj)
            os.replace(tmp_path, self._state_path)
        except OSError:
            logger.warning("Failed saving scheduler state", exc_info=1)
            try:
                os.unlink(tmp_path)
            except OSError:
                pass
        else:
            logger.info("Saved state in %s", self._state_path)

    def load(self) -> None:
        if not os.path.exists(self._state_path):
            logger.info("No prior state file exists at %s. Starting with empty state", self._state_path)
            return
        logger.info("Attempting to load state from %s", self._state_path)
        try:
            with open(self._state_path, "rb") as fobj:
                state = pickle.load(fobj)
        except BaseException:
            logger.exception("Error when loading state. Starting from empty state.")
            return
        self.set_state(state)
        if self._dirty_tasks is not None:
            self._dirty_tasks.update(self._tasks)
        if self._dirty_workers is not None:
            self._dirty_workers.update(self._active_workers)

    # ------------------------------------------------------------------ task lookups
    def get_active_tasks(self) -> Any:
        return self._tasks.values()

    def get_active_tasks_by_status(self, *statuses: str) -> Iterator[Task]:
        return itertools.chain.from_iterable(list(self._status_tasks[status].values()) for status in statuses)

    def get_active_task_count_for_status(self, status: str) -> int:
        if status:
            return len(self._status_tasks.get(status, ()))
        return len(self._tasks)

    def get_batch_running_tasks(self, batch_id: Any) -> list[Task]:
        assert batch_id is not None
        return list(self._index.batches.get(batch_id, {}).values())

    def set_batcher(self, worker_id: str, family: str, batcher_args: Any, max_batch_size: Any) -> None:
        self._task_batchers.setdefault(worker_id, {})[family] = (batcher_args, max_batch_size)
        self.mark_worker(worker_id)

    def get_batcher(self, worker_id: str, family: str) -> tuple:
        return self._task_batchers.get(worker_id, {}).get(family, (None, 1))

    def num_pending_tasks(self) -> int:
        return len(self._status_tasks[PENDING]) + len(self._status_tasks[RUNNING])

    def get_task(self, task_id: str, default: Any = None, setdefault: Any = None) -> Any:
        if setdefault:
            task = self._tasks.setdefault(task_id, setdefault)
            self.touch_task(task)
            return task
        return self._tasks.get(task_id, default)

    def has_task(self, task_id: str) -> bool:
        return task_id in self._tasks

    # ------------------------------------------------------------------ transitions
    def re_enable(self, task: Task, config: Any = None) -> None:
        task.scheduler_disable_time = None
        task.clear_failures()
        if config:
            self.set_status(task, FAILED, config)
            task.clear_failures()
        self.touch_task(task)

    def set_batch_running(self, task: Task, batch_id: str, worker_id: str) -> None:
        """Members get their own copy of ``resources`` as ``resources_running`` (Luigi aliases it)."""
        self.set_status(task, BATCH_RUNNING)
        task.batch_id = batch_id
        task.worker_running = worker_id
        task.resources_running = dict(task.resources)
        task.time_running = self.now()
        self.touch_task(task)

    def set_status(self, task: Task, new_status: str, config: Any = None, now: float | None = None) -> None:
        """Luigi's transition rules (spec §11.1), plus index/deadline bookkeeping.

        ``now``: the time the caller already read for this request (saves a clock read per report).
        """
        old_status = task.status
        if new_status == old_status and new_status in _NO_OP_REPEATS:
            return  # repeating these statuses changes nothing under the rules below
        if new_status in _PLAIN_TARGETS and old_status in _PLAIN_SOURCES and task.batch_id is None:
            # The moves of every build (UNKNOWN/PENDING -> RUNNING -> DONE): none of the rules
            # below applies, only the status, its timestamp and the bookkeeping change.
            task.status = new_status
            task.updated = self._clock() if now is None else now
            self.touch_task(task)
            if new_status == DONE:  # the only one of these statuses a metrics collector hears of
                self.update_metrics(task, config)
            return
        if new_status == FAILED:
            assert config is not None
        if new_status == DISABLED and task.status in (RUNNING, BATCH_RUNNING):
            return
        remove_on_failure = task.batch_id is not None and not task.batchable
        if task.status == DISABLED:
            if new_status == DONE:
                self.re_enable(task)
            elif task.scheduler_disable_time is not None and new_status != DISABLED:
                return
        if task.status == RUNNING and task.batch_id is not None and new_status != RUNNING:
            for member in self.get_batch_running_tasks(task.batch_id):
                self.set_status(member, new_status, config)
                member.batch_id = None
                self.touch_task(member)
            task.batch_id = None
        if now is None:
            now = self.now()
        if new_status == FAILED and task.status != DISABLED:
            task.add_failure(now)
            if task.has_excessive_failures(now):
                task.scheduler_disable_time = now
                new_status = DISABLED
                self._disable_queue.push(now, task.id, now)
                if not config.batch_emails:
                    _send_disable_email(task, config)
        elif new_status == DISABLED:
            task.scheduler_disable_time = None
        if new_status != task.status:
            task.status = new_status
            task.updated = now
            self.touch_task(task)
            self.update_metrics(task, config)
        if new_status == FAILED:
            task.retry = now + config.retry_delay
            self._retry_queue.push(task.retry, task.id, task.retry)
            if remove_on_failure:
                self.set_remove(task, now)
        self.mark_task(task.id)

    def add_task_record(self, task: Task) -> None:
        """Insert a new record; it is indexed by the caller's next ``touch_task``."""
        self._tasks[task.id] = task
        self.mark_task(task.id)

    def set_remove(self, task: Task, when: float) -> None:
        task.remove = when
        self._remove_queue.push(when, task.id, when)
        self.mark_task(task.id)

    def fail_dead_worker_task(self, task: Task, config: Any, assistants: Iterable[str]) -> None:
        if task.status in (BATCH_RUNNING, RUNNING) and task.worker_running \
                and task.worker_running not in task.stakeholders and task.worker_running not in assistants:
            logger.info("Task %r is marked as running by disconnected worker %r -> marking as FAILED "
                        "with retry delay of %rs", task.id, task.worker_running, config.retry_delay)
            task.worker_running = None
            self.set_status(task, FAILED, config)
            task.retry = self.now() + config.retry_delay
            self._retry_queue.push(task.retry, task.id, task.retry)
            self.touch_task(task)

    def update_status(self, task: Task, config: Any) -> None:
        """Per-task prune step (kept for API compatibility; ``prune`` uses the expiry queues)."""
        now = self.now()
        if not task.stakeholders and task.remove is None and task.status != RUNNING:
            logger.debug("Task %r has no stakeholders anymore -> might remove task in %s seconds",
                         task.id, config.remove_delay)
            self.set_remove(task, now + config.remove_delay)
        if task.status == DISABLED and task.scheduler_disable_time is not None \
                and now - task.scheduler_disable_time > config.disable_persist:
            self.re_enable(task, config)
        if task.status == FAILED and config.retry_delay >= 0 and task.retry < now:
            self.set_status(task, PENDING, config)

    def may_prune(self, task: Task) -> bool:
        return bool(task.remove) and self.now() >= task.remove

    def inactivate_tasks(self, delete_tasks: Iterable[str]) -> None:
        """Forget tasks (and drop them from their workers' ``tasks`` sets). O(Σ |workers|)."""
        self.task_removals += 1
        for task_id in list(delete_tasks):
            task = self._tasks.pop(task_id, None)
            self.mark_task(task_id)
            if task is None:
                continue
            for worker_id in task.workers:
                worker = self._active_workers.get(worker_id)
                if worker is not None:
                    worker.tasks.discard(task)
            self._index.drop(task)

    # ------------------------------------------------------------------ workers
    def get_active_workers(self, last_active_lt: float | None = None,
                           last_get_work_gt: float | None = None) -> Iterator[Worker]:
        for worker in list(self._active_workers.values()):
            if last_active_lt is not None and worker.last_active >= last_active_lt:
                continue
            last_get_work = worker.last_get_work
            if last_get_work_gt is not None and (last_get_work is None or last_get_work <= last_get_work_gt):
                continue
            yield worker

    def get_assistants(self, last_active_lt: float | None = None) -> Iterator[Worker]:
        return (w for w in self.get_active_workers(last_active_lt) if w.assistant)

    def get_worker_ids(self) -> Any:
        return self._active_workers.keys()

    def get_worker(self, worker_id: str) -> Worker:
        worker = self._active_workers.get(worker_id)
        if worker is None:
            worker = self._active_workers[worker_id] = Worker(worker_id, now=self.now())
            self.mark_worker(worker_id)
        return worker

    def inactivate_workers(self, delete_workers: Iterable[str]) -> None:
        delete_workers = set(delete_workers)
        for worker_id in delete_workers:
            self._active_workers.pop(worker_id, None)
            self._task_batchers.pop(worker_id, None)
            self.mark_worker(worker_id)
        self._remove_workers_from_tasks(delete_workers)

    def _remove_workers_from_tasks(self, workers: Iterable[str], remove_stakeholders: bool = True) -> None:
        """Drop worker ids from the tasks that list them, found via the per-worker index."""
        self.task_removals += 1  # stakes disappear: earlier dependency walks no longer hold
        for worker_id in list(workers):
            slot = self._index.peek_slot(worker_id)
            if slot is None:
                continue
            affected = set(slot.offered)
            if remove_stakeholders:
                affected |= slot.stakes
            for task_id in affected:
                task = self._tasks.get(task_id)
                if task is None:
                    continue
                task.workers.discard(worker_id)
                if remove_stakeholders:
                    task.stakeholders.discard(worker_id)
                self.touch_task(task)
            self._index.forget_worker(worker_id)

    def disable_workers(self, worker_ids: Iterable[str]) -> None:
        worker_ids = set(worker_ids)
        self._remove_workers_from_tasks(worker_ids, remove_stakeholders=False)
        for worker_id in worker_ids:
            worker = self.get_worker(worker_id)
            worker.disabled = True
            worker.tasks.clear()
            self.touch_worker(worker)

    # ------------------------------------------------------------------ per-worker index reads
    def worker_tasks_by_status(self, worker_id: str, statuses: Iterable[str]) -> Iterator[Task]:
        return self._index.worker_tasks(worker_id, statuses)

    def worker_has_resource_tasks(self, worker_id: str) -> bool:
        slot = self._index.peek_slot(worker_id)
        return slot is not None and slot.res_pending > 0

    def update_metrics(self, task: Task, config: Any) -> None:
        collector = self._metrics_collector
        if collector is None:
            return
        if task.status == DISABLED:
            collector.handle_task_disabled(task, config)
        elif task.status == DONE:
            collector.handle_task_done(task)
        elif task.status == FAILED:
            collector.handle_task_failed(task)
