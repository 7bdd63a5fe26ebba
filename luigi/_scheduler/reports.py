"""How a worker's report (``Scheduler.add_task``) and a dispatch (``get_work``) change one task
record: the steps that only read and write the record, its batch and its dependencies' priorities.

They are module functions, not ``Scheduler`` methods, so that the compiled build can declare the
record's type (``reports.pxd``) and read its fields directly: ``add_task`` runs twice per task
of every build. ``Scheduler.add_task`` decides when each step applies.
"""

from __future__ import annotations

from typing import Any

from luigi._scheduler.constants import RUNNING
from luigi._scheduler.records import _EMPTY_DEPS, _NO_PARAMS, _get_default


def fill_in_details(task: Any, family: str, module: str | None, params: dict | None,
                    param_visibilities: dict | None) -> None:
    """Placeholders created for dependencies learn their details from the first full report."""
    if not task.family:
        task.family = family
    if not getattr(task, "module", None):
        task.module = module
    if not getattr(task, "param_visibilities", None):
        task.param_visibilities = _get_default(param_visibilities, {})
    if not task.params:
        task.set_params(params)


def take_fields(state: Any, task: Any, worker_id: str, status: str, batch_id: Any, accepts_messages: Any,
                tracking_url: str | None, batchable: Any, expl: str | None, now: float) -> None:
    """Adopt the reported batch id, running worker, message flag, tracking URL, batchability and
    explanation (the last two are mirrored onto a running batch's members); cancel a removal."""
    if batch_id is not None:
        task.batch_id = batch_id
    if status == RUNNING and not task.worker_running:
        task.worker_running = worker_id
        if batch_id:
            members = state.get_batch_running_tasks(batch_id)
            if members:
                task.resources_running = dict(getattr(members[0], "resources_running", None) or {})
        task.time_running = now
    if accepts_messages is not None:
        task.accepts_messages = accepts_messages
    if tracking_url is not None or task.status != RUNNING:
        task.tracking_url = tracking_url
        if task.batch_id is not None:
            copy_to_batch(state, task, "tracking_url", tracking_url)
    if batchable is not None:
        task.batchable = batchable
    if task.remove is not None:
        task.remove = None
    if expl is not None:
        task.expl = expl
        copy_to_batch(state, task, "expl", expl)


def copy_to_batch(state: Any, task: Any, attribute: str, value: Any) -> None:
    """Mirror a field of a batch representative onto its BATCH_RUNNING members. O(members)."""
    if task.batch_id is None:
        return
    for member in state.get_batch_running_tasks(task.batch_id):
        setattr(member, attribute, value)
        state.touch_task(member)


def adopt_deps(task: Any, deps: list | None, new_deps: list | None) -> bool:
    """Replace the dependency set (``deps``) and/or extend it (``new_deps``: dynamic dependencies);
    True if it may have changed, and then nobody has walked the new set yet (``deps_walked``)."""
    if deps is not None:
        task.deps = set(deps) if deps else _EMPTY_DEPS
    if new_deps:
        if not isinstance(task.deps, set):
            task.deps = set(task.deps)  # the shared empty frozenset
        task.deps.update(new_deps)
    elif deps is None:
        return False
    task._deps_walked = None  # Task.deps_walked
    return True


def start_running(state: Any, task: Any, worker_id: str, config: Any, now: float) -> None:
    """Hand ``task`` to ``worker_id``: RUNNING from ``now``, with its resources in use."""
    state.defer_refresh(task)
    try:
        state.set_status(task, RUNNING, config, now)
        task.worker_running = worker_id
        task.resources_running = task.resources.copy() if task.resources else _NO_PARAMS  # read-only when empty
        task.time_running = now
    finally:
        state.end_deferred_refresh(task)


def raise_priority(state: Any, task: Any, prio: Any, deps_settled: bool = False) -> None:
    """Raise ``task`` and its known transitive deps to at least ``prio``. O(raised tasks + their deps).

    ``deps_settled``: every dep already has at least ``task``'s priority, so with a numeric
    priority that does not rise there is nothing to visit.
    """
    own = task.priority
    if (deps_settled or not task.deps) and isinstance(own, (int, float)) and prio <= own:
        return  # nothing to raise: neither this task nor (settled or absent) deps
    tasks = state._tasks
    stack: list = []
    current, wanted = task, prio
    while True:
        existing = current.priority if isinstance(current.priority, (int, float)) else 0
        new_priority = max(wanted, existing)
        if new_priority != current.priority:
            current.priority = new_priority
            state.touch_task(current)
        for dep_id in current.deps:
            dep = tasks.get(dep_id)
            if dep is not None and new_priority > dep.priority:
                stack.append((dep, new_priority))
        if not stack:
            return
        current, wanted = stack.pop()
