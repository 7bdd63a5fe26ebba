"""Pruning (spec §15) driven by expiry queues instead of a walk over every task.

Cost per prune: O(workers) to find timed-out workers, O(running) for dead-worker checks, plus
O(k log n) for the k tasks that became orphaned or whose retry/disable/removal deadline passed.
"""

from __future__ import annotations

import logging
from typing import Any

from luigi._scheduler.constants import BATCH_RUNNING, DISABLED, FAILED, PENDING, RUNNING
from luigi._scheduler.state import SimpleTaskState

logger = logging.getLogger("luigi.scheduler")


def prune_workers(state: SimpleTaskState, config: Any, now: float | None = None) -> None:
    """Remove workers silent for longer than ``worker_disconnect_delay``."""
    now = state.now() if now is None else now
    delay = config.worker_disconnect_delay
    expired = []
    for worker in state._active_workers.values():
        if worker.last_active + delay < now:
            expired.append(worker)
    for worker in expired:
        logger.info("Worker %s timed out (no contact for >=%ss)", worker, config.worker_disconnect_delay)
    if expired:
        state.inactivate_workers(worker.id for worker in expired)


def _fail_dead_workers_tasks(state: SimpleTaskState, config: Any) -> None:
    """RUNNING/BATCH_RUNNING tasks of workers that are no longer their stakeholders become FAILED."""
    running = list(state.get_active_tasks_by_status(RUNNING, BATCH_RUNNING))
    suspects = [task for task in running if task.worker_running and task.worker_running not in task.stakeholders]
    if suspects:
        assistant_ids = {worker.id for worker in state.get_assistants()}
        for task in suspects:
            state.fail_dead_worker_task(task, config, assistant_ids)


def prune_tasks(state: SimpleTaskState, config: Any, now: float | None = None) -> None:
    """Fail dead workers' tasks, schedule removal of orphans, re-enable, retry and remove tasks.

    Runs before every ``get_work`` of the local scheduler, so each step first checks in O(1)
    whether it has anything to do.
    """
    now = state.now() if now is None else now
    status_tasks = state._status_tasks
    if status_tasks[RUNNING] or status_tasks[BATCH_RUNNING]:
        _fail_dead_workers_tasks(state, config)
    index = state._index
    if index.orphans:
        _schedule_orphan_removal(state, config, now)
    if state._disable_queue.has_due(now - config.disable_persist):
        _re_enable_due(state, config, now)
    if state._retry_queue.has_due(now):
        _retry_due(state, config, now)
    if state._remove_queue.has_due(now):
        _remove_due(state, now)


def _schedule_orphan_removal(state: SimpleTaskState, config: Any, now: float) -> None:
    index = state._index
    orphans, index.orphans = index.orphans, set()
    for task_id in orphans:
        task = state._tasks.get(task_id)
        if task is not None and not task.stakeholders and task.remove is None and task.status != RUNNING:
            logger.debug("Task %r has no stakeholders anymore -> might remove task in %s seconds",
                         task_id, config.remove_delay)
            state.set_remove(task, now + config.remove_delay)


def _re_enable_due(state: SimpleTaskState, config: Any, now: float) -> None:
    def disable_over(task: Any) -> bool | None:
        if task.status != DISABLED:
            return False
        return True if now - task.scheduler_disable_time > config.disable_persist else None

    for task in list(state._disable_queue.pop_due(now - config.disable_persist, state._tasks, disable_over)):
        state.re_enable(task, config)


def _retry_due(state: SimpleTaskState, config: Any, now: float) -> None:
    retry_enabled = config.retry_delay >= 0

    def retry_due(task: Any) -> bool | None:
        if task.status != FAILED or not retry_enabled:
            return False
        return True if task.retry < now else None

    for task in list(state._retry_queue.pop_due(now, state._tasks, retry_due)):
        state.set_status(task, PENDING, config)


def _remove_due(state: SimpleTaskState, now: float) -> None:
    def removable(task: Any) -> bool | None:
        return True if state.may_prune(task) else None

    doomed = []
    for task in state._remove_queue.pop_due(now, state._tasks, removable):
        logger.info("Removing task %r", task.id)
        doomed.append(task.id)
    if doomed:
        state.inactivate_tasks(doomed)
