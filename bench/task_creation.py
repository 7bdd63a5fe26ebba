"""Microseconds per task instantiation and per task-model call, ours vs real Luigi 3.8.1, side by side.

Usage: python bench/task_creation.py
The same benchmark code runs in two subprocesses: one importing this checkout's ``luigi``, one
importing real Luigi 3.8.1 from ``bench/.venv-realluigi`` (created on first run). Each case is
timed in batches and the best batch is reported (µs per task).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _realluigi import run_ours, run_real_luigi  # noqa: E402

BENCHMARK = r'''
import json, time, warnings
warnings.simplefilter("ignore")
import luigi
from luigi.task_register import Register

class One(luigi.Task):
    a = luigi.IntParameter()

class Three(luigi.Task):
    a = luigi.IntParameter()
    b = luigi.Parameter(default="x")
    c = luigi.IntParameter(default=3)

def best(make, batches=5, budget=0.4, fresh_cache=True):
    """Best µs/task over batches; `make(i)` builds one task for a batch-unique index i.

    Each batch starts with an empty instance cache unless `fresh_cache` is false (which keeps a
    disabled cache disabled)."""
    n, results, start = 200, [], 0
    while True:  # size a batch to roughly `budget` seconds
        t0 = time.perf_counter()
        for i in range(start, start + n):
            make(i)
        elapsed = time.perf_counter() - t0
        start += n
        if elapsed > budget / 4:
            break
        n *= 2
    for _ in range(batches):
        if fresh_cache:
            Register.clear_instance_cache()
        t0 = time.perf_counter()
        for i in range(start, start + n):
            make(i)
        results.append((time.perf_counter() - t0) / n * 1e6)
        start += n
    return min(results)

cases = {}
cases["1 param, cache miss"] = best(lambda i: One(a=i))
One(a=1)
cases["1 param, cache hit"] = best(lambda i: One(a=1))
cases["3 params given, cache miss"] = best(lambda i: Three(a=i, b="y", c=4))
Three(a=1, b="y", c=4)
cases["3 params given, cache hit"] = best(lambda i: Three(a=1, b="y", c=4))
cases["3 params (2 defaults), cache miss"] = best(lambda i: Three(a=i))
Three(a=1)
cases["3 params (2 defaults), cache hit"] = best(lambda i: Three(a=1))
cases["3 params positional, cache miss"] = best(lambda i: Three(i, "y", 4))
Register.disable_instance_cache()
cases["3 params given, cache disabled"] = best(lambda i: Three(a=1, b="y", c=4), fresh_cache=False)
Register.clear_instance_cache()

# What the worker asks of every task it schedules and runs.
task = Three(a=1)
leaves = [One(a=i) for i in range(1000)]
cases["to_str_params (3 params)"] = best(lambda i: task.to_str_params())
cases["repr (3 params)"] = best(lambda i: repr(task))
cases["trigger_event, no handlers"] = best(lambda i: task.trigger_event(luigi.Event.START, task))
cases["deps() of a leaf"] = best(lambda i: task.deps())
cases["flatten, per task of a 1000-task list"] = best(lambda i: luigi.task.flatten(leaves)) / 1000
print(json.dumps(cases))
'''


def main(rounds: int = 3) -> None:
    """Alternate the two implementations ``rounds`` times and keep each case's best time (less noise)."""
    ours: dict[str, float] = {}
    real: dict[str, float] = {}
    for _ in range(rounds):
        for results, run in ((ours, run_ours), (real, run_real_luigi)):
            for name, micros in json.loads(run(BENCHMARK)).items():
                results[name] = min(micros, results.get(name, float("inf")))
    width = max(len(name) for name in ours)
    print(f"{'case':<{width}}  {'ours µs':>9}  {'luigi 3.8.1 µs':>14}  {'speedup':>8}")
    for name, ours_us in ours.items():
        real_us = real[name]
        print(f"{name:<{width}}  {ours_us:9.2f}  {real_us:14.2f}  {real_us / ours_us:7.1f}x")


if __name__ == "__main__":
    main()
