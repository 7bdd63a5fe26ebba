"""The worker: tells a scheduler about a task graph, then asks it for work and runs what it gets.

When running locally the worker talks to an in-process :class:`luigi.scheduler.Scheduler`; with a
central server it talks to a :class:`luigi.rpc.RemoteScheduler`. Only scheduler methods named in
the worker spec are called, with the same keyword/positional conventions as Luigi, so the worker
is compatible with a real ``luigid`` in either direction.

Differences from Luigi that keep behaviour but remove costs or hangs:

* graph traversal is iterative and linear; subgraphs already reported DONE (or PENDING since the
  last run result) are not re-traversed by later ``add()`` calls, dynamic dependencies or
  reschedules;
* with one worker process the result of a task never touches a pipe (see ``_worker.queues``);
* with several worker processes (or ``force_multiprocessing``) picklable tasks run in reusable
  subprocesses instead of one fork per task (see ``_worker.runners``);
* task subprocesses forward reporter calls and message responses to the worker, which applies
  them, so they reach an in-process scheduler;
* waiting for results also wakes up when a child dies or reaches its timeout; timed-out children
  are killed with their whole process tree (``psutil`` optional); each dead child is reported once;
* parallel completeness checks use one process pool per worker and never hang on unpicklable tasks;
* explanations are always JSON-encodable; exceptions in RPC callbacks do not kill the keep-alive
  thread; only an assistant imports modules named by the scheduler.
* large builds: full garbage collections are paused while ``add()``/``run()`` work (see
  ``_NoFullCollections``), and values the same for every task of a class or retry policy
  (parameter visibilities, retry policy dicts, an empty ``running_tasks`` list) are shared.
"""

from __future__ import annotations

import collections
import collections.abc
import datetime
import gc
import getpass
import importlib
import json
import logging
import multiprocessing
import os
import queue as Queue
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from typing import Any, Callable, Iterator

from luigi import notifications
from luigi._worker import proctree, runners
from luigi._worker.parallel import ParallelChecker
from luigi._worker.queues import ForwardedCall, ResultQueue, current_pid
from luigi.event import Event
from luigi.parameter import (
    BoolParameter,
    FloatParameter,
    IntParameter,
    OptionalParameter,
    Parameter,
    TimeDeltaParameter,
)
from luigi.scheduler import WORKER_STATE_ACTIVE, WORKER_STATE_DISABLED, RetryPolicy, Scheduler
from luigi.target import Target
from luigi.task import Config, DynamicRequirements, Task, flatten
from luigi.task_register import TaskClassException, load_task
from luigi.task_status import DISABLED, DONE, FAILED, PENDING, RUNNING, UNKNOWN

logger = logging.getLogger("luigi-interface")

_LOGGER = logger
_LOGGER_CACHE: dict | None = getattr(logger, "_cache", None)
_DEBUG, _INFO = logging.DEBUG, logging.INFO


def _logs(level: int) -> bool:
    """False when ``logger`` would drop a record of ``level``: ``logger.isEnabledFor(level)``
    answered from the cache that method keeps (``Logger._cache``, emptied in place whenever a
    level changes), without its call into ``logging``.

    For the lines the worker logs for every task (about eight): each costs ~0.2 us even when
    its level is off, a few percent of a large quiet build. No cached answer yet, or a replaced
    ``logger`` (a test's mock), means "log": the call then decides, as it always did.
    """
    return logger is not _LOGGER or _LOGGER_CACHE is None or _LOGGER_CACHE.get(level) is not False


# Held while a task subprocess is forked and during each keep-alive ping, so fork() never
# happens while another thread is inside a C-level network call.
fork_lock = threading.Lock()

_WAIT_INTERVAL_EPS = 0.00001

# Run tasks of workers > 1 / force_multiprocessing in reusable subprocesses (see _worker.runners).
_REUSE_TASK_PROCESSES = True

# Set inside a task subprocess: where SchedulerMessage.respond forwards its call.
_child_result_queue: ResultQueue | None = None


def _is_external(task: Task) -> bool:
    run = task.run
    return run is None or run is NotImplemented


def _get_retry_policy_dict(task: Task) -> dict:
    """The task's retry policy as a dict, shared by all tasks with the same policy (schedulers
    only read it, so one dict per distinct policy replaces one per ``add_task`` call)."""
    cls = type(task)
    if (cls.retry_count is _BASE_RETRY_COUNT and cls.disable_hard_timeout is _BASE_HARD_TIMEOUT
            and cls.disable_window is _BASE_WINDOW):
        key = (None, None, None)  # Task's own properties (instances cannot shadow a property)
    else:
        key = (task.retry_count, task.disable_hard_timeout, task.disable_window)
    try:
        policy = _retry_policy_dicts.get(key)
    except TypeError:  # unhashable override: no caching
        return RetryPolicy(*key)._asdict()
    if policy is None:
        policy = _retry_policy_dicts[key] = RetryPolicy(*key)._asdict()
    return policy


_retry_policy_dicts: dict[tuple, dict] = {}
_PLAIN_TASK_CLASSES: set[type] = set()  # the task registry keeps these classes alive anyway
_BASE_RETRY_COUNT = Task.__dict__["retry_count"]
_BASE_HARD_TIMEOUT = Task.__dict__["disable_hard_timeout"]
_BASE_WINDOW = Task.__dict__["disable_window"]


def _param_visibilities(task: Task) -> dict:
    """``task._get_param_visibilities()``, computed once per task class and shared by its instances.

    The result only depends on the class's parameters and which of them the instance has values
    for (all of them, unless parameters were attached after construction: the key check). The
    shared dict is only read by schedulers, and sharing it keeps one dict per class instead of one
    per task in an in-process scheduler."""
    cls = type(task)
    cached = _param_visibility_cache.get(cls)
    keys = task.param_kwargs.keys()
    if cached is None or cached[0] != keys:
        cached = _param_visibility_cache[cls] = (frozenset(keys), task._get_param_visibilities())
    return cached[1]


_param_visibility_cache: dict[type, tuple[frozenset, dict]] = {}

# Shared "no running tasks" value of work-grant history entries (read-only; saves a list per grant).
_NO_RUNNING_TASKS: list = []
_NO_ATTRIBUTES: dict = {}  # read-only stand-in for the __dict__ of an object without one


class _NoFullCollections:
    """Keeps the cyclic garbage collector from rescanning a large, live task graph.

    While ``add()`` builds the graph and ``run()`` executes it, nearly every object created stays
    alive until the build ends (tasks, their parameters, history entries, scheduler state), yet each
    full (oldest generation) collection rescans all of them: ~10% of a 300k-task build, much of it
    while a root's ``requires()`` creates all its dependencies at once. So for the duration of the
    phase, full collections are switched off by raising the oldest generation's threshold; the
    young generations are still collected, which frees the short-lived cycles a task run may leave.
    The previous thresholds are restored on exit, after which the next full collection happens as
    usual. A worker that keeps running (``keep_alive``, assistants) would otherwise keep cyclic
    garbage that reached the oldest generation until ``run()`` returns, so ``tick()`` (once per
    run-loop turn) makes one full collection every ``FULL_EVERY`` seconds of the phase: a bounded
    cost (about a second per gigabyte of live objects) that a build shorter than that never pays.
    Does nothing when the collector is disabled or its oldest threshold was already changed (by the
    user, or by an outer build running this one inside a task)."""

    _NEVER = 2**30
    FULL_EVERY = 600.0

    __slots__ = ("_saved", "_next_full")

    def __init__(self) -> None:
        self._saved: tuple[int, ...] | None = None
        self._next_full = 0.0

    def __enter__(self) -> _NoFullCollections:
        thresholds = gc.get_threshold()
        if gc.isenabled() and thresholds[2] < self._NEVER:
            self._saved = thresholds
            self._next_full = time.monotonic() + self.FULL_EVERY
            gc.set_threshold(thresholds[0], thresholds[1], self._NEVER)
        return self

    def tick(self) -> None:
        """The periodic full collection of a long phase (see the class docstring)."""
        if self._saved is not None and time.monotonic() >= self._next_full:
            gc.collect()
            self._next_full = time.monotonic() + self.FULL_EVERY

    def __exit__(self, *exc_info: Any) -> None:
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None


class TaskException(Exception):
    """Raised for tasks the worker cannot schedule or whose run left them incomplete."""


GetWorkResponse = collections.namedtuple(
    "GetWorkResponse",
    ("task_id", "running_tasks", "n_pending_tasks", "n_unique_pending", "n_pending_last_scheduled", "worker_state"),
)


class TracebackWrapper:
    """Marks a value as a formatted traceback rather than a completeness result."""

    def __init__(self, trace: str) -> None:
        self.trace = trace


class AsyncCompletionException(Exception):
    """Something went wrong while checking completeness (possibly in another process)."""

    def __init__(self, trace: str) -> None:  # noqa: D107 - base __init__ deliberately not called
        self.trace = trace


class SingleProcessPool:
    """Stand-in for ``multiprocessing.Pool`` that runs each call synchronously."""

    def apply_async(self, function: Callable, args: tuple) -> Any:
        return function(*args)

    def close(self) -> None:
        return None

    def join(self) -> None:
        return None


class DequeQueue(collections.deque):
    """Queue interface on a deque; ``get`` pops from the right (LIFO => depth-first traversal)."""

    def put(self, obj: Any, block: bool | None = None, timeout: float | None = None) -> None:
        self.append(obj)

    def get(self, block: bool | None = None, timeout: float | None = None) -> Any:
        try:
            return self.pop()
        except IndexError:
            raise Queue.Empty


def check_complete_cached(task: Task, completion_cache: Any = None) -> Any:
    """``task.complete()``, answered from (and positive results stored in) the completion cache."""
    if completion_cache is not None and completion_cache.get(task.task_id):
        return True
    is_complete = task.complete()
    if completion_cache is not None and is_complete:
        completion_cache[task.task_id] = is_complete
    return is_complete


def check_complete(task: Task, out_queue: Any, completion_cache: Any = None) -> None:
    """Checks if task is complete, puts the result to out_queue, optionally using the completion cache."""
    if _logs(_DEBUG):
        logger.debug("Checking if %s is complete", task)
    try:
        is_complete = check_complete_cached(task, completion_cache)
    except Exception:
        is_complete = TracebackWrapper(traceback.format_exc())
    out_queue.put((task, is_complete))


class worker(Config):
    """Settings of the ``[worker]`` section."""

    id = Parameter(default="", description="Override the auto-generated worker_id")
    ping_interval = FloatParameter(default=1.0, config_path=dict(section="core", name="worker-ping-interval"))
    keep_alive = BoolParameter(default=False, config_path=dict(section="core", name="worker-keep-alive"))
    count_uniques = BoolParameter(
        default=False,
        config_path=dict(section="core", name="worker-count-uniques"),
        description="worker-count-uniques means that we will keep a worker alive only if it has a unique "
        "pending task, as well as having keep-alive true",
    )
    count_last_scheduled = BoolParameter(
        default=False,
        description="Keep a worker alive only if there are pending tasks which it was the last to schedule.",
    )
    wait_interval = FloatParameter(default=1.0, config_path=dict(section="core", name="worker-wait-interval"))
    wait_jitter = FloatParameter(default=5.0)
    max_keep_alive_idle_duration = TimeDeltaParameter(default=datetime.timedelta(0))
    max_reschedules = IntParameter(default=1, config_path=dict(section="core", name="worker-max-reschedules"))
    timeout = IntParameter(default=0, config_path=dict(section="core", name="worker-timeout"))
    task_limit = IntParameter(default=None, config_path=dict(section="core", name="worker-task-limit"))
    retry_external_tasks = BoolParameter(
        default=False,
        config_path=dict(section="core", name="retry-external-tasks"),
        description="If true, incomplete external tasks will be retested for completion while Luigi is running.",
    )
    send_failure_email = BoolParameter(
        default=True, description="If true, send e-mails directly from the workeron failure"
    )
    no_install_shutdown_handler = BoolParameter(
        default=False, description="If true, the SIGUSR1 shutdown handler willNOT be install on the worker"
    )
    check_unfulfilled_deps = BoolParameter(
        default=True, description="If true, check for completeness of dependencies before running a task"
    )
    check_complete_on_run = BoolParameter(
        default=False,
        description="If true, only mark tasks as done after running if they are complete. Regardless of this "
        "setting, the worker will always check if external tasks are complete before marking them as done.",
    )
    force_multiprocessing = BoolParameter(
        default=False, description="If true, use multiprocessing also when running with 1 worker"
    )
    task_process_context = OptionalParameter(
        default=None,
        description="If set to a fully qualified class name, the class will be instantiated with a TaskProcess "
        "as its constructor parameter and applied as a context manager around its run() call, so this can be "
        "used for obtaining high level customizable monitoring or logging of each individual Task run.",
    )
    cache_task_completion = BoolParameter(
        default=False,
        description="If true, cache the response of successful completion checks of tasks assigned to a worker. "
        "This can especially speed up tasks with dynamic dependencies but assumes that the completion status "
        "does not change after it was true the first time.",
    )


class TaskStatusReporter:
    """Reports task status information to the scheduler.

    Picklable. Inside a task subprocess the calls are forwarded to the worker through its result
    queue (set as ``_forward`` by the worker), because the child's copy of an in-process
    scheduler is not the one the worker uses."""

    def __init__(self, scheduler: Any, task_id: str, worker_id: str, scheduler_messages: Any) -> None:
        self._task_id = task_id
        self._worker_id = worker_id
        self._scheduler = scheduler
        self.scheduler_messages = scheduler_messages
        self._forward: ResultQueue | None = None

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        if state.get("_forward") is not None:
            state["_scheduler"] = None  # the child forwards; never pickle a whole scheduler
        return state

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        forward = self._forward
        if forward is not None and forward.in_child():
            forward.put(ForwardedCall(method, args, kwargs))
            return None
        return getattr(self._scheduler, method)(*args, **kwargs)

    def update_tracking_url(self, tracking_url: str) -> None:
        self._call("add_task", task_id=self._task_id, worker=self._worker_id, status=RUNNING, tracking_url=tracking_url)

    def update_status_message(self, message: str) -> None:
        self._call("set_task_status_message", self._task_id, message)

    def update_progress_percentage(self, percentage: float) -> None:
        self._call("set_task_progress_percentage", self._task_id, percentage)

    def decrease_running_resources(self, decrease_resources: dict) -> None:
        self._call("decrease_running_task_resources", self._task_id, decrease_resources)

    def report_task_statistics(self, statistics: dict) -> None:
        self._call("report_task_statistics", self._task_id, statistics)


class SchedulerMessage:
    """A message from the scheduler for a running task, placed on the task's ``scheduler_messages``."""

    def __init__(self, scheduler: Any, task_id: str, message_id: str, content: Any, **payload: Any) -> None:
        self._scheduler = scheduler
        self._task_id = task_id
        self._message_id = message_id
        self.content = content
        self.payload = payload

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_scheduler"] = None  # responses from a subprocess travel back via the result queue
        return state

    def __str__(self) -> str:
        return str(self.content)

    def __eq__(self, other: object) -> bool:
        return self.content == other

    __hash__ = None  # type: ignore[assignment]

    def respond(self, response: Any) -> None:
        args = (self._task_id, self._message_id, response)
        if self._scheduler is None and _child_result_queue is not None:
            _child_result_queue.put(ForwardedCall("add_scheduler_message_response", args, {}))
        else:
            self._scheduler.add_scheduler_message_response(*args)


class TaskProcess(multiprocessing.Process):
    """Wrap all task execution in this class.

    Runs either as a real subprocess (``start()``) or directly in the worker (``run()``)."""

    forward_reporter_attributes = collections.OrderedDict(
        [
            ("update_tracking_url", "set_tracking_url"),
            ("update_status_message", "set_status_message"),
            ("update_progress_percentage", "set_progress_percentage"),
            ("decrease_running_resources", "decrease_running_resources"),
            ("scheduler_messages", "scheduler_messages"),
        ]
    )

    def __init__(
        self,
        task: Task,
        worker_id: str,
        result_queue: Any,
        status_reporter: TaskStatusReporter,
        use_multiprocessing: bool = False,
        worker_timeout: int = 0,
        check_unfulfilled_deps: bool = True,
        check_complete_on_run: bool = False,
        task_completion_cache: Any = None,
    ) -> None:
        task_timeout = getattr(task, "worker_timeout", None)
        self.worker_timeout = task_timeout if task_timeout is not None else worker_timeout
        self.timeout_time = time.time() + self.worker_timeout if self.worker_timeout else None
        self.use_multiprocessing = use_multiprocessing or self.timeout_time is not None
        if self.use_multiprocessing:
            super().__init__()
        else:
            self._init_unstarted_state()
        self.task = task
        self.worker_id = worker_id
        self.result_queue = result_queue
        self.status_reporter = status_reporter
        self.check_unfulfilled_deps = check_unfulfilled_deps
        self.check_complete_on_run = check_complete_on_run
        self.task_completion_cache = task_completion_cache
        self.result_sent = False

    def check_complete(self, task: Task) -> bool:
        """``check_complete_cached`` with this process's completion cache."""
        return check_complete_cached(task, self.task_completion_cache)

    def _init_unstarted_state(self) -> None:
        """What ``Process.__init__`` sets, minus its per-instance naming and bookkeeping costs,
        for the common case of a task run in the worker's own process. ``start()`` completes it."""
        state = self.__dict__
        state.update(_UNSTARTED_PROCESS_STATE)
        state["_config"] = _UNSTARTED_PROCESS_STATE["_config"].copy()
        state["_parent_pid"] = current_pid()
        state["_lightweight"] = True

    def start(self) -> None:
        if self.__dict__.pop("_lightweight", False):
            multiprocessing.Process.__init__(self)
        super().start()

    # A task executed by a reusable runner (see ``_worker.runners``) reports the runner's process.
    def _runner_process(self) -> Any:
        runner = self.__dict__.get("_runner")
        return None if runner is None else runner.process

    def is_alive(self) -> bool:
        process = self._runner_process()
        if process is not None:
            return process.is_alive()
        if self.__dict__.get("_popen") is None and self is not multiprocessing.current_process():
            return False  # never started (ran in the worker's process): no system call needed
        return super().is_alive()

    @property
    def exitcode(self) -> int | None:
        process = self._runner_process()
        return super().exitcode if process is None else process.exitcode

    @property
    def pid(self) -> int | None:
        process = self._runner_process()
        return super().pid if process is None else process.pid

    @property
    def sentinel(self) -> int:
        process = self._runner_process()
        return super().sentinel if process is None else process.sentinel

    def has_started(self) -> bool:
        """Whether a subprocess (own or runner) executes or executed this task."""
        return self.__dict__.get("_runner") is not None or getattr(self, "_popen", None) is not None

    def _missing_dependencies(self) -> list[str]:
        missing = []
        for dep in self.task.deps():
            if not self.check_complete(dep):
                nonexistent = [str(o) for o in flatten(dep.output()) if not o.exists()]
                missing.append("{} ({})".format(dep.task_id, ", ".join(nonexistent)) if nonexistent else dep.task_id)
        return missing

    def _run_get_new_deps(self) -> list | None:
        task_gen = self.task.run()
        if task_gen is None or not isinstance(task_gen, collections.abc.Generator):
            return None
        started = False
        next_send = None
        while True:
            try:
                requires = task_gen.send(next_send) if started else next(task_gen)
            except StopIteration:
                return None
            started = True
            if not isinstance(requires, DynamicRequirements):
                requires = DynamicRequirements(requires)
            if not requires.complete(self.check_complete):
                # Kept so a worker running this in its own process can use the very task objects
                # (Luigi rebuilds them from strings, losing private parameters).
                self.new_dep_tasks = list(requires.flat_requirements)
                return [(t.task_module, t.task_family, t.to_str_params()) for t in self.new_dep_tasks]
            next_send = requires.paths

    def run(self) -> None:
        global _child_result_queue
        pid = current_pid()
        if _logs(_INFO):
            logger.info("[pid %s] Worker %s running   %s", pid, self.worker_id, self.task)
        if self.use_multiprocessing:
            random.seed(pid * time.time())
            _child_result_queue = self.result_queue if isinstance(self.result_queue, ResultQueue) else None
        status = FAILED
        expl: Any = ""
        missing: list = []
        new_deps: list | None = []
        try:
            if self.check_unfulfilled_deps and not _is_external(self.task):
                missing = self._missing_dependencies()
                if missing:
                    word = "dependency" if len(missing) == 1 else "dependencies"
                    raise RuntimeError("Unfulfilled {} at run time: {}".format(word, ", ".join(missing)))
            self.task.trigger_event(Event.START, self.task)
            t0 = time.time()
            if _is_external(self.task):
                if self.check_complete(self.task):
                    status = DONE
                else:
                    status = FAILED
                    expl = "Task is an external data dependency and data does not exist (yet?)."
            else:
                with self._forward_attributes():
                    new_deps = self._run_get_new_deps()
                if new_deps:
                    status = PENDING
                elif not self.check_complete_on_run:
                    if self.task_completion_cache is not None:
                        self.task_completion_cache[self.task.task_id] = True
                    status = DONE
                elif self.check_complete(self.task):
                    status = DONE
                else:
                    raise TaskException("Task finished running, but complete() is still returning false.")
            if new_deps:
                logger.info("[pid %s] Worker %s new requirements      %s", pid, self.worker_id, self.task)
            elif status == DONE:
                self.task.trigger_event(Event.PROCESSING_TIME, self.task, time.time() - t0)
                expl = self.task.on_success()
                if _logs(_INFO):
                    logger.info("[pid %s] Worker %s done      %s", pid, self.worker_id, self.task)
                self.task.trigger_event(Event.SUCCESS, self.task)
        except KeyboardInterrupt:
            raise
        except BaseException as ex:
            status = FAILED
            expl = self._handle_run_exception(ex)
        finally:
            self.result_queue.put((self.task.task_id, status, expl, missing, new_deps))
            self.result_sent = True

    def _handle_run_exception(self, ex: BaseException) -> Any:
        logger.exception("[pid %s] Worker %s failed    %s", os.getpid(), self.worker_id, self.task)
        self.task.trigger_event(Event.FAILURE, self.task, ex)
        return self.task.on_failure(ex)

    def _recursive_terminate(self) -> None:
        process = self._runner_process()
        proctree.terminate_tree(self if process is None else process)

    def terminate(self) -> None:
        """Terminate this process and its subprocesses."""
        return self._recursive_terminate()

    def _forward_attributes(self) -> _ForwardedAttributes:
        """Context manager exposing the reporter's methods on the task while ``run()`` executes."""
        return _ForwardedAttributes(self.task, self.status_reporter, self.forward_reporter_attributes)


class _ForwardedAttributes:
    """Sets ``task.<attr> = reporter.<method>`` on entry and resets them all to ``None`` on exit."""

    __slots__ = ("task", "reporter", "mapping")

    def __init__(self, task: Task, reporter: Any, mapping: dict) -> None:
        self.task = task
        self.reporter = reporter
        self.mapping = mapping

    def __enter__(self) -> None:
        task, reporter = self.task, self.reporter
        if self.mapping is _DEFAULT_FORWARDS:  # spelled out (5x faster than the loop): once per task run
            task.set_tracking_url = reporter.update_tracking_url
            task.set_status_message = reporter.update_status_message
            task.set_progress_percentage = reporter.update_progress_percentage
            task.decrease_running_resources = reporter.decrease_running_resources
            task.scheduler_messages = reporter.scheduler_messages
            return
        for reporter_attr, task_attr in self.mapping.items():
            setattr(task, task_attr, getattr(reporter, reporter_attr))

    def __exit__(self, *exc_info: Any) -> None:
        task = self.task
        if self.mapping is _DEFAULT_FORWARDS:
            task.set_tracking_url = task.set_status_message = task.set_progress_percentage = None
            task.decrease_running_resources = task.scheduler_messages = None
            return
        for task_attr in self.mapping.values():
            setattr(task, task_attr, None)


# The mapping ``_ForwardedAttributes`` knows by heart (a subclass may define its own).
_DEFAULT_FORWARDS = TaskProcess.forward_reporter_attributes
assert list(_DEFAULT_FORWARDS.items()) == [
    ("update_tracking_url", "set_tracking_url"),
    ("update_status_message", "set_status_message"),
    ("update_progress_percentage", "set_progress_percentage"),
    ("decrease_running_resources", "decrease_running_resources"),
    ("scheduler_messages", "scheduler_messages"),
]


_UNSTARTED_PROCESS_STATE = {
    key: value
    for key, value in vars(multiprocessing.Process(name="TaskProcess")).items()
    if key in ("_identity", "_config", "_parent_name", "_popen", "_closed", "_target", "_args", "_kwargs", "_name")
}


class ContextManagedTaskProcess(TaskProcess):
    """TaskProcess whose run is wrapped in an instance of the ``task_process_context`` class."""

    def __init__(self, context: str | None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.context = context

    def run(self) -> None:
        if self.context:
            logger.debug("Importing module and instantiating " + self.context)
            module_path, class_name = self.context.rsplit(".", 1)
            module = importlib.import_module(module_path)
            cls = getattr(module, class_name)
            with cls(self):
                super().run()
        else:
            super().run()


def _execute_in_runner(payload: tuple) -> None:
    """Runner-side: rebuild the task process from its pickled description and run it."""
    context, task, worker_id, result_queue, reporter, check_unfulfilled_deps, check_complete_on_run, cache = payload
    task_process = ContextManagedTaskProcess(
        context,
        task,
        worker_id,
        result_queue,
        reporter,
        use_multiprocessing=True,
        check_unfulfilled_deps=check_unfulfilled_deps,
        check_complete_on_run=check_complete_on_run,
        task_completion_cache=cache,
    )
    try:
        task_process.run()
    except Exception:
        if not task_process.result_sent:
            result_queue.put((task.task_id, FAILED, traceback.format_exc(), [], []))


class KeepAliveThread(threading.Thread):
    """Periodically tell the scheduler that the worker still lives."""

    def __init__(self, scheduler: Any, worker_id: str, ping_interval: float, rpc_message_callback: Callable) -> None:
        super().__init__()
        self._should_stop = threading.Event()
        self._scheduler = scheduler
        self._worker_id = worker_id
        self._ping_interval = ping_interval
        self._rpc_message_callback = rpc_message_callback

    def stop(self) -> None:
        self._should_stop.set()

    def run(self) -> None:
        while True:
            self._should_stop.wait(self._ping_interval)
            if self._should_stop.is_set():
                logger.info(f"Worker {self._worker_id} was stopped. Shutting down Keep-Alive thread")
                break
            with fork_lock:
                response = None
                try:
                    response = self._scheduler.ping(worker=self._worker_id)
                except BaseException:
                    logger.warning("Failed pinging scheduler")
                if response:
                    for message in response.get("rpc_messages", ()):
                        try:
                            self._rpc_message_callback(message)
                        except Exception:
                            logger.exception("Worker %s failed to handle rpc message %s", self._worker_id, message)


def rpc_message_callback(fn: Callable) -> Callable:
    """Mark a Worker method as invokable through scheduler RPC messages."""
    fn.is_rpc_message_callback = True
    return fn


class Worker:
    """Worker object communicates with a scheduler.

    Simple class that talks to a scheduler and:

    * tells the scheduler what it has to do + its dependencies
    * asks for stuff to do (pulls it in a loop and runs it)
    """

    def __init__(
        self,
        scheduler: Any = None,
        worker_id: str | None = None,
        worker_processes: int = 1,
        assistant: bool = False,
        **kwargs: Any,
    ) -> None:
        if scheduler is None:
            scheduler = Scheduler()
        self.worker_processes = int(worker_processes)
        self._worker_info = self._generate_worker_info()
        self._config = worker(**kwargs)
        worker_id = worker_id or self._config.id or self._generate_worker_id(self._worker_info)
        assert self._config.wait_interval >= _WAIT_INTERVAL_EPS, "[worker] wait_interval must be positive"
        assert self._config.wait_jitter >= 0.0, "[worker] wait_jitter must be equal or greater than zero"

        self._id = worker_id
        self._scheduler = scheduler
        self._assistant = assistant
        self._stop_requesting_work = False
        self.host = socket.gethostname()
        self._scheduled_tasks: dict[str, Task] = {}
        self._suspended_tasks: dict = {}
        self._batch_running_tasks: dict = {}
        self._batch_families_sent: set = set()
        self._first_task: str | None = None
        self.add_succeeded = True
        self.run_succeeded = True
        self.unfulfilled_counts: collections.defaultdict = collections.defaultdict(int)

        if not self._config.no_install_shutdown_handler:
            self._install_shutdown_handler()

        self._task_result_queue = ResultQueue()
        self._running_tasks: dict[str, TaskProcess] = {}
        self._idle_since: datetime.datetime | None = None
        self._task_completion_cache = multiprocessing.Manager().dict() if self._config.cache_task_completion else None
        self._add_task_history: list = []
        self._get_work_response_history: list = []

        # Traversal memo (not in Luigi): ids whose subgraph needs no re-traversal. DONE reports stay
        # valid; PENDING reports only until the next task result arrives.
        self._known_done: set[str] = set()
        self._known_pending: set[str] = set()
        self._reported_dead: set[str] = set()
        self._checker: ParallelChecker | None = None
        self._runners: runners.RunnerPool | None = None

    def _install_shutdown_handler(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            logger.debug("Not installing the SIGUSR1 handler: worker created outside the main thread")
            return
        try:
            signal.signal(signal.SIGUSR1, self.handle_interrupt)
            signal.siginterrupt(signal.SIGUSR1, False)
        except AttributeError:
            pass

    # ------------------------------------------------------------------ identity
    def _generate_worker_info(self) -> list:
        args = [("salt", f"{random.randrange(0, 10_000_000_000):09d}"), ("workers", self.worker_processes)]
        for key, getter in (
            ("host", socket.gethostname),
            ("username", getpass.getuser),
            ("pid", os.getpid),
        ):
            try:
                args.append((key, getter()))
            except BaseException:
                pass
        try:
            sudo_user = os.getenv("SUDO_USER")
            if sudo_user:
                args.append(("sudo_user", sudo_user))
        except BaseException:
            pass
        return args

    def _generate_worker_id(self, worker_info: list) -> str:
        worker_info_str = ", ".join([f"{k}={v}" for k, v in worker_info])
        return f"Worker({worker_info_str})"

    # ------------------------------------------------------------------ context manager
    def __enter__(self) -> Worker:
        self._keep_alive_thread = KeepAliveThread(
            self._scheduler, self._id, self._config.ping_interval, self._handle_rpc_message
        )
        self._keep_alive_thread.daemon = True
        self._keep_alive_thread.start()
        return self

    def __exit__(self, type: Any, value: Any, traceback: Any) -> bool:
        self._keep_alive_thread.stop()
        self._keep_alive_thread.join()
        for task in self._running_tasks.values():
            if task.is_alive():
                task.terminate()
        self._close_checker()
        self._close_runners()
        self._task_result_queue.close()
        return False

    # ------------------------------------------------------------------ validation
    def _validate_task(self, task: Any) -> None:
        if not isinstance(task, Task):
            raise TaskException(f"Can not schedule non-task {task}")
        if not task.initialized():
            raise TaskException(
                f"Task of class {task.__class__.__name__} not initialized. Did you override __init__ and forget to call super(...).__init__?"
            )

    def _validate_dependency(self, dependency: Any) -> None:
        if type(dependency) in _PLAIN_TASK_CLASSES:  # known Task class that is no Target (ABC checks cost)
            return
        if isinstance(dependency, Task) and not isinstance(dependency, Target):
            _PLAIN_TASK_CLASSES.add(type(dependency))
            return
        if isinstance(dependency, Target):
            raise Exception("requires() can not return Target objects. Wrap it in an ExternalTask class")
        elif not isinstance(dependency, Task):
            raise Exception(f"requires() must return Task objects but {dependency} is a {type(dependency)}")

    def _check_complete_value(self, is_complete: Any) -> Any:
        if isinstance(is_complete, TracebackWrapper):
            raise AsyncCompletionException(is_complete.trace)
        if is_complete not in (True, False):
            raise Exception(f"Return value of Task.complete() must be boolean (was {is_complete!r})")
        return is_complete

    # ------------------------------------------------------------------ e-mails / announcements
    def _email_error(self, task: Task, formatted_traceback: Any, subject: str, headline: str) -> None:
        formatted_subject = subject.format(task=task, host=self.host)
        formatted_headline = headline.format(task=task, host=self.host)
        command = subprocess.list2cmdline(sys.argv)
        message = notifications.format_task_error(formatted_headline, task, command, formatted_traceback)
        notifications.send_error_email(formatted_subject, message, task.owner_email)

    def _email_complete_error(self, task: Task, formatted_traceback: str) -> None:
        self._email_scheduling_failure(task, formatted_traceback, "complete()")

    def _email_dependency_error(self, task: Task, formatted_traceback: str) -> None:
        self._email_scheduling_failure(task, formatted_traceback, "deps()")

    def _email_scheduling_failure(self, task: Task, formatted_traceback: str, method: str) -> None:
        self._announce_scheduling_failure(task, formatted_traceback)
        if self._config.send_failure_email:
            self._email_error(
                task,
                formatted_traceback,
                subject="Luigi: {task} failed scheduling. Host: {host}",
                headline="Will not run {task} or any dependencies due to error in " + method + " method",
            )

    def _email_unexpected_error(self, task: Task, formatted_traceback: str) -> None:
        self._email_error(
            task,
            formatted_traceback,
            subject="Luigi: Framework error while scheduling {task}. Host: {host}",
            headline="Luigi framework error",
        )

    def _email_task_failure(self, task: Task, formatted_traceback: Any) -> None:
        if self._config.send_failure_email:
            self._email_error(
                task,
                formatted_traceback,
                subject="Luigi: {task} FAILED. Host: {host}",
                headline="A task failed when running. Most likely run() raised an exception.",
            )

    def _announce_scheduling_failure(self, task: Task, expl: str) -> None:
        try:
            self._scheduler.announce_scheduling_failure(
                worker=self._id,
                task_name=str(task),
                family=task.task_family,
                params=task.to_str_params(only_significant=True),
                expl=expl,
                owners=task._owner_list(),
            )
        except Exception:
            self._email_unexpected_error(task, traceback.format_exc())
            raise

    # ------------------------------------------------------------------ scheduling
    def _add_task(self, *args: Any, **kwargs: Any) -> None:
        """Report a task's status to the scheduler and record it in the history."""
        self._send_report(args, kwargs)

    def _report(self, report: dict[str, Any]) -> None:
        """``self._add_task(**report)``, for the worker's own reports (two per task).

        Tests and subclasses replace ``_add_task`` to observe or alter reports, so they still go
        through it when it is replaced, on the class or the instance. Otherwise the report goes
        straight on: packing its dozen keywords into ``_add_task``'s ``**kwargs`` again would be a
        noticeable share of a large build's time.
        """
        if type(self)._add_task is _WORKER_ADD_TASK and "_add_task" not in self.__dict__:
            self._send_report((), report)
        else:
            self._add_task(**report)

    def _send_report(self, args: tuple, kwargs: dict[str, Any]) -> None:
        """What ``_add_task`` does: history and owner bookkeeping, then ``scheduler.add_task``."""
        task_id = kwargs["task_id"]
        status = kwargs["status"]
        runnable = kwargs.get("runnable")
        task = self._scheduled_tasks.get(task_id)
        if task is not None:
            self._add_task_history.append((task, status, runnable))
            kwargs["owners"] = task._owner_list()
        if task_id in self._batch_running_tasks:
            for batch_task in self._batch_running_tasks.pop(task_id):
                self._add_task_history.append((batch_task, status, True))
        if task is not None and kwargs.get("params"):
            kwargs["param_visibilities"] = _param_visibilities(task)
        self._scheduler.add_task(*args, **kwargs)
        if _logs(_INFO):
            logger.info("Informed scheduler that task   %s   has status   %s", task_id, status)

    def add(self, task: Task, multiprocess: bool = False, processes: int = 0) -> bool:
        """Add a Task for the worker to check and possibly schedule and run.

        Returns True if task and its dependencies were successfully scheduled or completed before.
        """
        if self._first_task is None and hasattr(task, "task_id"):
            self._first_task = task.task_id
        self.add_succeeded = True
        checker = self._parallel_checker(processes) if multiprocess else None
        try:
            with _NoFullCollections():
                self._traverse(task, checker)
        except (KeyboardInterrupt, TaskException):
            raise
        except Exception as ex:
            self.add_succeeded = False
            formatted_traceback = traceback.format_exc()
            logger.exception("Luigi unexpected framework error while scheduling %s", task)
            task.trigger_event(Event.BROKEN_TASK, task, ex)
            self._email_unexpected_error(task, formatted_traceback)
            raise
        return self.add_succeeded

    def _traverse(self, task: Task, checker: ParallelChecker | None) -> None:
        """Iterative graph walk: check, classify and report each task once per call; skip
        dependencies whose subgraph was already reported (see ``_known_done``)."""
        cache = self._task_completion_cache
        if checker is None:
            pool, results = SingleProcessPool(), DequeQueue()

            def submit(t: Task) -> None:
                pool.apply_async(check_complete, (t, results, cache))

            def next_result() -> tuple:
                return results.get()
        else:

            def submit(t: Task) -> None:
                checker.submit(t, cache, check_complete)

            def next_result() -> tuple:
                return checker.next_result(cache, check_complete)

        self._validate_task(task)
        submit(task)
        queue_size = 1
        seen = {task.task_id}
        known_done, known_pending = self._known_done, self._known_pending
        while queue_size > 0:
            item, is_complete = next_result()
            queue_size -= 1
            for dep in self._add(item, is_complete):
                dep_id = getattr(dep, "task_id", None)
                if dep_id in seen or dep_id in known_done or dep_id in known_pending:
                    continue
                self._validate_task(dep)
                seen.add(dep_id)
                submit(dep)
                queue_size += 1

    def _parallel_checker(self, processes: int) -> ParallelChecker:
        """One process pool per worker (Luigi builds a Manager and a Pool per add() call)."""
        wanted = processes if processes > 0 else (os.cpu_count() or 1)
        if self._checker is None or self._checker.processes != wanted:
            self._close_checker()
            with fork_lock:
                self._checker = ParallelChecker(processes)
        return self._checker

    def _close_checker(self) -> None:
        if self._checker is not None:
            self._checker.close()
            self._checker = None

    def _add(self, task: Task, is_complete: Any) -> Iterator[Task]:
        task_limit = self._config.task_limit
        if task_limit is not None and len(self._scheduled_tasks) >= task_limit:
            logger.warning("Will not run %s or any dependencies due to exceeded task-limit of %d", task, task_limit)
            deps = None
            status = UNKNOWN
            runnable = False
        else:
            formatted_traceback = None
            try:
                self._check_complete_value(is_complete)
            except KeyboardInterrupt:
                raise
            except AsyncCompletionException as ex:
                formatted_traceback = ex.trace
            except BaseException:
                formatted_traceback = traceback.format_exc()

            if formatted_traceback is not None:
                self.add_succeeded = False
                self._log_complete_error(task, formatted_traceback)
                task.trigger_event(Event.DEPENDENCY_MISSING, task)
                self._email_complete_error(task, formatted_traceback)
                deps = None
                status = UNKNOWN
                runnable = False
            elif is_complete:
                deps = None
                status = DONE
                runnable = False
                task.trigger_event(Event.DEPENDENCY_PRESENT, task)
            elif _is_external(task):
                deps = None
                status = PENDING
                runnable = self._config.retry_external_tasks
                task.trigger_event(Event.DEPENDENCY_MISSING, task)
                logger.warning(
                    "Data for %s does not exist (yet?). The task is an external data dependency, so it cannot be "
                    "run from this luigi process.",
                    task,
                )
            else:
                try:
                    deps = task.deps()
                    self._add_task_batcher(task)
                except Exception as ex:
                    formatted_traceback = traceback.format_exc()
                    self.add_succeeded = False
                    self._log_dependency_error(task, formatted_traceback)
                    task.trigger_event(Event.BROKEN_TASK, task, ex)
                    self._email_dependency_error(task, formatted_traceback)
                    deps = None
                    status = UNKNOWN
                    runnable = False
                else:
                    status = PENDING
                    runnable = True

            if task.disabled:
                status = DISABLED

            if deps:
                for d in deps:
                    self._validate_dependency(d)
                    task.trigger_event(Event.DEPENDENCY_DISCOVERED, task, d)
                    yield d
                deps = [d.task_id for d in deps]

        task_id = task.task_id
        self._scheduled_tasks[task_id] = task
        self._report({
            "worker": self._id,
            "task_id": task_id,
            "status": status,
            "deps": deps,
            "runnable": runnable,
            "priority": task.priority,
            "resources": task.process_resources(),
            "params": task.to_str_params(),
            "family": task.task_family,
            "module": task.task_module,
            "batchable": task.batchable,
            "retry_policy_dict": _get_retry_policy_dict(task),
            "accepts_messages": task.accepts_messages,
        })
        if status == DONE:
            self._known_done.add(task_id)
        elif status == PENDING:
            self._known_pending.add(task_id)

    def _log_complete_error(self, task: Task, tb: str) -> None:
        logger.warning(f"Will not run {task} or any dependencies due to error in complete() method:\n{tb}")

    def _log_dependency_error(self, task: Task, tb: str) -> None:
        logger.warning(f"Will not run {task} or any dependencies due to error in deps() method:\n{tb}")

    def _add_task_batcher(self, task: Task) -> None:
        family = task.task_family
        if family not in self._batch_families_sent:
            task_class = type(task)
            batch_param_names = task_class.batch_param_names()
            if batch_param_names:
                self._scheduler.add_task_batcher(
                    worker=self._id,
                    task_family=family,
                    batched_args=batch_param_names,
                    max_batch_size=task.max_batch_size,
                )
            self._batch_families_sent.add(family)

    def _add_worker(self) -> None:
        # Luigi appends another ("first_task", ...) pair on every run(); keep exactly one (last).
        self._worker_info[:] = [pair for pair in self._worker_info if pair[0] != "first_task"]
        self._worker_info.append(("first_task", self._first_task))
        self._scheduler.add_worker(self._id, self._worker_info)

    # ------------------------------------------------------------------ main loop
    def _log_remote_tasks(self, get_work_response: GetWorkResponse) -> None:
        logger.debug("Done")
        logger.debug("There are no more tasks to run at this time")
        if get_work_response.running_tasks:
            for r in get_work_response.running_tasks:
                logger.debug("%s is currently run by worker %s", r["task_id"], r["worker"])
        elif get_work_response.n_pending_tasks:
            logger.debug(
                "There are %s pending tasks possibly being run by other workers", get_work_response.n_pending_tasks
            )
            if get_work_response.n_unique_pending:
                logger.debug("There are %i pending tasks unique to this worker", get_work_response.n_unique_pending)
            if get_work_response.n_pending_last_scheduled:
                logger.debug(
                    "There are %i pending tasks last scheduled by this worker",
                    get_work_response.n_pending_last_scheduled,
                )

    def _get_work_task_id(self, get_work_response: dict) -> str | None:
        if get_work_response.get("task_id") is not None:
            return get_work_response["task_id"]
        elif "batch_id" in get_work_response:
            try:
                task = self._load_task_sent_by_scheduler(
                    module=get_work_response.get("task_module"),
                    task_name=get_work_response["task_family"],
                    params_str=get_work_response["task_params"],
                )
            except Exception as ex:
                self._handle_task_load_error(ex, get_work_response["batch_task_ids"])
                self.run_succeeded = False
                return None
            self._scheduler.add_task(
                worker=self._id,
                task_id=task.task_id,
                module=get_work_response.get("task_module"),
                family=get_work_response["task_family"],
                params=task.to_str_params(),
                status=RUNNING,
                batch_id=get_work_response["batch_id"],
            )
            return task.task_id
        else:
            return None

    def _load_task_sent_by_scheduler(self, module: str | None, task_name: str, params_str: dict) -> Task:
        """``load_task`` for a task named by the scheduler. Only an assistant imports new modules:
        any other worker is only given tasks of families it scheduled itself, so a module it has
        not imported means a confused or hostile scheduler (Luigi would import it)."""
        if module and not self._assistant and module not in sys.modules:
            raise TaskClassException(
                f"Refusing to import module {module!r} for task {task_name}: this worker did not schedule it"
            )
        return load_task(module=module, task_name=task_name, params_str=params_str)

    def _get_work(self) -> GetWorkResponse:
        if self._stop_requesting_work:
            return GetWorkResponse(None, 0, 0, 0, 0, WORKER_STATE_DISABLED)

        if self.worker_processes > 0:
            if _logs(_DEBUG):
                logger.debug("Asking scheduler for work...")
            r = self._scheduler.get_work(
                worker=self._id,
                host=self.host,
                assistant=self._assistant,
                current_tasks=list(self._running_tasks.keys()),
            )
        else:
            logger.debug("Checking if tasks are still pending")
            r = self._scheduler.count_pending(worker=self._id)

        running_tasks = r["running_tasks"]
        task_id = self._get_work_task_id(r)
        self._get_work_response_history.append(
            {"task_id": task_id, "running_tasks": running_tasks if running_tasks else _NO_RUNNING_TASKS}
        )

        if task_id is not None and task_id not in self._scheduled_tasks:
            logger.info("Did not schedule %s, will load it dynamically", task_id)
            try:
                self._scheduled_tasks[task_id] = self._load_task_sent_by_scheduler(
                    module=r.get("task_module"), task_name=r["task_family"], params_str=r["task_params"]
                )
            except TaskClassException as ex:
                self._handle_task_load_error(ex, [task_id])
                task_id = None
                self.run_succeeded = False

        if task_id is not None and "batch_task_ids" in r:
            batch_tasks = [self._scheduled_tasks[t] for t in r["batch_task_ids"] if t in self._scheduled_tasks]
            self._batch_running_tasks[task_id] = batch_tasks

        return GetWorkResponse(  # positional: a namedtuple built from keywords costs a dict per call
            task_id,
            running_tasks,
            r["n_pending_tasks"],
            r["n_unique_pending"],
            r.get("n_pending_last_scheduled", 0),
            r.get("worker_state", WORKER_STATE_ACTIVE),
        )

    def _run_task(self, task_id: str) -> None:
        if task_id in self._running_tasks:
            logger.debug(f"Got already running task id {task_id} from scheduler, taking a break")
            next(self._sleeper())
            return

        task = self._scheduled_tasks[task_id]
        task_process = self._create_task_process(task)
        self._running_tasks[task_id] = task_process

        try:
            if task_process.use_multiprocessing:
                if isinstance(self._task_result_queue, ResultQueue):
                    self._task_result_queue.prepare_for_children()
                if not self._submit_to_runner(task_process):
                    with fork_lock:
                        task_process.start()
            else:
                task_process.run()
        except KeyboardInterrupt:
            raise
        except Exception:
            # start() failed (e.g. unpicklable task under spawn) or the task_process_context broke:
            # report the failure instead of waiting for a result that will never come.
            if not getattr(task_process, "result_sent", False):
                logger.exception("Could not run %s", task)
                self._task_result_queue.put((task_id, FAILED, traceback.format_exc(), [], []))

    def _submit_to_runner(self, task_process: TaskProcess) -> bool:
        """Run the task in a reusable subprocess when that is safe; False means fork for it."""
        if not (
            _REUSE_TASK_PROCESSES
            and type(task_process) is ContextManagedTaskProcess
            and task_process.timeout_time is None
            and task_process.status_reporter.scheduler_messages is None
            and isinstance(self._task_result_queue, ResultQueue)
            and runners.reuse_supported()
        ):
            return False
        payload = (
            task_process.context,
            task_process.task,
            task_process.worker_id,
            self._task_result_queue,
            task_process.status_reporter,
            task_process.check_unfulfilled_deps,
            task_process.check_complete_on_run,
            task_process.task_completion_cache,
        )
        try:
            blob = runners.dumps(payload, self._task_result_queue)
        except Exception:  # unpicklable task: a forked child needs no pickling
            return False
        if self._runners is None:
            self._runners = runners.RunnerPool(self._task_result_queue, _execute_in_runner, fork_lock)
        for _ in range(2):  # an idle runner may have died since its last task: try a fresh one
            runner = self._runners.acquire()
            try:
                runner.submit(task_process.task.task_id, blob)
            except OSError:
                self._runners.discard(runner)
                continue
            task_process._runner = runner
            return True
        return False

    def _release_runner(self, task_process: Any) -> None:
        runner = getattr(task_process, "__dict__", _NO_ATTRIBUTES).get("_runner")  # Mock-safe: no auto attributes
        if runner is not None and self._runners is not None:
            self._runners.release(runner)

    def _close_runners(self) -> None:
        if self._runners is not None:
            self._runners.close()
            self._runners = None

    def _create_task_process(self, task: Task) -> TaskProcess:
        reporter = TaskStatusReporter(self._scheduler, task.task_id, self._id, None)
        use_multiprocessing = self._config.force_multiprocessing or self.worker_processes > 1
        config = self._config
        task_process = ContextManagedTaskProcess(  # positional: one process object per task run
            config.task_process_context,
            task,
            self._id,
            self._task_result_queue,
            reporter,
            use_multiprocessing,
            config.timeout,
            config.check_unfulfilled_deps,
            config.check_complete_on_run,
            self._task_completion_cache,
        )
        in_child = getattr(task_process, "use_multiprocessing", use_multiprocessing) is True
        if task.accepts_messages:
            # A thread-safe in-process queue when the task runs here; a pipe when it runs in a child.
            reporter.scheduler_messages = multiprocessing.Queue() if in_child else Queue.Queue()
        if in_child and isinstance(self._task_result_queue, ResultQueue):
            reporter._forward = self._task_result_queue
        return task_process

    def _purge_children(self) -> None:
        """Report children that died without a result, or exceeded their timeout, exactly once."""
        for task_id, p in list(self._running_tasks.items()):
            if task_id in self._reported_dead or (isinstance(p, TaskProcess) and not p.has_started()):
                continue  # a task run in the worker's own process can neither die nor time out
            if not p.is_alive() and p.exitcode:
                error_msg = f"Task {task_id} died unexpectedly with exit code {p.exitcode}"
                p.task.trigger_event(Event.PROCESS_FAILURE, p.task, error_msg)
            elif p.timeout_time is not None and time.time() > float(p.timeout_time) and p.is_alive():
                p.terminate()
                self._release_runner(p)
                error_msg = f"Task {task_id} timed out after {p.worker_timeout} seconds and was terminated."
                p.task.trigger_event(Event.TIMEOUT, p.task, error_msg)
            else:
                continue
            self._reported_dead.add(task_id)
            logger.info(error_msg)
            self._task_result_queue.put((task_id, FAILED, error_msg, [], []))

    def _result_wait(self) -> Any:
        """Next message from the result queue, waiting at most ``wait_interval``, less if a child
        timeout expires sooner; wakes up early when a running child exits."""
        timeout = self._config.wait_interval
        q = self._task_result_queue
        if not isinstance(q, ResultQueue):
            return q.get(timeout=timeout)
        if q.has_local_message():
            return q.wait_get(0)
        sentinels = []
        now = time.time()
        for p in self._running_tasks.values():
            if not _has_started(p) or p.exitcode is not None:
                continue
            sentinels.append(p.sentinel)
            if p.timeout_time is not None:
                try:
                    timeout = min(timeout, max(float(p.timeout_time) - now, 0) + 0.01)
                except (TypeError, ValueError):  # patched clocks in tests
                    pass
        return q.wait_get(timeout, sentinels)

    def _handle_next_task(self) -> None:
        """Handle at most one task result (waiting up to ``wait_interval`` for it)."""
        self._idle_since = None
        results = self._task_result_queue
        while True:
            if not (isinstance(results, ResultQueue) and results.has_local_message()):
                # the result of a task run in this process is handed over first; children are
                # checked for death/timeouts whenever the worker has to wait for one of them
                self._purge_children()
            try:
                message = self._result_wait()
            except Queue.Empty:
                if self._report_silent_exits() or self._has_unreported_exit():
                    continue
                return
            if isinstance(message, ForwardedCall):
                self._apply_forwarded_call(message)
                continue
            task_id, status, expl, missing, new_requirements = message
            task = self._scheduled_tasks[task_id]
            if not task or task_id not in self._running_tasks:
                continue
            break
        self._report_result(task_id, task, status, expl, missing, new_requirements)

    def _has_unreported_exit(self) -> bool:
        """True when a started child has exited but was not purged yet (woken by its sentinel)."""
        return any(
            task_id not in self._reported_dead and _has_started(p) and p.exitcode
            for task_id, p in self._running_tasks.items()
        )

    def _report_silent_exits(self) -> bool:
        """Children that exited with code 0 without sending a result (``os._exit(0)``) would make
        Luigi wait forever; report them as dead once the result queue is drained."""
        queue_empty = isinstance(self._task_result_queue, ResultQueue) and self._task_result_queue.empty()
        if not queue_empty:
            return False
        reported = False
        for task_id, p in list(self._running_tasks.items()):
            if task_id in self._reported_dead or not _has_started(p) or p.exitcode != 0:
                continue
            error_msg = f"Task {task_id} died unexpectedly with exit code {p.exitcode}"
            p.task.trigger_event(Event.PROCESS_FAILURE, p.task, error_msg)
            self._reported_dead.add(task_id)
            logger.info(error_msg)
            self._task_result_queue.put((task_id, FAILED, error_msg, [], []))
            reported = True
        return reported

    def _apply_forwarded_call(self, call: ForwardedCall) -> None:
        """Replay a reporter call made in a task subprocess against the worker's scheduler."""
        try:
            getattr(self._scheduler, call.method)(*call.args, **call.kwargs)
        except Exception:
            logger.exception("Failed to forward %s from a task process to the scheduler", call.method)

    def _report_result(
        self, task_id: str, task: Task, status: str, expl: Any, missing: list, new_requirements: Any
    ) -> None:
        self._known_pending.clear()  # statuses may have changed since those reports
        if status == FAILED and not (_is_external(task) and self._config.retry_external_tasks):
            self._email_task_failure(task, expl)

        new_deps: list = []
        if new_requirements:
            task_process = self._running_tasks.get(task_id)
            new_req = getattr(task_process, "__dict__", {}).get("new_dep_tasks")
            if not new_req or len(new_req) != len(new_requirements):
                new_req = [load_task(module, name, params) for module, name, params in new_requirements]
            for t in new_req:
                self.add(t)
            new_deps = [t.task_id for t in new_req]

        self._report({
            "worker": self._id,
            "task_id": task_id,
            "status": status,
            "expl": _json_expl(expl),
            "resources": task.process_resources(),
            "runnable": None,
            "params": task.to_str_params(),
            "family": task.task_family,
            "module": task.task_module,
            "new_deps": new_deps,
            "assistant": self._assistant,
            "retry_policy_dict": _get_retry_policy_dict(task),
        })
        self._release_runner(self._running_tasks.pop(task_id))
        self._reported_dead.discard(task_id)
        if status == DONE:
            self._known_done.add(task_id)
        else:
            self._known_done.discard(task_id)

        if missing:
            reschedule = True
            for task_str in missing:
                self.unfulfilled_counts[task_str] += 1
                self._known_done.discard(task_str.split(" (", 1)[0])
                if self.unfulfilled_counts[task_str] > self._config.max_reschedules:
                    reschedule = False
            if reschedule:
                self.add(task)

        self.run_succeeded &= (status == DONE) or (len(new_deps) > 0)

    def _sleeper(self) -> Iterator[None]:
        while True:
            jitter = self._config.wait_jitter
            wait_interval = self._config.wait_interval + random.uniform(0, jitter)
            logger.debug("Sleeping for %f seconds", wait_interval)
            time.sleep(wait_interval)
            yield

    def _keep_alive(self, get_work_response: GetWorkResponse) -> bool:
        """Whether a worker with nothing to run right now should stay and poll again."""
        if not self._config.keep_alive:
            return False
        elif self._assistant:
            return True
        elif self._config.count_last_scheduled:
            return get_work_response.n_pending_last_scheduled > 0
        elif self._config.count_uniques:
            return get_work_response.n_unique_pending > 0
        elif get_work_response.n_pending_tasks == 0:
            return False
        elif not self._config.max_keep_alive_idle_duration:
            return True
        elif not self._idle_since:
            return True
        else:
            time_to_shutdown = self._idle_since + self._config.max_keep_alive_idle_duration - datetime.datetime.now()
            logger.debug("[%s] %s until shutdown", self._id, time_to_shutdown)
            return time_to_shutdown > datetime.timedelta(0)

    def handle_interrupt(self, signum: int, _: Any) -> None:
        """Stops the assistant from asking for more work on SIGUSR1"""
        if signum == signal.SIGUSR1:
            self._start_phasing_out()

    def _start_phasing_out(self) -> None:
        """Go into a mode where we dont ask for more work and quit once existing tasks are done."""
        self._config.keep_alive = False
        self._stop_requesting_work = True

    def run(self) -> bool:
        """Returns True if all scheduled tasks were executed successfully."""
        logger.info("Running Worker with %d processes", self.worker_processes)
        self._close_checker()  # no pool threads around while task processes fork
        self._known_pending.clear()

        sleeper = self._sleeper()
        self.run_succeeded = True

        self._add_worker()
        with _NoFullCollections() as collections:
            self._run_loop(sleeper, collections.tick)
        self._close_runners()
        return self.run_succeeded

    def _run_loop(self, sleeper: Iterator[None], tick: Callable[[], None]) -> None:
        """Ask for work and run it until nothing is left (or the worker phases out); ``tick`` is
        called once per turn (the periodic full garbage collection of a long run)."""
        while True:
            tick()
            while len(self._running_tasks) >= self.worker_processes > 0:
                if _logs(_DEBUG):
                    logger.debug("%d running tasks, waiting for next task to finish", len(self._running_tasks))
                self._handle_next_task()

            get_work_response = self._get_work()

            if get_work_response.worker_state == WORKER_STATE_DISABLED:
                self._start_phasing_out()

            if get_work_response.task_id is None:
                if not self._stop_requesting_work:
                    self._log_remote_tasks(get_work_response)
                if len(self._running_tasks) == 0:
                    self._idle_since = self._idle_since or datetime.datetime.now()
                    if self._keep_alive(get_work_response):
                        next(sleeper)
                        continue
                    else:
                        break
                else:
                    self._handle_next_task()
                    continue

            # task_id is not None:
            if _logs(_DEBUG):
                logger.debug("Pending tasks: %s", get_work_response.n_pending_tasks)
            self._run_task(get_work_response.task_id)

        while len(self._running_tasks):
            logger.debug("Shut down Worker, %d more tasks to go", len(self._running_tasks))
            self._handle_next_task()

    def _handle_task_load_error(self, exception: BaseException, task_ids: list) -> None:
        msg = "Cannot find task(s) sent by scheduler: {}".format(",".join(task_ids))
        logger.exception(msg)
        subject = f"Luigi: {msg}"
        # Text, not the exception object (Luigi's choice), so a remote scheduler can JSON-encode it.
        formatted = "".join(traceback.format_exception(type(exception), exception, exception.__traceback__))
        error_message = notifications.wrap_traceback(formatted)
        for task_id in task_ids:
            self._add_task(
                worker=self._id,
                task_id=task_id,
                status=FAILED,
                runnable=False,
                expl=error_message,
            )
        notifications.send_error_email(subject, error_message)

    def _handle_rpc_message(self, message: dict) -> None:
        logger.info(f"Worker {self._id} got message {message}")

        name = message["name"]
        kwargs = message["kwargs"]

        func = getattr(self, name, None)
        tpl = (self._id, name)
        if not callable(func):
            logger.error("Worker {} has no function '{}'".format(*tpl))
        elif not getattr(func, "is_rpc_message_callback", False):
            logger.error("Worker {} function '{}' is not available as rpc message callback".format(*tpl))
        else:
            logger.info("Worker {} successfully dispatched rpc message to function '{}'".format(*tpl))
            func(**kwargs)

    @rpc_message_callback
    def set_worker_processes(self, n: int) -> None:
        # set the new value
        self.worker_processes = max(1, n)

        # tell the scheduler
        self._scheduler.add_worker(self._id, {"workers": self.worker_processes})

    @rpc_message_callback
    def dispatch_scheduler_message(self, task_id: str, message_id: str, content: Any, **kwargs: Any) -> None:
        task_id = str(task_id)
        if task_id in self._running_tasks:
            task_process = self._running_tasks[task_id]
            if task_process.status_reporter.scheduler_messages is not None:
                message = SchedulerMessage(self._scheduler, task_id, message_id, content, **kwargs)
                task_process.status_reporter.scheduler_messages.put(message)


_WORKER_ADD_TASK = Worker._add_task  # see Worker._report


def _has_started(task_process: Any) -> bool:
    """True for a real TaskProcess whose subprocess (own or runner) was started. Stand-ins that
    tests put into ``_running_tasks`` never count, so they only get Luigi's plain handling."""
    return isinstance(task_process, TaskProcess) and task_process.has_started()


def _json_expl(expl: Any) -> str:
    """JSON-encode an explanation; values JSON cannot represent are encoded as their ``str``."""
    if expl is None:  # the default on_success(): skip the encoder machinery
        return "null"
    try:
        return json.dumps(expl)
    except (TypeError, ValueError):
        try:
            return json.dumps(expl, default=str)
        except ValueError:  # circular structure
            return json.dumps(str(expl))
