"""The scheduler: the state machine workers talk to, in-process or behind ``luigid``.

It keeps task records (status, dependencies, priorities, resources, interested workers), hands
out work (``get_work``), tracks worker liveness, disables tasks that fail too often and serves the
visualiser's read APIs. All public names, RPC signatures and reply keys follow Luigi 3.8.1.

Unlike Luigi, nothing here walks every task per request: the records are indexed incrementally
(``luigi._scheduler.index``), pruning pops expiry queues (``luigi._scheduler.pruning``) and work
selection uses ready-task heaps (``luigi._scheduler.selection``). Each RPC method states its cost.
Time comes from an injectable clock (``Scheduler(clock=...)``), by default ``time.time`` looked
up at call time through this module, so patching ``time.time`` or ``luigi.scheduler.time`` works.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import logging
import time  # patch point: luigi.scheduler.time
import uuid
from collections import defaultdict
from typing import Any, Callable, Iterable

from luigi import configuration, notifications, parameter  # noqa: F401  (module attributes used as patch points)
from luigi import task_history as history
from luigi._scheduler import pruning, reports, selection, views
from luigi._scheduler.constants import (
    STATUS_TO_UPSTREAM_MAP,
    UPSTREAM_DISABLED,
    UPSTREAM_FAILED,
    UPSTREAM_MISSING_INPUT,
    UPSTREAM_RUNNING,
    UPSTREAM_SEVERITY_KEY,
    UPSTREAM_SEVERITY_ORDER,
    WORKER_STATE_ACTIVE,
    WORKER_STATE_DISABLED,
)
from luigi._scheduler.records import (
    _NO_PARAMS,
    OrderedSet,
    RetryPolicy,
    Task,
    Worker,
    _get_default,
    _get_empty_retry_policy,
    _retry_policy_fields,
    shared_tuple,
)
from luigi._scheduler.state import SimpleTaskState
from luigi._scheduler.views import TASK_FAMILY_RE
from luigi.batch_notifier import BatchNotifier
from luigi.metrics import MetricsCollectors
from luigi.parameter import ParameterVisibility  # noqa: F401  (Luigi exposes it here)
from luigi.task import Config
from luigi.task_status import (
    BATCH_RUNNING,
    DISABLED,
    DONE,
    FAILED,
    PENDING,
    RUNNING,
    SUSPENDED,
    UNKNOWN,
)

__all__ = [
    "BATCH_RUNNING", "DISABLED", "DONE", "FAILED", "PENDING", "RUNNING", "SUSPENDED", "UNKNOWN",
    "UPSTREAM_RUNNING", "UPSTREAM_MISSING_INPUT", "UPSTREAM_FAILED", "UPSTREAM_DISABLED",
    "UPSTREAM_SEVERITY_ORDER", "UPSTREAM_SEVERITY_KEY", "STATUS_TO_UPSTREAM_MAP",
    "WORKER_STATE_DISABLED", "WORKER_STATE_ACTIVE", "TASK_FAMILY_RE", "RPC_METHODS", "RetryPolicy",
    "rpc_method", "scheduler", "OrderedSet", "Task", "Worker", "SimpleTaskState", "Scheduler",
    "_get_default", "_get_empty_retry_policy", "_retry_policy_fields",
]

logger = logging.getLogger(__name__)

RPC_METHODS: dict[str, Callable] = {}


def rpc_method(**request_args: Any) -> Callable:
    """Register a scheduler method as an RPC endpoint and build its client-side proxy.

    The proxy (stored in ``RPC_METHODS``) sends every parameter, defaults included, through
    ``self._request("/api/<name>", args, **request_args)``; the method itself is returned unchanged.
    """

    def _rpc_method(fn: Callable) -> Callable:
        params = list(inspect.signature(fn).parameters.values())
        assert not any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params), "no *args in RPC methods"
        assert params and params[0].name == "self"
        named = [p for p in params[1:] if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        all_args = [p.name for p in named]
        defaults = {p.name: p.default for p in named if p.default is not p.empty}
        required_args = [name for name in all_args if name not in defaults]
        fn_name = fn.__name__

        @functools.wraps(fn)
        def rpc_func(self: Any, *args: Any, **kwargs: Any) -> Any:
            actual_args = dict(defaults)
            actual_args.update(zip(all_args, args, strict=False))
            actual_args.update(kwargs)
            if not all(name in actual_args for name in required_args):
                raise TypeError(f"{fn_name} takes {len(all_args)} arguments ({len(actual_args)} given)")
            return self._request("/api/" + fn_name, actual_args, **request_args)

        RPC_METHODS[fn_name] = rpc_func
        return fn

    return _rpc_method


class scheduler(Config):
    """``[scheduler]`` options; each may also be given as ``Scheduler(**kwargs)``."""

    retry_delay = parameter.FloatParameter(default=900.0)
    remove_delay = parameter.FloatParameter(default=600.0)
    worker_disconnect_delay = parameter.FloatParameter(default=60.0)
    state_path = parameter.Parameter(default="/var/lib/luigi-server/state.pickle")
    batch_emails = parameter.BoolParameter(default=False, description="Send e-mails in batches rather than immediately")
    disable_window = parameter.IntParameter(default=3600)
    retry_count = parameter.IntParameter(default=999999999)
    disable_hard_timeout = parameter.IntParameter(default=999999999)
    disable_persist = parameter.IntParameter(default=86400)
    max_shown_tasks = parameter.IntParameter(default=100000)
    max_graph_nodes = parameter.IntParameter(default=100000)
    record_task_history = parameter.BoolParameter(default=False)
    prune_on_get_work = parameter.BoolParameter(default=False)
    pause_enabled = parameter.BoolParameter(default=True)
    send_messages = parameter.BoolParameter(default=True)
    metrics_collector = parameter.EnumParameter(enum=MetricsCollectors, default=MetricsCollectors.default)
    metrics_custom_import = parameter.OptionalStrParameter(default=None)
    stable_done_cooldown_secs = parameter.IntParameter(
        default=10, description="Seconds after a task became DONE during which PENDING reports are ignored")
    # Our additions, read by luigi.server and luigi.rpc (declared so they are not reported unconsumed).
    auth_token = parameter.OptionalStrParameter(
        default=None, visibility=parameter.ParameterVisibility.PRIVATE,
        description="Shared secret luigid requires in the X-Luigi-Scheduler-Token header (off when unset)")
    max_request_body_bytes = parameter.IntParameter(
        default=16 * 1024 * 1024, description="Largest RPC request body luigid accepts (413 above it)")

    def _get_retry_policy(self) -> RetryPolicy:
        return RetryPolicy(self.retry_count, self.disable_hard_timeout, self.disable_window)


def _decrease(resources: dict, decrease_resources: dict) -> None:
    for name, amount in decrease_resources.items():
        if amount > 0 and name in resources:
            resources[name] = max(0, resources[name] - amount)


class Scheduler:
    """Scheduler state machine; RPC methods are callable in-process or over HTTP (``luigid``)."""

    def __init__(self, config: Any = None, resources: dict | None = None, task_history_impl: Any = None,
                 *, clock: Callable[[], float] | None = None, **kwargs: Any) -> None:
        self._config = config or scheduler(**kwargs)
        self._clock = clock
        self._state = SimpleTaskState(self._config.state_path, clock_fn=self._now)
        if task_history_impl:
            self._task_history = task_history_impl
        elif self._config.record_task_history:
            from luigi import db_task_history

            self._task_history = db_task_history.DbTaskHistory()
        else:
            self._task_history = history.NopHistory()
        self._resources = resources or configuration.get_config().getintdict("resources")
        self._default_retry_policy = self._config._get_retry_policy()
        self._retry_policies: dict[tuple, RetryPolicy] = {}
        self._last_retry_policy: tuple | None = None  # (reported dict, config values, its copy, policy)
        self._worker_requests: dict = {}
        self._paused = False
        if self._config.batch_emails:
            self._email_batcher = BatchNotifier()
        self._state._metrics_collector = MetricsCollectors.get(
            self._config.metrics_collector, self._config.metrics_custom_import)

    def _now(self) -> float:
        # ``time`` is this module's global: patching ``luigi.scheduler.time`` is honoured, as in
        # ``_clock.now()``, without its module lookup.
        return self._clock() if self._clock is not None else time.time()

    # ------------------------------------------------------------------ lifecycle
    def load(self) -> None:
        self._state.load()

    def dump(self) -> None:
        self._state.dump()
        if self._config.batch_emails:
            self._email_batcher.send_email()

    @property
    def task_history(self) -> Any:
        return self._task_history

    # ------------------------------------------------------------------ RPC: maintenance
    @rpc_method()
    def prune(self) -> None:
        """Drop dead workers, fail their tasks, re-enable/retry/remove due tasks.

        O(workers + running + k log n) for the k tasks whose deadline passed.
        """
        now = self._now()
        pruning.prune_workers(self._state, self._config, now)
        pruning.prune_tasks(self._state, self._config, now)
        self._prune_emails()

    def _prune_workers(self) -> None:
        pruning.prune_workers(self._state, self._config)

    def _prune_tasks(self) -> None:
        pruning.prune_tasks(self._state, self._config)

    def _prune_emails(self) -> None:
        if self._config.batch_emails:
            self._email_batcher.update()

    def _update_worker(self, worker_id: str, worker_reference: Any = None, get_work: bool = False,
                       now: float | None = None) -> Worker:
        state = self._state
        worker = state._active_workers.get(worker_id) or state.get_worker(worker_id)
        worker.update(worker_reference, get_work, self._now() if now is None else now)
        state.mark_worker(worker_id)
        return worker

    def _update_priority(self, task: Task, prio: Any, worker: str, deps_settled: bool = False) -> None:
        """Raise ``task`` and its known transitive deps to at least ``prio`` (``reports.raise_priority``)."""
        reports.raise_priority(self._state, task, prio, deps_settled)

    def _generate_retry_policy(self, task_retry_policy_dict: dict | None) -> RetryPolicy:
        """Config defaults overlaid with the task's non-None values.

        Policies are cached per (config values, reported dict): workers send the same dict for
        every task of a class, and tasks then share one tuple.
        """
        config = self._config
        values = (config.retry_count, config.disable_hard_timeout, config.disable_window)
        last = self._last_retry_policy
        if last is not None and last[0] is task_retry_policy_dict and last[1] == values \
                and last[2] == task_retry_policy_dict:
            return last[3]  # workers send one shared dict per policy: skip rebuilding the cache key
        try:
            key = (values, tuple(task_retry_policy_dict.items())) if task_retry_policy_dict else values
            policy = self._retry_policies.get(key)
        except TypeError:  # an unhashable value: no caching
            key, policy = None, None
        if policy is None:
            merged = dict(zip(_retry_policy_fields, values, strict=True))
            merged.update((k, v) for k, v in (task_retry_policy_dict or {}).items() if v is not None)
            policy = RetryPolicy(**merged)
            if key is not None:
                if len(self._retry_policies) > 1024:
                    self._retry_policies.clear()
                self._retry_policies[key] = policy
        if key is not None and task_retry_policy_dict:
            self._last_retry_policy = (task_retry_policy_dict, values, dict(task_retry_policy_dict), policy)
        return policy

    @rpc_method()
    def add_task_batcher(self, worker: str, task_family: str, batched_args: list,
                         max_batch_size: float = float("inf")) -> None:
        """Register which params of a family ``worker`` can batch. O(1)."""
        self._state.set_batcher(worker, task_family, batched_args, max_batch_size)

    @rpc_method()
    def forgive_failures(self, task_id: str | None = None) -> dict:
        """FAILED -> PENDING right away. O(1)."""
        task = self._state.get_task(task_id)
        if task is None:
            return {"task_id": task_id, "status": None}
        if task.status == FAILED:
            self._update_task_history(task, PENDING)
            self._state.set_status(task, PENDING, self._config)
        return {"task_id": task_id, "status": task.status}

    @rpc_method()
    def mark_as_done(self, task_id: str | None = None) -> dict:
        """RUNNING/FAILED/DISABLED -> DONE. O(1 + dependents made ready)."""
        task = self._state.get_task(task_id)
        if task is None:
            return {"task_id": task_id, "status": None}
        if task.status in (RUNNING, FAILED, DISABLED):
            self._update_task_history(task, DONE)
            self._state.set_status(task, DONE, self._config)
        return {"task_id": task_id, "status": task.status}

    # ------------------------------------------------------------------ RPC: add_task
    @rpc_method()
    def add_task(self, task_id: str | None = None, status: str = PENDING, runnable: bool = True,
                 deps: list | None = None, new_deps: list | None = None, expl: str | None = None,
                 resources: dict | None = None, priority: float = 0, family: str = "", module: str | None = None,
                 params: dict | None = None, param_visibilities: dict | None = None, accepts_messages: bool = False,
                 assistant: bool = False, tracking_url: str | None = None, worker: str | None = None,
                 batchable: bool | None = None, batch_id: str | None = None, retry_policy_dict: dict | None = None,
                 owners: list | None = None, **kwargs: Any) -> None:
        """Create/update a task record as reported by a worker (spec §12).

        O(|deps| + |workers| + tasks whose priority is raised + dependents made ready/unready).
        """
        assert worker is not None
        worker_id = worker
        state = self._state
        now = self._now()
        worker = self._update_worker(worker_id, None, False, now)  # positional: no keyword dict per report
        resources = resources.copy() if resources else _NO_PARAMS  # never mutated in place
        retry_policy = self._generate_retry_policy(retry_policy_dict or _NO_PARAMS)

        task = state._tasks.get(task_id)
        if task is None:
            if worker.disabled:
                return
            task = self._new_task(task_id, PENDING, deps, priority, now, resources, family, module,
                                  params or _NO_PARAMS, param_visibilities or _NO_PARAMS)
            state.add_task_record(task)
        elif task.status != RUNNING and worker.disabled:
            return

        if status == PENDING and task.status == DONE and now - task.updated < self._config.stable_done_cooldown_secs:
            return

        state.defer_refresh(task)
        deps_changed = False
        try:
            reports.fill_in_details(task, family, module, params, param_visibilities)
            reports.take_fields(state, task, worker_id, status, batch_id, accepts_messages, tracking_url, batchable,
                                expl, now)

            running_elsewhere = task.status in (RUNNING, BATCH_RUNNING) and (
                status not in (DONE, FAILED, RUNNING) or task.worker_running != worker_id)
            if not running_elsewhere or new_deps:
                if (status != task.status or status == PENDING) and type(self._task_history) is not history.NopHistory:
                    self._update_task_history(task, status)
                state.set_status(task, PENDING if status == SUSPENDED else status, self._config, now)

            if status == FAILED and self._config.batch_emails:
                self._batch_failure_email(task, worker_id, family, expl, owners)

            deps_changed = reports.adopt_deps(task, deps, new_deps)
            task.resources = resources

            # A repeated report (same deps) from a worker that already walked this dependency set,
            # while no record was removed: the deps already have it as stakeholder and at least
            # this task's priority, so the walks over them (a fan-in root has one dependency per
            # leaf) can be skipped. ``deps_walked``: workers that walked the current dependency set.
            walked = task.deps_walked
            deps_settled = walked is not None and worker_id in walked and state.task_removals == 0
            if not worker.disabled and not assistant:
                task.stakeholders.add(worker_id)
                if task.deps and not deps_settled:
                    self._add_dep_stakeholders(task, worker_id, priority, deps if deps and not new_deps else task.deps)
                    task.deps_walked = shared_tuple((walked or ()) + (worker_id,))
            reports.raise_priority(state, task, priority, deps_settled)
            task.retry_policy = retry_policy
            if runnable and status != FAILED and not worker.disabled:
                task.workers.add(worker_id)
                worker.tasks.add(task)
                task.runnable = True
        finally:
            state.end_deferred_refresh(task, deps_changed)

    def _new_task(self, task_id: str, status: str, deps: Any, priority: Any, now: float, resources: dict = _NO_PARAMS,
                  family: str = "", module: str | None = None, params: dict = _NO_PARAMS,
                  param_visibilities: dict = _NO_PARAMS) -> Task:
        """A new record with the configured default retry policy (positional: one per dependency)."""
        return Task(task_id, status, deps, resources, priority, family, module, params, param_visibilities,
                    False, None, None, None, self._default_retry_policy, now)

    def _add_dep_stakeholders(self, task: Task, worker_id: str, priority: Any, dep_ids: Iterable[str]) -> None:
        """Make ``worker_id`` a stakeholder of every dep in ``dep_ids`` (``task.deps``, in the order
        the worker listed them when it did), creating UNKNOWN placeholders as needed.

        Placeholders are created in the worker's order, so equal-priority dependencies run in the
        order ``requires()`` returned them (Luigi walks its dependency set: an order that changes
        with the string hash seed from run to run). That order also lets the per-worker ready
        queues take them in O(1). Existing records are only touched when the worker is new to
        them (no throw-away placeholder per call, unlike Luigi), and a pending removal is
        cancelled because the dependency is referenced again.
        """
        state = self._state
        tasks = state._tasks
        created = []
        for dep_id in dep_ids:
            dep = tasks.get(dep_id)
            if dep is None:
                # Each placeholder reads the clock, as in Luigi: equal-priority deps are then handed
                # out in creation order (earliest ``time`` first).
                dep = tasks[dep_id] = self._new_task(dep_id, UNKNOWN, None, priority, self._now())
                dep.stakeholders.add(worker_id)
                created.append(dep)
            elif worker_id not in dep.stakeholders:
                dep.stakeholders.add(worker_id)
                dep.remove = None
                state.touch_task(dep)
        if created:
            state.add_placeholders(created)  # indexed together, before ``task`` is re-indexed

    def _batch_failure_email(self, task: Task, worker_id: str, family: str, expl: Any, owners: Any) -> None:
        batched_params, _ = self._state.get_batcher(worker_id, family)
        if batched_params:
            unbatched_params = {k: v for k, v in task.params.items() if k not in batched_params}
        else:
            unbatched_params = task.params
        try:
            expl_raw = json.loads(expl)
        except (TypeError, ValueError):
            expl_raw = expl
        owners = owners or ()
        self._email_batcher.add_failure(task.pretty_id, task.family, unbatched_params, expl_raw, owners)
        if task.status == DISABLED:
            self._email_batcher.add_disable(task.pretty_id, task.family, unbatched_params, owners)

    @rpc_method()
    def announce_scheduling_failure(self, task_name: str, family: str, params: dict, expl: str, owners: list,
                                    **kwargs: Any) -> None:
        """Queue a scheduling-failure notice for the batch e-mail (no-op without batch_emails). O(|params|)."""
        if not self._config.batch_emails:
            return
        worker_id = kwargs["worker"]
        batched_params, _ = self._state.get_batcher(worker_id, family)
        if batched_params:
            unbatched_params = {k: v for k, v in params.items() if k not in batched_params}
        else:
            unbatched_params = params
        self._email_batcher.add_scheduling_fail(task_name, family, unbatched_params, expl, owners or ())

    # ------------------------------------------------------------------ RPC: workers
    @rpc_method()
    def add_worker(self, worker: str, info: Any, **kwargs: Any) -> None:
        """Merge ``info`` into the worker record. O(|info|)."""
        record = self._state.get_worker(worker)
        record.add_info(info)
        self._state.touch_worker(record)

    @rpc_method()
    def disable_worker(self, worker: str) -> None:
        """Stop giving work to ``worker``. O(tasks it offered to run)."""
        self._state.disable_workers({worker})

    @rpc_method()
    def set_worker_processes(self, worker: str, n: int) -> None:
        """Ask ``worker`` (at its next ping) to run ``n`` processes. O(1)."""
        record = self._state.get_worker(worker)
        record.add_rpc_message("set_worker_processes", n=n)
        self._state.touch_worker(record)

    @rpc_method()
    def send_scheduler_message(self, worker: str, task: str, content: str) -> dict:
        """Queue a message for a running task, delivered through ``worker``'s ping. O(1)."""
        if not self._config.send_messages:
            return {"message_id": None}
        message_id = str(uuid.uuid4())
        record = self._state.get_worker(worker)
        record.add_rpc_message("dispatch_scheduler_message", task_id=task, message_id=message_id, content=content)
        self._state.touch_worker(record)
        return {"message_id": message_id}

    @rpc_method()
    def add_scheduler_message_response(self, task_id: str, message_id: str, response: Any) -> None:
        """Store a task's answer to a scheduler message. O(1)."""
        task = self._state.get_task(task_id)
        if task is not None:
            task.scheduler_message_responses[message_id] = response
            self._state.mark_task(task_id)

    @rpc_method()
    def get_scheduler_message_response(self, task_id: str, message_id: str) -> dict:
        """Pop a stored answer. O(1)."""
        response = None
        task = self._state.get_task(task_id)
        if task is not None:
            response = task.scheduler_message_responses.pop(message_id, None)
            self._state.mark_task(task_id)
        return {"response": response}

    @rpc_method()
    def has_task_history(self) -> bool:
        """O(1)."""
        return self._config.record_task_history

    @rpc_method()
    def is_pause_enabled(self) -> dict:
        """O(1)."""
        return {"enabled": self._config.pause_enabled}

    @rpc_method()
    def is_paused(self) -> dict:
        """O(1)."""
        return {"paused": self._paused}

    @rpc_method()
    def pause(self) -> None:
        """Stop handing out new work (when pause is enabled). O(1)."""
        if self._config.pause_enabled:
            self._paused = True

    @rpc_method()
    def unpause(self) -> None:
        """O(1)."""
        if self._config.pause_enabled:
            self._paused = False

    @rpc_method()
    def update_resources(self, **resources: Any) -> None:
        """Merge resource limits. O(|resources|)."""
        if self._resources is None:
            self._resources = {}
        self._resources.update(resources)

    @rpc_method()
    def update_resource(self, resource: str, amount: Any) -> bool:
        """Set one resource limit; non-negative ints only (booleans rejected, unlike Luigi). O(1)."""
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
            return False
        self._resources[resource] = amount
        return True

    # ------------------------------------------------------------------ RPC: work
    def _schedulable(self, task: Task) -> bool:
        if task.status != PENDING:
            return False
        tasks = self._state._tasks
        for dep_id in task.deps:
            dep = tasks.get(dep_id)
            if dep is None or dep.status != DONE:
                return False
        return True

    def _has_resources(self, needed: dict | None, used: dict) -> bool:
        if needed is None:
            return True
        available = self._resources or {}
        for name, amount in needed.items():
            if amount + used[name] > available.get(name, 1):
                return False
        return True

    def _used_resources(self) -> dict:
        """Resources held by RUNNING tasks (a batch counts once, via its representative). O(running)."""
        used: dict = defaultdict(int)
        if self._resources is not None:
            for task in self._state._status_tasks[RUNNING].values():
                held = getattr(task, "resources_running", None)
                for name, amount in (task.resources if held is None else held).items():
                    used[name] += amount
        return used

    def _rank(self, task: Task) -> tuple:
        return task.priority, -task.time

    def _reset_orphaned_batch_running_tasks(self, worker_id: str) -> None:
        selection.reset_orphaned_batch_running_tasks(self._state, worker_id)

    @rpc_method()
    def count_pending(self, worker: str) -> dict:
        """Pending/unique/last-scheduled counts and running tasks of ``worker``.

        O(running tasks of the worker), plus O(tasks blocked by DISABLED tasks) when any task is
        DISABLED (Luigi walks the upstream graph of every pending task).
        """
        return self._count_pending(self._state.get_worker(worker))

    def _count_pending(self, record: Worker) -> dict:
        state = self._state
        running_tasks = []
        slot = state._index.workers.get(record.id)
        for task in slot.offered_running.values() if slot is not None else ():
            other = state._active_workers.get(task.worker_running)
            info = other.info if other is not None else {}
            running_tasks.append({"task_id": task.id, "worker": str(task.worker_running), **info})
        pending, unique, last = state._index.pending_counts(record.id)
        return {
            "n_pending_tasks": pending,
            "n_unique_pending": unique,
            "n_pending_last_scheduled": last,
            "worker_state": WORKER_STATE_DISABLED if record.disabled else WORKER_STATE_ACTIVE,
            "running_tasks": running_tasks,
        }

    @rpc_method(allow_null=False)
    def get_work(self, host: str | None = None, assistant: bool = False, current_tasks: list | None = None,
                 worker: str | None = None, **kwargs: Any) -> dict:
        """Hand ``worker`` its next task or batch (spec §16).

        Trivial workers: amortised O(log n). Workers with resource-needing tasks and assistants:
        O(k log n) for the k higher-ranked ready/running tasks visited before a pick.
        """
        if self._config.prune_on_get_work:
            self.prune()
        assert worker is not None
        worker_id = worker
        now = self._now()
        record = self._update_worker(worker_id, {"host": host}, True, now)
        if record.disabled:
            return {"n_pending_tasks": 0, "running_tasks": [], "task_id": None, "n_unique_pending": 0,
                    "worker_state": record.state}
        if assistant:
            self.add_worker(worker_id, [("assistant", assistant)])

        best = None
        if current_tasks is not None:
            best = selection.lost_task(self._state, worker_id, current_tasks)
            self._reset_orphaned_batch_running_tasks(worker_id)
        if best is not None:
            chosen = selection.Selection(best)
        elif self._paused:
            chosen = selection.Selection()
        else:
            chosen = selection.select(self, record, assistant)

        reply = self._count_pending(record)
        if len(chosen.batched_tasks) > 1:
            self._dispatch_batch(chosen, worker_id, reply)
        elif chosen.best_task is not None:
            self._dispatch_task(chosen.best_task, worker_id, host, reply, now)
        else:
            reply["task_id"] = None
        return reply

    def _dispatch_batch(self, chosen: selection.Selection, worker_id: str, reply: dict) -> None:
        best = chosen.best_task
        batch_string = "|".join(task.id for task in chosen.batched_tasks)
        batch_id = hashlib.md5(batch_string.encode("utf-8")).hexdigest()
        for task in chosen.batched_tasks:
            self._state.set_batch_running(task, batch_id, worker_id)
        combined_params = best.params.copy()
        combined_params.update(chosen.batched_params)
        reply["task_id"] = None
        reply["task_family"] = best.family
        reply["task_module"] = getattr(best, "module", None)
        reply["task_params"] = combined_params
        reply["batch_id"] = batch_id
        reply["batch_task_ids"] = [task.id for task in chosen.batched_tasks]

    def _dispatch_task(self, task: Task, worker_id: str, host: str | None, reply: dict, now: float) -> None:
        state = self._state
        state._metrics_collector.handle_task_started(task)
        reports.start_running(state, task, worker_id, self._config, now)
        if type(self._task_history) is not history.NopHistory:
            self._update_task_history(task, RUNNING, host=host)
        reply["task_id"] = task.id
        reply["task_family"] = task.family
        reply["task_module"] = getattr(task, "module", None)
        reply["task_params"] = task.params

    @rpc_method(attempts=1)
    def ping(self, **kwargs: Any) -> dict:
        """Keep-alive; returns queued messages for the worker. O(messages)."""
        worker = self._update_worker(kwargs["worker"])
        return {"rpc_messages": worker.fetch_rpc_messages()}

    # ------------------------------------------------------------------ RPC: read APIs
    def _upstream_status(self, task_id: str, upstream_status_table: dict) -> str | None:
        return views.upstream_status(self._state._tasks, task_id, upstream_status_table)

    def _serialize_task(self, task_id: str, include_deps: bool = True, deps: Any = None) -> dict:
        task = self._state.get_task(task_id)
        return views.serialize_task(task, self._config.send_messages, include_deps, deps)

    def _filter_done(self, task_ids: Any) -> Any:
        return views.filter_done(self._state._tasks, task_ids)

    def _traverse_graph(self, root_task_id: str, seen: set | None = None, dep_func: Callable | None = None,
                        include_done: bool = True) -> dict:
        return views.traverse_graph(self._state._tasks, root_task_id, seen, dep_func or (lambda t: t.deps),
                                    include_done, self._config.max_graph_nodes, self._serialize_task)

    @rpc_method()
    def graph(self, **kwargs: Any) -> dict:
        """Every task with its deps (one traversal per not-yet-seen task). O(tasks + edges)."""
        self.prune()
        serialized: dict = {}
        seen: set = set()
        for task in list(self._state.get_active_tasks()):
            serialized.update(self._traverse_graph(task.id, seen))
        return serialized

    @rpc_method()
    def dep_graph(self, task_id: str, include_done: bool = True, **kwargs: Any) -> dict:
        """Dependencies reachable from ``task_id``. O(result)."""
        self.prune()
        if not self._state.has_task(task_id):
            return {}
        return self._traverse_graph(task_id, include_done=include_done)

    @rpc_method()
    def inverse_dep_graph(self, task_id: str, include_done: bool = True, **kwargs: Any) -> dict:
        """Tasks depending (transitively) on ``task_id``, via the reverse-dependency index. O(result)."""
        self.prune()
        if not self._state.has_task(task_id):
            return {}
        dependents = self._state._index.dependents
        return self._traverse_graph(task_id, dep_func=lambda t: set(dependents(t.id)), include_done=include_done)

    @rpc_method()
    def task_list(self, status: str = "", upstream_status: str = "", limit: bool = True, search: str | None = None,
                  max_shown_tasks: int | None = None, **kwargs: Any) -> dict:
        """Tasks with ``status`` (all if empty), filtered by search terms and upstream status.

        Over the limit without search: O(1) (count from the status index). Otherwise the matching
        ids are collected first and only serialised when they fit: O(tasks with that status).
        """
        count_limit = max_shown_tasks or self._config.max_shown_tasks
        if not search:
            pre_count = self._state.get_active_task_count_for_status(status)
            if limit and pre_count > count_limit:
                return {"num_tasks": -1 if upstream_status else pre_count}
        self.prune()
        terms = None if search is None else [term.casefold() for term in search.split()]
        upstream_table: dict = {}
        tasks = self._state.get_active_tasks_by_status(status) if status else list(self._state.get_active_tasks())
        matching = []
        for task in tasks:
            if terms is not None:
                name = task.pretty_id.casefold()
                if not all(term in name for term in terms):
                    continue
            if task.status != PENDING or not upstream_status \
                    or upstream_status == self._upstream_status(task.id, upstream_table):
                matching.append(task.id)
        if limit and len(matching) > count_limit:
            return {"num_tasks": len(matching)}
        return {task_id: self._serialize_task(task_id, include_deps=False) for task_id in matching}

    def _first_task_display_name(self, worker: Worker) -> str:
        task_id = worker.info.get("first_task", "")
        task = self._state.get_task(task_id) if task_id else None
        return task.pretty_id if task is not None else task_id

    @rpc_method()
    def worker_list(self, include_running: bool = True, **kwargs: Any) -> list:
        """All workers, newest first. O(workers + their running tasks)."""
        self.prune()
        state = self._state
        workers = [
            dict(name=worker.id, last_active=worker.last_active, started=worker.started, state=worker.state,
                 first_task_display_name=self._first_task_display_name(worker),
                 num_unread_rpc_messages=len(worker.rpc_messages), **worker.info)
            for worker in state.get_active_workers()
        ]
        workers.sort(key=lambda w: w["started"], reverse=True)
        if include_running:
            for entry in workers:
                slot = state._index.peek_slot(entry["name"])
                running = list(slot.running.values()) if slot is not None else []
                entry["num_running"] = len(running)
                entry["num_pending"] = slot.counts.get(PENDING, 0) if slot is not None else 0
                entry["num_uniques"] = slot.unique.get(PENDING, 0) if slot is not None else 0
                entry["running"] = {task.id: self._serialize_task(task.id, include_deps=False) for task in running}
        return workers

    @rpc_method()
    def resource_list(self) -> list:
        """Configured resources with their use and consumers. O(resources + running)."""
        self.prune()
        resources = [dict(name=name, num_total=value["total"], num_used=value["used"])
                     for name, value in self.resources().items()]
        if self._resources is not None:
            consumers: dict = defaultdict(dict)
            for task in self._state.get_active_tasks_by_status(RUNNING):
                for name in task.resources or {}:
                    consumers[name][task.id] = self._serialize_task(task.id, include_deps=False)
            for resource in resources:
                tasks = consumers[resource["name"]]
                resource["num_consumer"] = len(tasks)
                resource["running"] = tasks
        return resources

    def resources(self) -> dict:
        """``{name: {"total": limit, "used": held by RUNNING tasks}}``. O(resources + running)."""
        used = self._used_resources()
        result: dict = defaultdict(dict)
        for name, total in (self._resources or {}).items():
            result[name]["total"] = total
            result[name]["used"] = used.get(name, 0)
        return result

    @rpc_method()
    def task_search(self, task_str: str, **kwargs: Any) -> dict:
        """Tasks whose id contains ``task_str``, grouped by status. O(tasks) (a full-text scan)."""
        self.prune()
        result: dict = defaultdict(dict)
        for task in list(self._state.get_active_tasks()):
            if task.id.find(task_str) != -1:
                result[task.status][task.id] = self._serialize_task(task.id, include_deps=False)
        return result

    @rpc_method()
    def re_enable_task(self, task_id: str) -> dict:
        """Scheduler-DISABLED -> FAILED (retried after retry_delay). O(1)."""
        serialized: dict = {}
        task = self._state.get_task(task_id)
        if task is not None and task.status == DISABLED and task.scheduler_disable_time:
            self._state.re_enable(task, self._config)
            serialized = self._serialize_task(task_id)
        return serialized

    @rpc_method()
    def fetch_error(self, task_id: str, **kwargs: Any) -> dict:
        """Last error text of a task. O(1)."""
        task = self._state.get_task(task_id)
        if task is None:
            return {"taskId": task_id, "error": ""}
        return {"taskId": task_id, "error": task.expl, "displayName": task.pretty_id, "taskParams": task.params,
                "taskModule": task.module, "taskFamily": task.family}

    @rpc_method()
    def set_task_status_message(self, task_id: str, status_message: str) -> None:
        """O(1 + batch members)."""
        self._set_running_field(task_id, "status_message", status_message)

    @rpc_method()
    def get_task_status_message(self, task_id: str) -> dict:
        """O(1)."""
        task = self._state.get_task(task_id)
        return {"taskId": task_id, "statusMessage": task.status_message if task is not None else ""}

    @rpc_method()
    def set_task_progress_percentage(self, task_id: str, progress_percentage: Any) -> None:
        """O(1 + batch members)."""
        self._set_running_field(task_id, "progress_percentage", progress_percentage)

    def _set_running_field(self, task_id: str, attribute: str, value: Any) -> None:
        task = self._state.get_task(task_id)
        if task is None:
            return
        setattr(task, attribute, value)
        self._state.mark_task(task_id)
        if task.status == RUNNING:
            reports.copy_to_batch(self._state, task, attribute, value)

    @rpc_method()
    def get_task_progress_percentage(self, task_id: str) -> dict:
        """O(1)."""
        task = self._state.get_task(task_id)
        return {"taskId": task_id, "progressPercentage": task.progress_percentage if task is not None else None}

    @rpc_method()
    def decrease_running_task_resources(self, task_id: str, decrease_resources: dict) -> None:
        """Release part of a running task's resources (and its batch members'). O(1 + members)."""
        task = self._state.get_task(task_id)
        if task is None or task.status != RUNNING:
            return
        held = getattr(task, "resources_running", None)
        if held is None:
            held = task.resources_running = dict(task.resources)
        _decrease(held, decrease_resources)
        self._state.mark_task(task_id)
        if task.batch_id is not None:
            for member in self._state.get_batch_running_tasks(task.batch_id):
                member_held = getattr(member, "resources_running", None)
                if member_held is not None:
                    _decrease(member_held, decrease_resources)
                    self._state.mark_task(member.id)

    @rpc_method()
    def get_running_task_resources(self, task_id: str) -> dict:
        """O(1)."""
        task = self._state.get_task(task_id)
        held = getattr(task, "resources_running", None) if task is not None else None
        return {"taskId": task_id, "resources": held}

    @rpc_method()
    def update_metrics_task_started(self, task: Any) -> None:
        """Report a task start to the metrics collector. O(1).

        Over HTTP a task id (string) is accepted and resolved; other non-record values are ignored
        instead of reaching the collector (Luigi passes whatever arrived).
        """
        if isinstance(task, str):
            task = self._state.get_task(task)
        if isinstance(task, Task):
            self._state._metrics_collector.handle_task_started(task)

    @rpc_method()
    def report_task_statistics(self, task_id: str, statistics: Any) -> None:
        """O(1)."""
        task = self._state.get_task(task_id)
        if task is not None:
            self._state._metrics_collector.handle_task_statistics(task, statistics)

    # ------------------------------------------------------------------ history
    def _update_task_history(self, task: Task, status: str, host: str | None = None) -> None:
        try:
            if status in (DONE, FAILED):
                self._task_history.task_finished(task, status == DONE)
            elif status == PENDING:
                self._task_history.task_scheduled(task)
            elif status == RUNNING:
                self._task_history.task_started(task, host)
        except BaseException:
            logger.warning("Error saving Task history", exc_info=True)
