"""Process exit codes for command-line runs, configurable per outcome in ``[retcode]``.

Everything is looked up through module attributes at call time (``luigi.interface._run``,
``luigi.execution_summary._summary_dict``, ...) so tests and plugins can patch them.
"""

from __future__ import annotations

import logging
import sys
from typing import NoReturn, Sequence

import luigi.cmdline_parser
import luigi.execution_summary
import luigi.interface
from luigi.parameter import IntParameter
from luigi.task import Config


class retcode(Config):
    """``[retcode]``: the exit code for each kind of unsuccessful run (the highest applicable wins)."""

    unhandled_exception = IntParameter(default=4, description="For internal luigi errors.")
    missing_data = IntParameter(default=0, description="For when there are incomplete ExternalTask dependencies.")
    task_failed = IntParameter(default=0, description="For when a task's run() method fails.")
    already_running = IntParameter(default=0, description="For both local --lock and luigid \"lock\"")
    scheduling_error = IntParameter(default=0, description="For when a task's complete() or requires() fails, or task-limit reached")
    not_run = IntParameter(default=0, description="For when a task is not granted run permission by the scheduler.")


def run_with_retcodes(argv: Sequence[str]) -> NoReturn:
    """Run a command line like ``luigi`` does and exit with the configured code for its outcome."""
    logger = logging.getLogger("luigi-interface")
    with luigi.cmdline_parser.CmdlineParser.global_instance(argv):
        retcodes = retcode()

    try:
        worker = luigi.interface._run(argv).worker
    except luigi.interface.PidLockAlreadyTakenExit:
        sys.exit(retcodes.already_running)
    except Exception:
        env_params = luigi.interface.core()
        luigi.interface.InterfaceLogging.setup(env_params)
        logger.exception("Uncaught exception in luigi")
        sys.exit(retcodes.unhandled_exception)

    with luigi.cmdline_parser.CmdlineParser.global_instance(argv):
        task_sets = luigi.execution_summary._summary_dict(worker)
        root_task = luigi.execution_summary._root_task(worker)
        non_empty_categories = {k for k, v in task_sets.items() if v}

    def has(status: str) -> bool:
        assert status in luigi.execution_summary._ORDERED_STATUSES
        return status in non_empty_categories

    codes_and_conds = (
        (retcodes.missing_data, has("still_pending_ext")),
        (retcodes.task_failed, has("failed")),
        (retcodes.already_running, has("run_by_other_worker")),
        (retcodes.scheduling_error, has("scheduling_error")),
        (retcodes.not_run, has("not_run")),
    )
    expected_ret_code = max(code if cond else 0 for code, cond in codes_and_conds)

    if expected_ret_code == 0 and root_task not in task_sets["completed"] and root_task not in task_sets["already_done"]:
        sys.exit(retcodes.not_run)
    sys.exit(expected_ret_code)
