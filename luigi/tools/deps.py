"""``luigi-deps``: list the tasks on dependency paths from a task to an upstream family, with outputs.

Usage: ``luigi-deps --module my.module MyTask --my-param 1 [--upstream-family OtherTask]``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable as _IterableABC
from typing import Any, Iterator

from luigi import parameter
from luigi.cmdline_parser import CmdlineParser
from luigi.target import FileSystemTarget
from luigi.task import Config, flatten


def get_task_requires(task: Any) -> set:
    """The task's static requirements as a set."""
    return set(flatten(task.requires()))


def dfs_paths(start_task: Any, goal_task_family: str | None, path: list | None = None) -> Iterator[Any]:
    """Yield the tasks of every path from ``start_task`` to a task of ``goal_task_family``.

    Enumerates paths (exponential on diamond-rich graphs); :func:`find_deps` does not use it.
    """
    if path is None:
        path = [start_task]
    if start_task.task_family == goal_task_family or goal_task_family is None:
        yield from path
    for next_task in get_task_requires(start_task) - set(path):
        yield from dfs_paths(next_task, goal_task_family, path + [next_task])


class upstream(Config):
    """``--upstream-family``: the family whose tasks end the paths of interest (all tasks if unset)."""

    family = parameter.OptionalParameter(default=None)


def find_deps(task: Any, upstream_task_family: str | None) -> set:
    """Tasks on any dependency path from ``task`` to a task of ``upstream_task_family``.

    One iterative post-order walk: each task is expanded once, so shared dependencies cost nothing
    extra (Luigi enumerates every path).
    """
    requires: dict[Any, list] = {}
    reaches_goal: dict[Any, bool] = {}
    stack = [task]
    while stack:
        current = stack[-1]
        if current not in requires:
            requires[current] = list(get_task_requires(current))
            stack.extend(dep for dep in requires[current] if dep not in requires)
            continue
        stack.pop()
        if current in reaches_goal:
            continue
        reaches_goal[current] = (
            upstream_task_family is None
            or current.task_family == upstream_task_family
            or any(reaches_goal.get(dep, False) for dep in requires[current])
        )
    return {t for t, reaches in reaches_goal.items() if reaches}


def find_deps_cli() -> set:
    """``find_deps`` for the task named on the command line (same syntax as ``luigi``)."""
    with CmdlineParser.global_instance(sys.argv[1:]) as cp:
        return find_deps(cp.get_task_obj(), upstream().family)


def _loaded_class(module_name: str, class_name: str) -> type | None:
    """A contrib target class if its module was imported (else nothing can be an instance of it)."""
    module = sys.modules.get(module_name)
    return getattr(module, class_name, None) if module is not None else None


def get_task_output_description(task_output: Any) -> str:
    """Human description of a target: ``[FileSystem] /path``, ``[S3] s3://...``, ``[DB] host:table``..."""
    remote_target = _loaded_class("luigi.contrib.ssh", "RemoteTarget")
    s3_target = _loaded_class("luigi.contrib.s3", "S3Target")
    postgres_target = _loaded_class("luigi.contrib.postgres", "PostgresTarget")
    if remote_target is not None and isinstance(task_output, remote_target):
        return f"[SSH] {task_output._fs.remote_context.host}:{task_output.path}"
    if s3_target is not None and isinstance(task_output, s3_target):
        return f"[S3] {task_output.path}"
    if isinstance(task_output, FileSystemTarget):
        return f"[FileSystem] {task_output.path}"
    if postgres_target is not None and isinstance(task_output, postgres_target):
        return f"[DB] {task_output.host}:{task_output.table}"
    return "to be determined"


def _output_descriptions(task_output: Any) -> list[str]:
    if isinstance(task_output, dict):
        return [get_task_output_description(o) for o in task_output.values()]
    if isinstance(task_output, _IterableABC):
        return [get_task_output_description(o) for o in task_output]
    return [get_task_output_description(task_output)]


def main() -> None:
    """Print each dependency with its outputs (sorted by task id so runs are reproducible)."""
    for task in sorted(find_deps_cli(), key=lambda t: t.task_id):
        print(f"   TASK: {task}")
        for description in _output_descriptions(task.output()):
            print(f"                       : {description}")


if __name__ == "__main__":
    main()
