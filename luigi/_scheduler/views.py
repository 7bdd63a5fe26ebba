"""Read-side helpers (spec §19-20): upstream status, task serialisation, graph traversal.

All of them cost O(size of the answer) (plus the nodes walked for upstream statuses); the
inverse graph uses the index's reverse-dependency map instead of rebuilding it per call.
"""

from __future__ import annotations

import collections
import re
from typing import Any, Callable, Iterable, Iterator

from luigi._scheduler.constants import (
    DISABLED,
    DONE,
    PENDING,
    RUNNING,
    STATUS_TO_UPSTREAM_MAP,
    UNKNOWN,
    UPSTREAM_SEVERITY_KEY,
)

TASK_FAMILY_RE = re.compile(r"([^(_]+)[(_]")


def upstream_status(tasks: dict, task_id: str, table: dict) -> str | None:
    """How a PENDING task is blocked, memoised in ``table`` (iterative post-order walk).

    Like Luigi, a node found in the table with the in-progress value ``""`` and some deps is
    re-aggregated from its deps' current table values when it is popped again, so a table shared
    between calls (``task_list``) gives the same answers as Luigi's. A DONE root yields ``""``.
    """
    if task_id in table:
        return table[task_id]
    if task_id not in tasks:
        return None
    stack = [task_id]
    while stack:
        node = stack.pop()
        task = tasks.get(node)
        if task is None or task.status == DONE:
            continue
        if node not in table:
            if task.status == PENDING and task.deps:
                table[node] = ""
                stack.append(node)
                stack.extend(task.deps)
            else:
                table[node] = STATUS_TO_UPSTREAM_MAP.get(task.status, "")
        elif table[node] == "" and task.deps:
            table[node] = max((table.get(dep, "") for dep in task.deps), key=UPSTREAM_SEVERITY_KEY)
    return table.get(task_id, "")


def serialize_task(task: Any, send_messages: bool, include_deps: bool = True, deps: Iterable[str] | None = None) -> dict:
    """The visualiser/API dict for one task (exact keys of spec §20)."""
    ret = {
        "display_name": task.pretty_id,
        "status": task.status,
        "workers": list(task.workers),
        "worker_running": task.worker_running,
        "time_running": getattr(task, "time_running", None),
        "start_time": task.time,
        "last_updated": getattr(task, "updated", task.time),
        "params": task.public_params,
        "name": task.family,
        "priority": task.priority,
        "resources": task.resources,
        "resources_running": getattr(task, "resources_running", None),
        "tracking_url": getattr(task, "tracking_url", None),
        "status_message": getattr(task, "status_message", None),
        "progress_percentage": getattr(task, "progress_percentage", None),
    }
    if task.status == DISABLED:
        ret["re_enable_able"] = task.scheduler_disable_time is not None
    if include_deps:
        ret["deps"] = list(task.deps if deps is None else deps)
    if send_messages and task.status == RUNNING:
        ret["accepts_messages"] = task.accepts_messages
    return ret


def _placeholder_node(task_id: str) -> dict:
    match = TASK_FAMILY_RE.match(task_id)
    return {
        "deps": [],
        "status": UNKNOWN,
        "workers": [],
        "start_time": UNKNOWN,
        "params": {"task_id": task_id},
        "name": match.group(1) if match else "UNKNOWN",
        "display_name": task_id,
        "priority": 0,
    }


def filter_done(tasks: dict, task_ids: Iterable[str]) -> Iterator[str]:
    for task_id in task_ids:
        task = tasks.get(task_id)
        if task is None or task.status != DONE:
            yield task_id


def traverse_graph(tasks: dict, root_task_id: str, seen: set | None, dep_func: Callable[[Any], Iterable[str]],
                   include_done: bool, max_nodes: int, serialize: Callable[..., dict]) -> dict:
    """Breadth-first nodes reachable from the root, at most ``max_nodes`` of them."""
    if seen is None:
        seen = set()
    elif root_task_id in seen:
        return {}
    seen.add(root_task_id)
    serialized: dict = {}
    queue = collections.deque([root_task_id])
    while queue:
        task_id = queue.popleft()
        task = tasks.get(task_id)
        if task is None or not task.family:
            serialized[task_id] = _placeholder_node(task_id)
        else:
            deps = dep_func(task)
            if not include_done:
                deps = list(filter_done(tasks, deps))
            serialized[task_id] = serialize(task_id, deps=deps)
            for dep in sorted(deps):
                if dep not in seen:
                    seen.add(dep)
                    queue.append(dep)
        if task_id != root_task_id:
            del serialized[task_id]["display_name"]
        if len(serialized) >= max_nodes:
            break
    return serialized
