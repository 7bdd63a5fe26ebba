# cython: auto_pickle=False
# (compiled build: TaskRecord must pickle the way plain Python does, see Task.__reduce_ex__)
"""Scheduler-side records: ``OrderedSet``, ``RetryPolicy``, ``Task`` and ``Worker``.

The classes present themselves as members of :mod:`luigi.scheduler` (``__module__``) so pickled
state files name the same classes as Luigi's, and ``OrderedSet`` pickles in Luigi's linked-list
layout, which keeps ``state_path`` files interchangeable with Luigi 3.8.1.

Records are attribute bags (``Task`` uses ``__slots__`` to stay small: see its docstring); every
mutation made by the scheduler is followed by a ``SimpleTaskState.touch_task``/``touch_worker``
call, which refreshes the indexes and marks the record dirty for the durable store. A change of
``Task.deps`` must be announced (``end_deferred_refresh(task, deps_changed=True)``): the indexes
do not re-compare dependency sets on every refresh. ``to_record``/``from_record`` give the JSON
form used by that store.
"""

from __future__ import annotations

import collections
import collections.abc
import copyreg
from typing import Any, Iterable, Iterator

from luigi._scheduler import clock
from luigi._scheduler.constants import WORKER_STATE_ACTIVE, WORKER_STATE_DISABLED

_PUBLIC_MODULE = "luigi.scheduler"

_retry_policy_fields = ["retry_count", "disable_hard_timeout", "disable_window"]
RetryPolicy = collections.namedtuple("RetryPolicy", _retry_policy_fields)
RetryPolicy.__module__ = _PUBLIC_MODULE


def _get_empty_retry_policy() -> RetryPolicy:
    return RetryPolicy(*[None] * len(_retry_policy_fields))


def _get_default(x: Any, default: Any) -> Any:
    return default if x is None else x


_SMALL_SET = 8  # up to this many members a compact set is a shared tuple
_SHARED_TUPLE_LIMIT = 4096
_shared_tuples: dict[tuple, tuple] = {}


def shared_tuple(items: tuple) -> tuple:
    """One tuple object per distinct small member list: millions of tasks have the same one or
    two worker ids as workers/stakeholders, and then hold a pointer instead of a hash table."""
    try:
        shared = _shared_tuples.get(items)
    except TypeError:  # unhashable members: not shareable
        return items
    if shared is None:
        if len(_shared_tuples) >= _SHARED_TUPLE_LIMIT:
            _shared_tuples.clear()
        shared = _shared_tuples[items] = items
    return shared


class _CompactSet(collections.abc.MutableSet):
    """Insertion-ordered mutable set that is a shared tuple while it has at most ``_SMALL_SET``
    members (O(size) add/discard, size <= 8) and a dict beyond (O(1) add/discard).

    Scheduler records hold two of these per task (``workers`` and ``stakeholders``); a Python
    set or dict costs over 200 bytes even with one member, the shared tuple costs nothing.
    """

    __slots__ = ("_items",)

    def __init__(self, iterable: Iterable | None = None) -> None:
        self._items: tuple | dict = ()
        if iterable is not None:
            self._reset(iterable)

    @classmethod
    def _from_iterable(cls, iterable: Iterable) -> _CompactSet:
        return cls(iterable)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator:
        return iter(self._items)

    def __reversed__(self) -> Iterator:
        return reversed(self._items)

    def add(self, key: Any) -> None:
        items = self._items
        if type(items) is tuple:
            if key in items:
                return
            if len(items) < _SMALL_SET:
                self._items = shared_tuple(items + (key,))
                return
            items = self._items = dict.fromkeys(items)
        items.setdefault(key, None)

    def discard(self, key: Any) -> None:
        items = self._items
        if type(items) is tuple:
            if key in items:
                self._items = shared_tuple(tuple(member for member in items if member != key))
        else:
            items.pop(key, None)

    __hash__ = None  # mutable

    def _reset(self, keys: Iterable) -> None:
        self._items = ()
        for key in keys:
            self.add(key)


class OrderedSet(_CompactSet):
    """Insertion-ordered set (Luigi's ``OrderedSet``); ``peek``/``pop`` take the newest or oldest."""

    __slots__ = ()

    def peek(self, last: bool = True) -> Any:
        items = self._items
        if not items:
            raise KeyError("set is empty")
        if type(items) is tuple:
            return items[-1] if last else items[0]
        return next(reversed(items)) if last else next(iter(items))

    def pop(self, last: bool = True) -> Any:
        key = self.peek(last)
        self.discard(key)
        return key

    def __repr__(self) -> str:
        if not self._items:
            return f"{self.__class__.__name__}()"
        return f"{self.__class__.__name__}({list(self)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, OrderedSet):
            return len(self) == len(other) and list(self) == list(other)
        return set(self) == set(other) if isinstance(other, collections.abc.Set) else NotImplemented

    __hash__ = None  # mutable

    def __getstate__(self) -> dict:
        """Luigi's layout: a circular doubly linked list (``end`` sentinel) plus a ``map``."""
        end: list = [None, None, None]
        end[1] = end[2] = end
        node_map = {}
        for key in self._items:
            last = end[1]
            node = [key, last, end]
            last[2] = end[1] = node_map[key] = node
        return {"end": end, "map": node_map}

    def __setstate__(self, state: dict) -> None:
        self._reset(state["map"].keys() if "map" in state else state.get("_items", {}))


class StakeholderSet(_CompactSet):
    """A task's stakeholder worker ids: a set (equal to sets with the same members) stored
    compactly. Pickled task records carry a plain ``set`` instead (see ``Task.fields``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(set(self._items)) if self._items else "set()"


OrderedSet.__module__ = _PUBLIC_MODULE


_EMPTY_DEPS: frozenset = frozenset()

_TASK_FIELDS = (
    "id", "stakeholders", "workers", "deps", "status", "time", "updated", "retry", "remove", "worker_running",
    "time_running", "expl", "priority", "resources", "family", "module", "param_visibilities", "params",
    "public_params", "hidden_params", "accepts_messages", "retry_policy", "first_failure_time",
    "tracking_url", "status_message", "progress_percentage", "scheduler_message_responses",
    "scheduler_disable_time", "runnable", "batchable", "batch_id", "failures",
    "resources_running",  # a slot left unset until dispatch: absent for getattr/hasattr, as in Luigi
)
_LAZY_FIELDS = ("failures", "scheduler_message_responses")  # properties over slots allocated on first use
_NO_PARAMS: dict = {}  # shared empty dict; records never mutate param/resource dicts in place


# TaskRecord's fields (records.pxd declares the same names): the non-lazy fields but the one that
# starts unset, plus the storage behind the lazy properties of ``Task``.
_RECORD_SLOTS = tuple(name for name in _TASK_FIELDS if name not in _LAZY_FIELDS and name != "resources_running") + (
    "_failures", "_message_responses", "_deps_walked")


class TaskRecord:
    """The fields of a scheduler task record and their initialisation (``Task`` adds the rest).

    In the compiled build this is a C struct (``records.pxd``), so code that declares a variable
    of this type (the scheduler's indexes) reads and writes fields directly instead of through
    the generic attribute lookup; in plain Python it is a ``__slots__`` class of the same fields.
    Rarely used containers are allocated lazily: ``failures`` on first access, a task without
    dependencies shares one empty frozenset as ``deps`` (code adding deps replaces the
    attribute), and ``public_params`` is the ``params`` dict itself when no parameter is hidden.
    """

    __slots__ = _RECORD_SLOTS

    def __init__(
        self,
        task_id: str,
        status: str,
        deps: Iterable[str] | None,
        resources: dict | None = None,
        priority: float = 0,
        family: str = "",
        module: str | None = None,
        params: dict | None = None,
        param_visibilities: dict | None = None,
        accepts_messages: bool = False,
        tracking_url: str | None = None,
        status_message: str | None = None,
        progress_percentage: float | None = None,
        retry_policy: Any = "notoptional",
        now: float | None = None,
    ) -> None:
        created = clock.now() if now is None else now
        self.id = task_id
        self.stakeholders = StakeholderSet()
        self.workers = OrderedSet()
        self.deps = set(deps) if deps else _EMPTY_DEPS
        self.status = status
        self.time = created
        self.updated = created
        self.retry = None
        self.remove = None
        self.worker_running = None
        self.time_running = None
        self.expl = None
        self.priority = priority
        self.resources = _get_default(resources, {})
        self.family = family
        self.module = module
        self.param_visibilities = _get_default(param_visibilities, {})
        self.set_params(params)
        self.accepts_messages = accepts_messages
        self.retry_policy = retry_policy
        self._failures = None
        self.first_failure_time = None
        self.tracking_url = tracking_url
        self.status_message = status_message
        self.progress_percentage = progress_percentage
        self._message_responses = None
        self.scheduler_disable_time = None
        self.runnable = False
        self.batchable = False
        self.batch_id = None

    def set_params(self, params: dict | None) -> None:
        """Store params and split them by visibility (0 public, 1 hidden, 2 private).

        Without hidden/private params ``public_params`` is ``params`` itself (records never mutate
        these dicts in place), which saves a dict per task.
        """
        self.params = params = _get_default(params, {})
        visibilities = self.param_visibilities
        for name in params if visibilities else ():  # a loop: no generator per record
            if visibilities.get(name, 0):
                break
        else:
            self.public_params = params
            self.hidden_params = _NO_PARAMS
            return
        self.public_params = {k: v for k, v in params.items() if visibilities.get(k, 0) == 0}
        self.hidden_params = {k: v for k, v in params.items() if visibilities.get(k, 0) == 1}


class Task(TaskRecord):
    """What the scheduler knows about one task id (hashed by identity).

    Memory matters here (one record per task, millions per scheduler): the fields live in
    ``TaskRecord``'s slots. ``__dict__`` stays available for attributes set later and for unknown
    fields of old state files; ``resources_running`` is a slot left unset until dispatch (absent
    for ``getattr``/``hasattr``, as in Luigi). Pickles carry a plain ``__dict__``-style state, so
    state files stay interchangeable with Luigi's.
    """

    __slots__ = ("resources_running", "__dict__")

    DEFAULT_PRIORITY = 0

    @property
    def deps_walked(self) -> tuple | None:
        """Workers that made themselves stakeholders of every current dependency (scheduler
        bookkeeping, not part of the record's state: None when unknown)."""
        return getattr(self, "_deps_walked", None)

    @deps_walked.setter
    def deps_walked(self, workers: tuple | None) -> None:
        self._deps_walked = workers

    @property
    def failures(self) -> collections.deque:
        """Timestamps of recent failures (the deque is allocated on first use)."""
        failures = self._failures
        if failures is None:
            failures = self._failures = collections.deque()
        return failures

    @failures.setter
    def failures(self, value: Any) -> None:
        self._failures = value

    @property
    def scheduler_message_responses(self) -> dict:
        """Message id -> response from the running task (the dict is allocated on first use)."""
        responses = self._message_responses
        if responses is None:
            responses = self._message_responses = {}
        return responses

    @scheduler_message_responses.setter
    def scheduler_message_responses(self, value: dict) -> None:
        self._message_responses = value

    def fields(self) -> dict:
        """Every field as a dict, like ``vars()`` of Luigi's record (extra attributes included)."""
        values = {name: getattr(self, name) for name in _TASK_FIELDS if name not in _LAZY_FIELDS and hasattr(self, name)}
        # the lazy containers as values, without allocating them on the record
        values["failures"] = self._failures if self._failures is not None else collections.deque()
        values["scheduler_message_responses"] = self._message_responses if self._message_responses is not None else {}
        values.update(self.__dict__)
        if isinstance(values.get("deps"), frozenset):
            values["deps"] = set(values["deps"])  # the shared empty frozenset is an internal detail
        if isinstance(values.get("stakeholders"), StakeholderSet):
            values["stakeholders"] = set(values["stakeholders"])  # Luigi's state files hold a set
        return values

    def __getstate__(self) -> dict:
        return self.fields()

    def __reduce_ex__(self, protocol: int) -> tuple:
        """What ``object`` does for protocol 2 and up, for every protocol: rebuild with
        ``__new__`` then ``__setstate__`` (the compiled ``TaskRecord`` has no default reduce)."""
        return copyreg.__newobj__, (type(self),), self.__getstate__()

    def __setstate__(self, state: dict) -> None:
        self._failures = self._message_responses = None
        for name, value in state.items():
            setattr(self, name, value)
        stakeholders = state.get("stakeholders")
        if stakeholders is not None and not isinstance(stakeholders, StakeholderSet):
            self.stakeholders = StakeholderSet(stakeholders)

    def __repr__(self) -> str:
        return f"Task({self.fields()!r})"

    def is_batchable(self) -> bool:
        return getattr(self, "batchable", False)

    def add_failure(self, now: float | None = None) -> None:
        when = clock.now() if now is None else now
        self.failures.append(when)
        if not self.first_failure_time:
            self.first_failure_time = when

    def num_failures(self, now: float | None = None) -> int:
        failures = self._failures
        if not failures:
            return 0
        when = clock.now() if now is None else now
        min_time = when - self.retry_policy.disable_window
        while failures and failures[0] < min_time:
            failures.popleft()
        return len(failures)

    def has_excessive_failures(self, now: float | None = None) -> bool:
        when = clock.now() if now is None else now
        if self.first_failure_time is not None and when >= self.first_failure_time + self.retry_policy.disable_hard_timeout:
            return True
        return self.num_failures(when) >= self.retry_policy.retry_count

    def clear_failures(self) -> None:
        if self._failures:
            self._failures.clear()
        self.first_failure_time = None

    @property
    def pretty_id(self) -> str:
        param_str = ", ".join(f"{key}={value}" for key, value in sorted(self.public_params.items()))
        return f"{self.family}({param_str})"

    def to_record(self) -> dict:
        """JSON-able snapshot of every field (sets become lists, the retry policy a dict)."""
        record = self.fields()
        record["stakeholders"] = sorted(self.stakeholders)
        record["workers"] = list(self.workers)
        record["deps"] = sorted(self.deps)
        record["failures"] = list(self._failures or ())
        policy = self.retry_policy
        record["retry_policy"] = policy._asdict() if isinstance(policy, tuple) else policy
        for name in ("resources", "params", "public_params", "hidden_params", "param_visibilities"):
            record[name] = dict(record.get(name) or {})
        if "resources_running" in record and record["resources_running"] is not None:
            record["resources_running"] = dict(record["resources_running"])
        record["scheduler_message_responses"] = dict(self._message_responses or {})
        return record

    @classmethod
    def from_record(cls, record: dict) -> Task:
        """Rebuild a record produced by :meth:`to_record`."""
        task = cls.__new__(cls)
        task.__setstate__(record)
        task.stakeholders = StakeholderSet(record.get("stakeholders", ()))
        task.workers = OrderedSet(record.get("workers", ()))
        task.deps = set(record.get("deps", ())) or _EMPTY_DEPS
        task.failures = collections.deque(record.get("failures", ()))
        policy = record.get("retry_policy")
        task.retry_policy = RetryPolicy(**policy) if isinstance(policy, dict) else policy
        if task.params == task.public_params:
            task.public_params = task.params
        return task


Task.__module__ = _PUBLIC_MODULE


class Worker:
    """What the scheduler knows about one worker process."""

    def __init__(self, worker_id: str, last_active: float | None = None, *, now: float | None = None) -> None:
        created = clock.now() if now is None else now
        self.id = worker_id
        self.reference = None
        self.last_active = last_active or created
        self.last_get_work = None
        self.started = created
        self.tasks: set = set()
        self.info: dict = {}
        self.disabled = False
        self.rpc_messages: list = []

    def add_info(self, info: Any) -> None:
        self.info.update(info)

    def update(self, worker_reference: Any, get_work: bool = False, now: float | None = None) -> None:
        when = clock.now() if now is None else now
        if worker_reference:
            self.reference = worker_reference
        self.last_active = when
        if get_work:
            self.last_get_work = when

    def prune(self, config: Any, now: float | None = None) -> bool | None:
        when = clock.now() if now is None else now
        if self.last_active + config.worker_disconnect_delay < when:
            return True
        return None

    def get_tasks(self, state: Any, *statuses: str) -> Iterator[Task]:
        """Live tasks offered by this worker in the given statuses, via the state's per-worker index."""
        return state.worker_tasks_by_status(self.id, statuses)

    def is_trivial_worker(self, state: Any) -> bool:
        """True if none of this worker's PENDING tasks needs resources (assistants never are)."""
        if self.assistant:
            return False
        return not state.worker_has_resource_tasks(self.id)

    @property
    def assistant(self) -> bool:
        return self.info.get("assistant", False)

    @property
    def enabled(self) -> bool:
        return not self.disabled

    @property
    def state(self) -> str:
        return WORKER_STATE_ACTIVE if self.enabled else WORKER_STATE_DISABLED

    def add_rpc_message(self, name: str, **kwargs: Any) -> None:
        self.rpc_messages.append({"name": name, "kwargs": kwargs})

    def fetch_rpc_messages(self) -> list:
        messages = self.rpc_messages[:]
        del self.rpc_messages[:]
        return messages

    def __str__(self) -> str:
        return self.id

    def to_record(self) -> dict:
        """JSON-able snapshot; ``tasks`` is stored as task ids."""
        record = dict(vars(self))
        record["tasks"] = sorted(task.id for task in self.tasks)
        record["info"] = dict(self.info)
        record["rpc_messages"] = list(self.rpc_messages)
        return record

    @classmethod
    def from_record(cls, record: dict, tasks: dict | None = None) -> Worker:
        """Rebuild a record; task ids are resolved against ``tasks`` when given (unknown ids dropped)."""
        worker = cls.__new__(cls)
        worker.__dict__.update(record)
        known = tasks or {}
        worker.tasks = {known[task_id] for task_id in record.get("tasks", ()) if task_id in known}
        worker.info = dict(record.get("info", {}))
        worker.rpc_messages = list(record.get("rpc_messages", ()))
        return worker


Worker.__module__ = _PUBLIC_MODULE
