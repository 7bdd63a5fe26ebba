"""A task_process_context class, imported by dotted path by the worker under test."""

import os


class Context:
    """Imported by dotted path from the worker; records into a file in the test's cwd."""

    def __init__(self, task_process):
        self.task_process = task_process

    def _log(self, what):
        with open("context.log", "a") as fh:
            fh.write("{} {} {}\n".format(what, self.task_process.task.name, os.path.exists("ctx.txt")))

    def __enter__(self):
        self._log("enter")

    def __exit__(self, *exc):
        self._log("exit")
        self.task_process.status_reporter.report_task_statistics({"n": 1})
