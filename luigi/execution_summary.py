"""The end-of-run execution summary: which tasks ran, failed, were left pending, and why.

The summary is computed from the bookkeeping the worker keeps anyway (its add-task and get-work
histories), so producing it costs one pass over those histories plus one depth-first walk over the
static dependencies of the tasks left pending.  Text is only built for the families actually printed
(``summary_length`` per status), and without ``repr()`` of every task.  The text layout is
byte-compatible with Luigi's.
"""

from __future__ import annotations

import collections
import enum
import heapq
import itertools
import operator
from typing import AbstractSet, Any, Collection, Iterable, Iterator, Mapping

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
        task_sets, external = _classified(worker)  # computed once, shared by text and status
        self.summary_text = _summary_wrap(_render(task_sets, external))
        self.status = _tasks_status(task_sets)
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
_EXPLAINED_KEYS = (*_UPSTREAM_KEYS, "not_run")  # the sets the dependency walk fills
_DONE = object()  # sentinel: a task's requirement iterator is exhausted

# A task set is kept as a ``{key: task}`` dict where the key is ``id()`` of the task's *canonical*
# object: the one object the run uses for that task id.  The worker reports the objects it keeps in
# ``_scheduled_tasks``, so normally every history entry already holds the canonical object and the
# history is classified without touching a task at all (hashing a task runs ``Task.__hash__`` in
# Python, and reading ``task_id`` off 100,000 scattered objects is mostly cache misses).  Equal tasks
# held as distinct objects are mapped to the first one seen, by task id.  The public helpers still
# take and return sets of tasks.
_Tasks = dict  # {id(canonical task): task}


class _Classification:
    """The 13 task sets of §5.5 plus the map deciding which object stands for each task id."""

    def __init__(self, sets: dict[str, _Tasks], canonical: Mapping[str, Any]) -> None:
        self.sets = sets
        self.canonical = canonical

    def key(self, task: Any) -> int:
        """The key ``task`` has in the sets (any object equal to a classified task gets its key)."""
        return id(self.canonical.get(task.task_id, task))

    def keyed(self, tasks: Iterable) -> _Tasks:
        return {self.key(task): task for task in tasks}

    @classmethod
    def of_sets(cls, set_tasks: Mapping[str, Iterable]) -> _Classification:
        """Re-key sets of tasks given by a caller of the public helpers."""
        canonical: dict[str, Any] = {}
        for tasks in set_tasks.values():
            for task in tasks:
                canonical.setdefault(task.task_id, task)
        classification = cls({}, canonical)
        classification.sets = {key: classification.keyed(tasks) for key, tasks in set_tasks.items()}
        return classification

    def as_sets(self) -> dict[str, set]:
        return {key: set(tasks.values()) for key, tasks in self.sets.items()}


def _keys_not_in(keys: Iterable[int], *others: _Tasks) -> set[int]:
    """The ``keys`` found in none of ``others`` (one C-level pass)."""
    for other in others:
        if other:
            keys = itertools.filterfalse(other.__contains__, keys)
    return set(keys)


def _keep(tasks: _Tasks, keys: AbstractSet[int]) -> _Tasks:
    """The entries of ``tasks`` whose key is in ``keys`` (a subset of its keys); shares ``tasks`` when all are kept."""
    if len(keys) == len(tasks):
        return tasks
    return {key: tasks[key] for key in keys}


def _drop(tasks: _Tasks, keys: AbstractSet[int]) -> _Tasks:
    """The entries of ``tasks`` whose key is not in ``keys``; shares ``tasks`` when none is dropped."""
    if not keys:
        return tasks
    return {key: task for key, task in tasks.items() if key not in keys}


def _partition(worker: Any) -> _Classification:
    """Classify every task the worker reported by the statuses it reported (§5.5)."""
    history = worker._add_task_history
    classification = _partition_history(history, worker._scheduled_tasks)
    if classification is None:
        first_seen: dict[str, Any] = {}
        history = [(first_seen.setdefault(task.task_id, task), status, runnable) for task, status, runnable in history]
        classification = _partition_history(history, first_seen)
    return classification


def _partition_history(history: list, canonical: Mapping[str, Any]) -> _Classification | None:
    """The classification of ``history``, or None if it holds an object that is not ``canonical``'s
    for its task id (then two distinct objects could be one task)."""
    pending_runnable, pending_ext, done, failed, unknown = _by_status(history)
    runnable_left = _keys_not_in(pending_runnable, done)
    ext_left = _keys_not_in(pending_ext, done)
    # A pending task that completed is a pending task with a DONE entry.
    if not pending_ext and len(pending_runnable) - len(runnable_left) == len(done):
        never_pending: set[int] = set()  # the usual case, known without another pass over ``done``
    else:
        never_pending = _keys_not_in(done, pending_runnable, pending_ext)
    completed = _drop(done, never_pending)
    sets: dict[str, _Tasks] = {key: {} for key in _SET_KEYS}
    sets.update(
        completed=completed,
        already_done=_keep(done, never_pending),
        ever_failed=failed,
        failed=_keep(failed, _keys_not_in(failed, completed)),
        scheduling_error=unknown,
        still_pending_ext=_keep(pending_ext, _keys_not_in(ext_left, failed)),
        still_pending_not_ext=_keep(pending_runnable, _keys_not_in(runnable_left, failed)),
    )
    every_task = (done, failed, unknown, sets["still_pending_ext"], sets["still_pending_not_ext"])
    if not all(_canonical_only(tasks, canonical) for tasks in every_task):
        return None
    return _Classification(sets, canonical)


def _canonical_only(tasks: _Tasks, canonical: Mapping[str, Any]) -> bool:
    """Whether every task in ``tasks`` is ``canonical``'s object for its task id.  A few tasks are
    looked up by id; many are counted among the canonical objects instead, which avoids reading
    ``task_id`` off each of them (mostly cache misses when there are 100,000)."""
    if len(tasks) * 8 < len(canonical):
        return all(canonical.get(task.task_id) is task for task in tasks.values())
    return sum(map(tasks.__contains__, map(id, canonical.values()))) == len(tasks)


def _by_status(history: list) -> tuple[_Tasks, _Tasks, _Tasks, _Tasks, _Tasks]:
    """One pass over the history: tasks reported pending (runnable / not), done, failed, unknown."""
    pending_runnable: _Tasks = {}
    pending_ext: _Tasks = {}
    done: _Tasks = {}
    failed: _Tasks = {}
    unknown: _Tasks = {}
    for task, status, runnable in history:
        if status == "PENDING":
            if runnable:
                pending_runnable[id(task)] = task
            else:
                pending_ext[id(task)] = task
        elif status == "DONE":
            done[id(task)] = task
        elif status == "FAILED":
            failed[id(task)] = task
        elif status == "UNKNOWN":
            unknown[id(task)] = task
    return pending_runnable, pending_ext, done, failed, unknown


def _partition_tasks(worker: Any) -> dict[str, set]:
    """The 13 classification sets with only the history-derived ones (§5.5) filled."""
    return _partition(worker).as_sets()


def _root_task(worker: Any) -> Any:
    """The first task the worker reported: the root of the run."""
    return worker._add_task_history[0][0]


def _populate_unknown_statuses(set_tasks: dict[str, set]) -> None:
    """Explain every runnable task left pending by looking at its dependencies."""
    classification = _Classification.of_sets(set_tasks)
    _explain_pending(classification)
    _write_back_explained(classification, set_tasks)


def _write_back_explained(classification: _Classification, set_tasks: dict[str, set]) -> None:
    for key in _EXPLAINED_KEYS:
        set_tasks[key].update(classification.sets[key].values())


def _explain_pending(classification: _Classification) -> None:
    """Fill the upstream_* and not_run sets by walking down from every runnable task left pending."""
    visited: _Tasks = {}
    for key, task in list(classification.sets["still_pending_not_ext"].items()):
        if key not in visited:
            _walk_requirements(classification, task, visited)


def _classify_by_dependency(sets: dict[str, _Tasks], current_key: int, current: Any, dep_key: int) -> None:
    if current_key not in sets["still_pending_not_ext"]:
        return
    if dep_key in sets["ever_failed"] or dep_key in sets["upstream_failure"]:
        sets["upstream_failure"][current_key] = current
    if dep_key in sets["still_pending_ext"] or dep_key in sets["upstream_missing_dependency"]:
        sets["upstream_missing_dependency"][current_key] = current
    if dep_key in sets["run_by_other_worker"] or dep_key in sets["upstream_run_by_other_worker"]:
        sets["upstream_run_by_other_worker"][current_key] = current
    if dep_key in sets["scheduling_error"]:
        sets["upstream_scheduling_error"][current_key] = current


def _finish_classification(sets: dict[str, _Tasks], current_key: int, current: Any) -> None:
    if current_key not in sets["still_pending_not_ext"] or current_key in sets["run_by_other_worker"]:
        return
    if not any(current_key in sets[key] for key in _UPSTREAM_KEYS):
        sets["not_run"][current_key] = current


def _requirements(task: Any) -> Iterator[Any]:
    """Iterator over ``task``'s static requirements; none when ``requires()`` raises (the worker
    already reported such a task as a scheduling error, so the summary must not crash on it)."""
    try:
        return iter(task._requires())
    except Exception:
        return iter(())


def _depth_first_search(set_tasks: dict[str, set], current_task: Any, visited: set) -> None:
    """Classify ``current_task`` and everything it requires that is not in ``visited`` (sets of tasks)."""
    classification = _Classification.of_sets({**set_tasks, "visited": visited})
    visited_keyed = classification.sets.pop("visited")
    _walk_requirements(classification, current_task, visited_keyed)
    visited.update(visited_keyed.values())
    _write_back_explained(classification, set_tasks)


def _walk_requirements(classification: _Classification, current_task: Any, visited: _Tasks) -> None:
    """Post-order walk over static requirements; iterative, so deep chains cannot overflow."""
    sets, key_of = classification.sets, classification.key
    current_key = key_of(current_task)
    visited[current_key] = current_task
    # frame: [key, task, iterator over its requirements, key of the requirement being explored]
    stack = [[current_key, current_task, _requirements(current_task), None]]
    while stack:
        frame = stack[-1]
        if frame[3] is not None:
            _classify_by_dependency(sets, frame[0], frame[1], frame[3])
            frame[3] = None
        dep = next(frame[2], _DONE)
        if dep is _DONE:
            _finish_classification(sets, frame[0], frame[1])
            stack.pop()
            continue
        dep_key = key_of(dep)
        if dep_key in visited:
            _classify_by_dependency(sets, frame[0], frame[1], dep_key)
        else:
            visited[dep_key] = dep
            frame[3] = dep_key
            stack.append([dep_key, dep, _requirements(dep), None])


def _get_external_workers(worker: Any) -> collections.defaultdict:
    """Other workers seen running our scheduled tasks: ``{worker_id: {task, ...}}``."""
    workers: collections.defaultdict = collections.defaultdict(set)
    scheduled = worker._scheduled_tasks
    own_id = worker._id
    idle_responses = [response for response in worker._get_work_response_history if response["task_id"] is None]
    for response in idle_responses:
        for running in response["running_tasks"]:
            other, task_id = running["worker"], running["task_id"]
            if other != own_id and task_id in scheduled:
                workers[other].add(scheduled[task_id])
    return workers


def _get_run_by_other_worker(worker: Any) -> set:
    """Every task of ours that some other worker was running."""
    return set().union(*_get_external_workers(worker).values())


def _classify(worker: Any, external: Mapping[str, set]) -> _Classification:
    """The 13 classification sets of §5.5; ``external`` is ``_get_external_workers(worker)``."""
    classification = _partition(worker)
    classification.sets["run_by_other_worker"] = classification.keyed(set().union(*external.values()))
    _explain_pending(classification)
    return classification


def _classified(worker: Any) -> tuple[dict[str, Collection], collections.defaultdict]:
    """The classification as read-only task collections, and the other workers seen (one scan each)."""
    external = _get_external_workers(worker)
    classification = _classify(worker, external)
    return {key: tasks.values() for key, tasks in classification.sets.items()}, external


def _summary_dict(worker: Any) -> dict[str, set]:
    """The 13 classification sets of §5.5 for this worker's run."""
    return _classify(worker, _get_external_workers(worker)).as_sets()


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
    """Group tasks by family: ``{family: [task, ...]}``.

    Grouped by class first (``type()`` is a C call, ``task_family`` a Python property), then the
    classes' groups are merged by family.
    """
    by_class: dict[type, list] = {}
    for task in task_dict:
        group = by_class.get(type(task))
        if group is None:
            group = by_class[type(task)] = []
        group.append(task)
    families: dict[str, list] = {}
    for group in by_class.values():
        families.setdefault(group[0].task_family, []).extend(group)
    return families


def _get_number_of_tasks(task_dict: dict[str, list]) -> int:
    return sum(len(tasks) for tasks in task_dict.values())


def _get_number_of_tasks_for(status: str, group_tasks: dict[str, dict]) -> int:
    if status == "still_pending":
        return _get_number_of_tasks(group_tasks["still_pending_ext"]) + _get_number_of_tasks(group_tasks["still_pending_not_ext"])
    return _get_number_of_tasks(group_tasks[status])


def _get_comments(group_tasks: dict[str, dict]) -> dict[str, str]:
    """Heading line per status with a non-zero count."""
    return _headings({status: _get_number_of_tasks(families) for status, families in group_tasks.items()})


def _headings(counts: Mapping[str, int]) -> dict[str, str]:
    """Heading line per status with a non-zero count, from the task count of every set."""
    headings = {}
    for status, phrase in _COMMENT_BY_STATUS.items():
        if status == "still_pending":
            count = counts["still_pending_ext"] + counts["still_pending_not_ext"]
        else:
            count = counts[status]
        if count:
            indent = "    " if status in _PENDING_SUB_STATUSES else ""
            headings[status] = f"{indent}* {count} {phrase}:\n"
    return headings


def _ranging_attributes(attributes: set, param_class: Any) -> tuple[Any, Any]:
    """If the values form one contiguous run, return its ``(first, last)``; else ``(None, None)``."""
    values = list(attributes)
    successors = list(map(param_class.next_in_enumeration, values))
    successor_set = set(successors)
    in_first = attributes - successor_set
    in_second = successor_set - attributes
    if len(in_first) == 1 and len(in_second) == 1:
        return next(iter(in_first)), values[successors.index(next(iter(in_second)))]
    return None, None


def _serialize_first_param(task: Any) -> str:
    name, param = task.get_params()[0]
    return param.serialize(getattr(task, name))


def _get_str_one_parameter(tasks: list) -> str:
    """Comma-separated values of a family's single parameter (tasks sorted by ``str``), elided when long."""
    return _one_parameter_text(map(_serialize_first_param, tasks), len(tasks))


# _one_parameter_text stops before a value once the row is past 200 characters, and every value but
# the last adds at least a comma: it never shows more values than this.
_MAX_SHOWN_VALUES = 202


def _one_parameter_text(serialized: Iterable[str], count: int) -> str:
    """The value list of ``_get_str_one_parameter`` from the first serialized values in ``str`` order."""
    row = ""
    for index, value in enumerate(serialized):
        if (len(row) >= 30 and index > 2 and index != count - 1) or len(row) > 200:
            return row + "..."
        row += value
        if index < count - 1:
            row += ","
    return row


def _get_set_of_params(tasks: list) -> dict:
    """``{(name, param): {value, ...}}`` over the tasks of one family."""
    return {param: set(map(operator.attrgetter(param[0]), tasks)) for param in tasks[0].get_params()}


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


class _StrOrder:
    """What a family line needs to know about its tasks in ``str(task)`` order, without sorting them all.

    A family line looks at the first task in that order (its parameters and the length of its
    ``str``), at most the first two tasks, or the first few values of a single parameter.  When all
    tasks are of one class that keeps ``Task``'s ``str`` (``Family(name=value, ...)``), that order
    follows the serialized values (see :func:`_first_by_str`); with exactly one parameter, which is
    significant, the tasks correspond one to one to their values and ``serialize(value) + ")"``
    orders them exactly as ``str`` does, so only the distinct values are serialized, with no
    ``repr`` at all.  Otherwise the tasks are ordered by ``str`` itself, and fully sorted only when
    the line shows more than the first task.
    """

    def __init__(self, tasks: list) -> None:
        self._tasks = tasks
        self._sorted: list | None = None
        self._value_set: set | None = None
        self._keys: list[str] | None = None
        shown = _plain_str_params(tasks) if len(tasks) > 2 else None
        if shown is not None and len(shown) == 1 and len(type(tasks[0]).get_params()) == 1:
            name, param = shown[0]
            values = set(map(operator.attrgetter(name), tasks))
            if len(values) == len(tasks):
                self._value_set = values
                self._keys = list(map(operator.add, map(param.serialize, values), itertools.repeat(")")))
                self.params = type(tasks[0]).get_params()
                self.first_str_len = len(type(tasks[0]).get_task_family()) + len(name) + 2 + len(min(self._keys))
                return
        if len(tasks) <= 2:
            self._sorted = sorted(tasks, key=str)
            self._first = self._sorted[0]
        else:
            self._first = _first_by_str(tasks, shown)
        self.params = self._first.get_params()
        self.first_str_len = len(str(self._first))

    @property
    def first(self) -> Any:
        """The first task in ``str`` order."""
        if self._keys is not None:
            return self.leading(1)[0]
        return self._first

    def leading(self, count: int) -> list:
        """The first ``count`` tasks in ``str`` order."""
        if self._sorted is None:
            self._sorted = sorted(self._tasks, key=str)
        return self._sorted[:count]

    def values(self, name: str) -> set:
        """The distinct values of parameter ``name``."""
        if self._value_set is not None:
            return self._value_set
        return set(map(operator.attrgetter(name), self._tasks))

    def leading_values(self) -> Iterable[str]:
        """Serialized values of the single parameter in ``str`` order, as many as a line can show."""
        if self._keys is not None:
            return [key[:-1] for key in heapq.nsmallest(_MAX_SHOWN_VALUES, self._keys)]
        return map(_serialize_first_param, self.leading(_MAX_SHOWN_VALUES))


def _plain_str_params(tasks: list) -> list[tuple[str, Any]] | None:
    """The significant parameters when all tasks are of one class with ``Task``'s ``str``, which a
    sample confirms is ``Family(name=value, ...)`` over them; else None."""
    cls = type(tasks[0])
    if cls.__str__ is not _task.Task.__str__ or cls.__repr__ is not _task.Task.__repr__:
        return None
    if len(set(map(type, tasks))) != 1:
        return None
    shown = [(name, param) for name, param in cls.get_params() if param.significant]
    sample = tasks[0]
    fields = ", ".join(f"{name}={param.serialize(getattr(sample, name))}" for name, param in shown)
    if str(sample) != f"{cls.get_task_family()}({fields})":
        return None
    return shown


def _first_by_str(tasks: list, shown: list[tuple[str, Any]] | None) -> Any:
    """``min(tasks, key=str)``, calling ``str`` only on the tasks that can come first.

    With the significant parameters ``shown`` (see :func:`_plain_str_params`), ``str(task)`` is a
    constant ``Family(name=`` followed by the first value's serialization and its separator
    (``", "`` or ``")"``).  Let ``m`` be the smallest such separated value: a task whose separated
    value does not start with ``m`` differs from ``m`` at some position where it is greater, so it
    sorts after every task whose value is ``m``.  Only the others need their full ``str``.
    """
    if not shown:
        return min(tasks, key=str)
    name, param = shown[0]
    separator = ", " if len(shown) > 1 else ")"
    keys = list(map(operator.add, map(param.serialize, map(operator.attrgetter(name), tasks)), itertools.repeat(separator)))
    smallest = min(keys)
    return min(itertools.compress(tasks, map(operator.methodcaller("startswith", smallest), keys)), key=str)


def _family_line(family: str, tasks: list) -> str:
    """One summary line describing all tasks of a family in one status (``tasks`` in any order)."""
    count = len(tasks)
    order = _StrOrder(tasks)
    params = order.params
    if not params:
        return f"- {count} {family}()"
    params_len = sum(len(name) for name, _ in params)
    first_str_len = order.first_str_len
    if params_len > 60 or first_str_len > 200 or (count == 2 and len(params) > 1 and (params_len > 40 or first_str_len > 100)):
        return f"- {count} {family}(...)"
    if len(params) == 1:
        name, param = params[0]
        values = order.values(name)
        low, high = _ranging_attributes(values, param)
        if low is not None and high is not None and len(values) > 3:
            text = f"{param.serialize(low)}...{param.serialize(high)}"
        else:
            text = _one_parameter_text(order.leading_values(), count)
        return f"- {count} {family}({name}={text})"
    value_sets = _get_set_of_params(tasks)
    varying = list(_get_unique_param_keys(value_sets))
    if len(varying) == 1:
        name, param = varying[0]
        low, high = _ranging_attributes(value_sets[varying[0]], param)
        if low is not None and high is not None and len(value_sets[varying[0]]) > 2:
            return _get_str_ranging_multiple_parameters(low, high, tasks, varying[0])
    if count == 1:
        return f"- 1 {order.first}"
    if count == 2:
        return "- 2 {} and {}".format(*order.leading(2))
    return f"- {count} {order.first} ..."


def _get_str(task_dict: dict[str, list], extra_indent: bool) -> str:
    """Family lines for one status, truncated after ``summary_length`` lines."""
    summary_length = execution_summary().summary_length
    prefix = " " * (8 if extra_indent else 4)
    lines = []
    for family in sorted(task_dict):
        if 0 < summary_length <= len(lines):
            lines.append(prefix + "...")
            break
        lines.append(prefix + _family_line(family, task_dict[family]))
    return "\n".join(lines)


def _summary_format(set_tasks: Mapping[str, Collection], worker: Any) -> str:
    """The summary body (§5.7) between the banner lines."""
    return _render(set_tasks, _get_external_workers(worker))


def _render(set_tasks: Mapping[str, Collection], external: dict[str, set]) -> str:
    """The summary body from the classification and the other workers seen running our tasks."""
    counts = {status: len(tasks) for status, tasks in set_tasks.items()}
    counted = ("already_done", "completed", "failed", "scheduling_error", "still_pending_ext", "still_pending_not_ext")
    total = sum(counts[key] for key in counted)
    if total == 0:
        return "Did not schedule any tasks"
    headings = _headings(counts)
    text = f"Scheduled {total} tasks of which:\n"
    for status in _ORDERED_STATUSES:
        if status not in headings:
            continue
        text += headings[status]
        if status != "still_pending":
            families = _group_tasks_by_name_and_status(set_tasks[status])
            text += _get_str(families, status in _PENDING_SUB_STATUSES) + "\n"
    if external:
        text += "\nThe other workers were:\n"
        for i, (worker_id, tasks) in enumerate(external.items()):
            if 3 < i < len(external) - 1:
                text += f"    and {len(external) - i} other workers"
                break
            text += f"    - {worker_id} ran {len(tasks)} tasks\n"
        text += "\n"
    if not counts["completed"] and not counts["failed"]:
        if not external:
            text += "\n"
        text += "Did not run any tasks"
    return text + "\n" + _create_one_line_summary(_tasks_status(set_tasks))


def _summary_wrap(str_output: str) -> str:
    return "\n===== Luigi Execution Summary =====\n\n" + str_output + "\n\n===== Luigi Execution Summary =====\n"


def summary(worker: Any) -> str:
    """The full wrapped summary text for a worker's run."""
    return _summary_wrap(_render(*_classified(worker)))
