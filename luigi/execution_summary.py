"""The end-of-run execution summary: which tasks ran, failed, were left pending, and why.

The summary is computed from the bookkeeping the worker keeps anyway (its add-task and get-work
histories), so producing it costs one pass over those histories plus one depth-first walk over the
static dependencies of the tasks left pending.  The text layout is byte-compatible with Luigi's.
"""

from __future__ import annotations

import collections
import enum
from typing import Any, Iterable, Iterator

from luigi import parameter as _parameter
from luigi import task as _task


class execution_summary(_task.Config):
    """``[execution_summary]`` section: how many family lines to print per status."""

    summary_length = _parameter.IntParameter(default=5)


class LuigiStatusCode(enum.Enum):
    """Overall verdict of a run: ``(smiley, reason)``."""

    SUCCESS = (":)", "there were no failed tasks or missing dependencies")
    SUCCESS_WITH_RETRY = (":)", "there were failed tasks but they all succeeded in a retry")
    FAILED = (":(", "there were failed tasks")
    FAILED_AND_SCHEDULING_FAILED = (":(", "there were failed tasks and tasks whose scheduling failed")
    SCHEDULING_FAILED = (":(", "there were tasks whose scheduling failed")
    NOT_RUN = (":|", "there were tasks that were not granted run permission by the scheduler")
    MISSING_EXT = (":|", "there were missing external dependencies")


class LuigiRunResult:
    """What ``luigi.build(..., detailed_summary=True)`` returns."""

    def __init__(self, worker: Any, worker_add_run_status: bool = True) -> None:
        self.worker = worker
        summary_dict = _summary_dict(worker)  # computed once, shared by text and status
        self.summary_text = _summary_wrap(_summary_format(summary_dict, worker))
        self.status = _tasks_status(summary_dict)
        self.one_line_summary = _create_one_line_summary(self.status)
        self.scheduling_succeeded = worker_add_run_status

    def __str__(self) -> str:
        return f"LuigiRunResult with status {self.status}"

    def __repr__(self) -> str:
        return (
            f"LuigiRunResult(status={self.status!r},worker={self.worker!r},"
            f"scheduling_succeeded={self.scheduling_succeeded!r})"
        )


_ORDERED_STATUSES = (
    "already_done",
    "completed",
    "ever_failed",
    "failed",
    "scheduling_error",
    "still_pending",
    "still_pending_ext",
    "run_by_other_worker",
    "upstream_failure",
    "upstream_missing_dependency",
    "upstream_run_by_other_worker",
    "upstream_scheduling_error",
    "not_run",
)
_PENDING_SUB_STATUSES = set(_ORDERED_STATUSES[_ORDERED_STATUSES.index("still_pending_ext") :])
_COMMENTS = {
    ("already_done", "complete ones were encountered"),
    ("completed", "ran successfully"),
    ("failed", "failed"),
    ("scheduling_error", "failed scheduling"),
    ("still_pending", "were left pending, among these"),
    ("still_pending_ext", "were missing external dependencies"),
    ("run_by_other_worker", "were being run by another worker"),
    ("upstream_failure", "had failed dependencies"),
    ("upstream_missing_dependency", "had missing dependencies"),
    ("upstream_run_by_other_worker", "had dependencies that were being run by other worker"),
    ("upstream_scheduling_error", "had dependencies whose scheduling failed"),
    ("not_run", "was not granted run permission by the scheduler"),
}
# _COMMENTS stays a set of pairs for compatibility; lookups go through this map.
_COMMENT_BY_STATUS = dict(_COMMENTS)

_SET_KEYS = (
    "completed",
    "already_done",
    "ever_failed",
    "failed",
    "scheduling_error",
    "still_pending_ext",
    "still_pending_not_ext",
    "run_by_other_worker",
    "upstream_failure",
    "upstream_missing_dependency",
    "upstream_run_by_other_worker",
    "upstream_scheduling_error",
    "not_run",
)
_UPSTREAM_KEYS = ("upstream_failure", "upstream_missing_dependency", "upstream_run_by_other_worker", "upstream_scheduling_error")
_DONE = object()  # sentinel: a task's requirement iterator is exhausted


def _partition_tasks(worker: Any) -> dict[str, set]:
    """Classify every task the worker reported by the statuses it reported (one history pass)."""
    pending, done, failed, unknown = set(), set(), set(), set()
    pending_entries = []
    for task, status, runnable in worker._add_task_history:
        if status == "PENDING":
            pending.add(task)
            pending_entries.append((task, runnable))
        elif status == "DONE":
            done.add(task)
        elif status == "FAILED":
            failed.add(task)
        elif status == "UNKNOWN":
            unknown.add(task)
    sets: dict[str, set] = {key: set() for key in _SET_KEYS}
    sets["completed"] = done & pending
    sets["already_done"] = done - pending
    sets["ever_failed"] = failed
    sets["failed"] = failed - sets["completed"]
    sets["scheduling_error"] = unknown
    settled = failed | sets["completed"]
    for task, runnable in pending_entries:
        if task not in settled:
            sets["still_pending_not_ext" if runnable else "still_pending_ext"].add(task)
    return sets


def _root_task(worker: Any) -> Any:
    """The first task the worker reported: the root of the run."""
    return worker._add_task_history[0][0]


def _populate_unknown_statuses(set_tasks: dict[str, set]) -> None:
    """Explain every runnable task left pending by looking at its dependencies."""
    visited: set = set()
    for task in list(set_tasks["still_pending_not_ext"]):
        if task not in visited:
            _depth_first_search(set_tasks, task, visited)


def _classify_by_dependency(set_tasks: dict[str, set], current: Any, dep: Any) -> None:
    if current not in set_tasks["still_pending_not_ext"]:
        return
    if dep in set_tasks["ever_failed"] or dep in set_tasks["upstream_failure"]:
        set_tasks["upstream_failure"].add(current)
    if dep in set_tasks["still_pending_ext"] or dep in set_tasks["upstream_missing_dependency"]:
        set_tasks["upstream_missing_dependency"].add(current)
    if dep in set_tasks["run_by_other_worker"] or dep in set_tasks["upstream_run_by_other_worker"]:
        set_tasks["upstream_run_by_other_worker"].add(current)
    if dep in set_tasks["scheduling_error"]:
        set_tasks["upstream_scheduling_error"].add(current)


def _finish_classification(set_tasks: dict[str, set], current: Any) -> None:
    if current not in set_tasks["still_pending_not_ext"] or current in set_tasks["run_by_other_worker"]:
        return
    if not any(current in set_tasks[key] for key in _UPSTREAM_KEYS):
        set_tasks["not_run"].add(current)


def _requirements(task: Any) -> Iterator[Any]:
    """Iterator over ``task``'s static requirements; none when ``requires()`` raises (the worker
    already reported such a task as a scheduling error, so the summary must not crash on it)."""
    try:
        return iter(task._requires())
    except Exception:
        return iter(())


def _depth_first_search(set_tasks: dict[str, set], current_task: Any, visited: set) -> None:
    """Post-order walk over static requirements; iterative, so deep chains cannot overflow."""
    visited.add(current_task)
    # frame: [task, iterator over its requirements, requirement currently being explored]
    stack = [[current_task, _requirements(current_task), None]]
    while stack:
        frame = stack[-1]
        if frame[2] is not None:
            _classify_by_dependency(set_tasks, frame[0], frame[2])
            frame[2] = None
        dep = next(frame[1], _DONE)
        if dep is _DONE:
            _finish_classification(set_tasks, frame[0])
            stack.pop()
        elif dep in visited:
            _classify_by_dependency(set_tasks, frame[0], dep)
        else:
            visited.add(dep)
            frame[2] = dep
            stack.append([dep, _requirements(dep), None])


def _get_external_workers(worker: Any) -> collections.defaultdict:
    """Other workers seen running our scheduled tasks: ``{worker_id: {task, ...}}``."""
    workers: collections.defaultdict = collections.defaultdict(set)
    scheduled = worker._scheduled_tasks
    for response in worker._get_work_response_history:
        if response["task_id"] is not None:
            continue
        for running in response["running_tasks"]:
            other, task_id = running["worker"], running["task_id"]
            if other != worker._id and task_id in scheduled:
                workers[other].add(scheduled[task_id])
    return workers


def _get_run_by_other_worker(worker: Any) -> set:
    """Every task of ours that some other worker was running."""
    return set().union(*_get_external_workers(worker).values())


def _summary_dict(worker: Any) -> dict[str, set]:
    """The 13 classification sets of §5.5 for this worker's run."""
    set_tasks = _partition_tasks(worker)
    set_tasks["run_by_other_worker"] = _get_run_by_other_worker(worker)
    _populate_unknown_statuses(set_tasks)
    return set_tasks


def _tasks_status(set_tasks: dict[str, set]) -> LuigiStatusCode:
    """Pick the overall status code from the classification."""
    if set_tasks["ever_failed"]:
        if not set_tasks["failed"]:
            return LuigiStatusCode.SUCCESS_WITH_RETRY
        if set_tasks["scheduling_error"]:
            return LuigiStatusCode.FAILED_AND_SCHEDULING_FAILED
        return LuigiStatusCode.FAILED
    if set_tasks["scheduling_error"]:
        return LuigiStatusCode.SCHEDULING_FAILED
    if set_tasks["not_run"]:
        return LuigiStatusCode.NOT_RUN
    if set_tasks["still_pending_ext"]:
        return LuigiStatusCode.MISSING_EXT
    return LuigiStatusCode.SUCCESS


def _create_one_line_summary(status_code: LuigiStatusCode) -> str:
    return "This progress looks {} because {}".format(*status_code.value)


# ---------------------------------------------------------------------------------------------
# Text rendering


def _group_tasks_by_name_and_status(task_dict: Iterable) -> dict[str, list]:
    """Group tasks by family: ``{family: [task, ...]}``."""
    groups: dict[str, list] = {}
    for task in task_dict:
        groups.setdefault(task.task_family, []).append(task)
    return groups


def _get_number_of_tasks(task_dict: dict[str, list]) -> int:
    return sum(len(tasks) for tasks in task_dict.values())


def _get_number_of_tasks_for(status: str, group_tasks: dict[str, dict]) -> int:
    if status == "still_pending":
        return _get_number_of_tasks(group_tasks["still_pending_ext"]) + _get_number_of_tasks(group_tasks["still_pending_not_ext"])
    return _get_number_of_tasks(group_tasks[status])


def _get_comments(group_tasks: dict[str, dict]) -> dict[str, str]:
    """Heading line per status with a non-zero count."""
    comments = {}
    for status, phrase in _COMMENT_BY_STATUS.items():
        count = _get_number_of_tasks_for(status, group_tasks)
        if count:
            indent = "    " if status in _PENDING_SUB_STATUSES else ""
            comments[status] = f"{indent}* {count} {phrase}:\n"
    return comments


def _get_len_of_params(task: Any) -> int:
    return sum(len(name) for name, _ in task.get_params())


def _ranging_attributes(attributes: set, param_class: Any) -> tuple[Any, Any]:
    """If the values form one contiguous run, return its ``(first, last)``; else ``(None, None)``."""
    next_attributes = {param_class.next_in_enumeration(attribute) for attribute in attributes}
    in_first = attributes - next_attributes
    in_second = next_attributes - attributes
    if len(in_first) == 1 and len(in_second) == 1:
        end = next(iter(in_second))
        for x in attributes:
            if param_class.next_in_enumeration(x) == end:
                return next(iter(in_first)), x
    return None, None


def _serialize_first_param(task: Any) -> str:
    return task.get_params()[0][1].serialize(getattr(task, task.get_params()[0][0]))


def _get_str_one_parameter(tasks: list) -> str:
    """Comma-separated values of a family's single parameter, elided when long."""
    row = ""
    count = 0
    for task in tasks:
        if (len(row) >= 30 and count > 2 and count != len(tasks) - 1) or len(row) > 200:
            row += "..."
            break
        row += _serialize_first_param(task)
        if count < len(tasks) - 1:
            row += ","
        count += 1
    return row


def _get_set_of_params(tasks: list) -> dict:
    """``{(name, param): {value, ...}}`` over the tasks of one family."""
    params: dict = {}
    for param in tasks[0].get_params():
        params[param] = {getattr(task, param[0]) for task in tasks}
    return params


def _get_unique_param_keys(params: dict) -> Iterable:
    """The parameters that take more than one value."""
    for param_key, values in params.items():
        if len(values) > 1:
            yield param_key


def _get_str_ranging_multiple_parameters(first: Any, last: Any, tasks: list, unique_param: tuple) -> str:
    """Line for a family where exactly one of several parameters varies over a contiguous range."""
    varying_text = f"{unique_param[1].serialize(first)}...{unique_param[1].serialize(last)}"
    parts = [
        f"{name}={varying_text if name == unique_param[0] else param.serialize(getattr(tasks[0], name))}"
        for name, param in tasks[0].get_params()
    ]
    return f"- {len(tasks)} {tasks[0].task_family}({', '.join(parts)})"


def _family_line(family: str, tasks: list) -> str:
    """One summary line describing all tasks of a family in one status."""
    count = len(tasks)
    first = tasks[0]
    params = first.get_params()
    params_len = _get_len_of_params(first)
    first_str_len = len(str(first))
    if not params:
        return f"- {count} {family}()"
    if params_len > 60 or first_str_len > 200 or (count == 2 and len(params) > 1 and (params_len > 40 or first_str_len > 100)):
        return f"- {count} {family}(...)"
    if len(params) == 1:
        name, param = params[0]
        values = {getattr(task, name) for task in tasks}
        low, high = _ranging_attributes(values, param)
        if low is not None and high is not None and len(values) > 3:
            text = f"{param.serialize(low)}...{param.serialize(high)}"
        else:
            text = _get_str_one_parameter(tasks)
        return f"- {count} {family}({name}={text})"
    value_sets = _get_set_of_params(tasks)
    varying = list(_get_unique_param_keys(value_sets))
    if len(varying) == 1:
        name, param = varying[0]
        low, high = _ranging_attributes(value_sets[varying[0]], param)
        if low is not None and high is not None and len(value_sets[varying[0]]) > 2:
            return _get_str_ranging_multiple_parameters(low, high, tasks, varying[0])
    if count == 1:
        return f"- 1 {first}"
    if count == 2:
        return f"- 2 {first} and {tasks[1]}"
    return f"- {count} {first} ..."


def _get_str(task_dict: dict[str, list], extra_indent: bool) -> str:
    """Family lines for one status, truncated after ``summary_length`` lines."""
    summary_length = execution_summary().summary_length
    prefix = " " * (8 if extra_indent else 4)
    lines = []
    for family, tasks in sorted(task_dict.items()):
        if 0 < summary_length <= len(lines):
            lines.append(prefix + "...")
            break
        lines.append(prefix + _family_line(family, sorted(tasks, key=str)))
    return "\n".join(lines)


def _summary_format(set_tasks: dict[str, set], worker: Any) -> str:
    """The summary body (§5.7) between the banner lines."""
    group_tasks = {status: _group_tasks_by_name_and_status(tasks) for status, tasks in set_tasks.items()}
    counted = ("already_done", "completed", "failed", "scheduling_error", "still_pending_ext", "still_pending_not_ext")
    total = sum(len(set_tasks[key]) for key in counted)
    comments = _get_comments(group_tasks)
    text = f"Scheduled {total} tasks of which:\n"
    for status in _ORDERED_STATUSES:
        if status not in comments:
            continue
        text += comments[status]
        if status != "still_pending":
            text += _get_str(group_tasks[status], status in _PENDING_SUB_STATUSES) + "\n"
    external = _get_external_workers(worker)
    if external:
        text += "\nThe other workers were:\n"
        for i, (worker_id, tasks) in enumerate(external.items()):
            if 3 < i < len(external) - 1:
                text += f"    and {len(external) - i} other workers"
                break
            text += f"    - {worker_id} ran {len(tasks)} tasks\n"
        text += "\n"
    if not set_tasks["completed"] and not set_tasks["failed"]:
        if not external:
            text += "\n"
        text += "Did not run any tasks"
    text += "\n" + _create_one_line_summary(_tasks_status(set_tasks))
    if total == 0:
        text = "Did not schedule any tasks"
    return text


def _summary_wrap(str_output: str) -> str:
    return "\n===== Luigi Execution Summary =====\n\n" + str_output + "\n\n===== Luigi Execution Summary =====\n"


def summary(worker: Any) -> str:
    """The full wrapped summary text for a worker's run."""
    return _summary_wrap(_summary_format(_summary_dict(worker), worker))
