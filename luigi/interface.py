"""Running tasks from Python (``luigi.build``) and from a command line (``luigi.run``).

Both paths end in :func:`_schedule_and_run`: read the ``[core]`` settings, set up logging, take
the pid lock, create a scheduler and a worker, add the root tasks, run, and summarise.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import tempfile
import warnings
from typing import Any, Iterable, Sequence

from luigi import _progress, lock, parameter, rpc, scheduler, task, worker
from luigi.cmdline_parser import CmdlineParser
from luigi.execution_summary import LuigiRunResult
from luigi.setup_logging import InterfaceLogging

logger = logging.getLogger("luigi-interface")

__all__ = ["core", "build", "run", "PidLockAlreadyTakenExit"]


class core(task.Config):
    """``[core]``: how a run is driven (scheduler location, locking, workers, logging, module)."""

    use_cmdline_section = False
    ignore_unconsumed = {"autoload_range", "no_configure_logging", "progress", "progress_log_interval"}

    local_scheduler = parameter.BoolParameter(
        default=False, description="Use an in-memory central scheduler. Useful for testing.", always_in_help=True
    )
    scheduler_host = parameter.Parameter(
        default="localhost",
        description="Hostname of machine running remote scheduler",
        config_path=dict(section="core", name="default-scheduler-host"),
    )
    scheduler_port = parameter.IntParameter(
        default=8082,
        description="Port of remote scheduler api process",
        config_path=dict(section="core", name="default-scheduler-port"),
    )
    scheduler_url = parameter.Parameter(
        default="",
        description="Full path to remote scheduler",
        config_path=dict(section="core", name="default-scheduler-url"),
    )
    lock_size = parameter.IntParameter(default=1, description="Maximum number of workers running the same command")
    no_lock = parameter.BoolParameter(default=False, description="Ignore if similar process is already running")
    lock_pid_dir = parameter.Parameter(
        default=os.path.join(tempfile.gettempdir(), "luigi"), description="Directory to store the pid file"
    )
    take_lock = parameter.BoolParameter(
        default=False, description="Signal other processes to stop getting work if already running"
    )
    workers = parameter.IntParameter(default=1, description="Maximum number of parallel tasks to run")
    logging_conf_file = parameter.Parameter(default="", description="Configuration file for logging")
    log_level = parameter.ChoiceParameter(
        default="DEBUG",
        choices=["NOTSET", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
        description="Default log level to use when logging_conf_file is not set",
    )
    module = parameter.Parameter(default="", description="Used for dynamic loading of modules", always_in_help=True)
    parallel_scheduling = parameter.BoolParameter(
        default=False, description="Use multiprocessing to do scheduling in parallel."
    )
    parallel_scheduling_processes = parameter.IntParameter(
        default=0,
        description="The number of processes to use for scheduling in parallel. "
        "By default the number of available CPUs will be used",
    )
    assistant = parameter.BoolParameter(default=False, description="Run any task from the scheduler.")
    help = parameter.BoolParameter(
        default=False, description="Show most common flags and all task-specific flags", always_in_help=True
    )
    help_all = parameter.BoolParameter(default=False, description="Show all command line flags", always_in_help=True)
    no_progress = parameter.BoolParameter(
        default=False,
        description="Do not show the live progress line (also: [core] progress = false)",
    )


class _WorkerSchedulerFactory:
    """Creates the scheduler and worker of a run; pass your own to ``build``/``run`` to customise."""

    def create_local_scheduler(self) -> Any:
        return scheduler.Scheduler(prune_on_get_work=True, record_task_history=False)

    def create_remote_scheduler(self, url: str) -> Any:
        return rpc.RemoteScheduler(url)

    def create_worker(self, scheduler: Any, worker_processes: int, assistant: bool = False) -> Any:
        return worker.Worker(scheduler=scheduler, worker_processes=worker_processes, assistant=assistant)


class PidLockAlreadyTakenExit(SystemExit):
    """Raised when an identical command line is already running (the pid lock is taken)."""


def _scheduler_url(env_params: core) -> str:
    if env_params.scheduler_url != "":
        return env_params.scheduler_url
    return f"http://{env_params.scheduler_host}:{env_params.scheduler_port:d}/"


def _schedule_and_run(
    tasks: Iterable[Any], worker_scheduler_factory: Any = None, override_defaults: dict | None = None
) -> LuigiRunResult:
    """Schedule ``tasks`` on a fresh worker, run it to the end and return the run result."""
    if worker_scheduler_factory is None:
        worker_scheduler_factory = _WorkerSchedulerFactory()
    if override_defaults is None:
        override_defaults = {}
    env_params = core(**override_defaults)

    InterfaceLogging.setup(env_params)

    kill_signal = signal.SIGUSR1 if env_params.take_lock else None
    if not env_params.no_lock and not lock.acquire_for(env_params.lock_pid_dir, env_params.lock_size, kill_signal):
        raise PidLockAlreadyTakenExit()

    if env_params.local_scheduler:
        sch = worker_scheduler_factory.create_local_scheduler()
    else:
        sch = worker_scheduler_factory.create_remote_scheduler(url=_scheduler_url(env_params))

    worker_obj = worker_scheduler_factory.create_worker(
        scheduler=sch, worker_processes=env_params.workers, assistant=env_params.assistant
    )

    success = True
    progress = _progress.start_for_worker(worker_obj) if _progress.enabled(env_params.no_progress) else None
    try:
        with worker_obj:
            for t in tasks:
                success &= worker_obj.add(t, env_params.parallel_scheduling, env_params.parallel_scheduling_processes)
            logger.info("Done scheduling tasks")
            success &= worker_obj.run()
    finally:
        if progress is not None:
            progress.stop()
    luigi_run_result = LuigiRunResult(worker_obj, success)
    logger.info(luigi_run_result.summary_text)
    if hasattr(sch, "close"):
        sch.close()
    return luigi_run_result


def run(*args: Any, **kwargs: Any) -> Any:
    """Run a command line; return ``scheduling_succeeded`` (or the full result with ``detailed_summary=True``)."""
    luigi_run_result = _run(*args, **kwargs)
    return luigi_run_result if kwargs.get("detailed_summary") else luigi_run_result.scheduling_succeeded


def _run(
    cmdline_args: Sequence[str] | None = None,
    main_task_cls: Any = None,
    worker_scheduler_factory: Any = None,
    use_dynamic_argparse: Any = None,
    local_scheduler: bool = False,
    detailed_summary: bool = False,
) -> LuigiRunResult:
    if cmdline_args is not None and not isinstance(cmdline_args, (list, tuple)):
        raise TypeError(
            f"cmdline_args must be a list or tuple of command-line arguments, got {type(cmdline_args).__name__!r}. "
            "Example: ['MyTask', '--param', 'value']"
        )
    if use_dynamic_argparse is not None:
        warnings.warn("use_dynamic_argparse is deprecated, don't set it.", DeprecationWarning, stacklevel=2)
    cmdline_args = sys.argv[1:] if cmdline_args is None else list(cmdline_args)
    if main_task_cls:
        cmdline_args.insert(0, main_task_cls.task_family)
    if local_scheduler:
        cmdline_args.append("--local-scheduler")
    with CmdlineParser.global_instance(cmdline_args) as cp:
        return _schedule_and_run([cp.get_task_obj()], worker_scheduler_factory)


def build(
    tasks: Iterable[Any], worker_scheduler_factory: Any = None, detailed_summary: bool = False, **env_params: Any
) -> Any:
    """Run tasks from Python, e.g. ``luigi.build([MyTask()], local_scheduler=True)``.

    ``env_params`` are ``[core]`` settings; the pid lock is off unless ``no_lock=False`` is given.
    Returns ``scheduling_succeeded``, or the :class:`LuigiRunResult` with ``detailed_summary=True``.
    """
    if "no_lock" not in env_params:
        env_params["no_lock"] = True
    luigi_run_result = _schedule_and_run(tasks, worker_scheduler_factory, override_defaults=env_params)
    return luigi_run_result if detailed_summary else luigi_run_result.scheduling_succeeded
