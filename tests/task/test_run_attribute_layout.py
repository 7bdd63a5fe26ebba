"""Tasks built before any of them runs (every build) must not each grow a private instance dict
when the worker attaches its reporter hooks for the run, and must not have those hooks before."""

import tracemalloc

import luigi
from luigi.worker import TaskProcess, _ForwardedAttributes


class Leaf(luigi.Task):
    i = luigi.IntParameter()


def test_reporter_hooks_appear_only_while_and_after_running_and_cost_no_dict_per_task():
    tasks = [Leaf(i=i) for i in range(3000)]
    hooks = list(TaskProcess.forward_reporter_attributes.values())
    assert not hasattr(tasks[10], "scheduler_messages") and not hasattr(tasks[10], "decrease_running_resources")

    class Reporter:
        def __getattr__(self, name):
            return name

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for task in tasks:
            with _ForwardedAttributes(task, Reporter(), TaskProcess.forward_reporter_attributes):
                assert task.scheduler_messages == "scheduler_messages"
        grown = (tracemalloc.get_traced_memory()[0] - before) / len(tasks)
    finally:
        tracemalloc.stop()
    assert all(getattr(tasks[10], name) is None for name in hooks)
    assert grown < 100, f"{grown:.0f} bytes per task for the run hooks"  # a private dict costs ~460
