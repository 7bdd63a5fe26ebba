"""``luigi-deps-tree``: print a task's dependency tree with each node's completion state.

Usage: ``luigi-deps-tree --module my.module MyTask --my-param 1``.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

from luigi.cmdline_parser import CmdlineParser
from luigi.task import flatten


class bcolors:
    """Terminal colours for the status labels."""

    OKBLUE = "\033[94m"
    OKGREEN = "\033[92m"
    ENDC = "\033[0m"


def _node_text(task: Any) -> str:
    with warnings.catch_warnings():
        warnings.filterwarnings(action="ignore", message="Task .* without outputs has no custom complete\\(\\) method")
        is_complete = task.complete()
    status = (bcolors.OKGREEN + "COMPLETE" if is_complete else bcolors.OKBLUE + "PENDING") + bcolors.ENDC
    name = task.__class__.__name__
    params = task.to_str_params(only_significant=True)
    return f"[{name}-{params} ({status})]"


def print_tree(task: Any, indent: str = "", last: bool = True) -> str:
    """The tree below ``task`` as text, one ``\\n``-prefixed line per node occurrence.

    Iterative (no recursion limit on deep chains); shared dependencies are printed once per
    occurrence, like Luigi.
    """
    result = []
    stack = [(task, indent, last)]
    while stack:
        node, node_indent, node_last = stack.pop()
        connector, child_indent = ("└─--", node_indent + "    ") if node_last else ("|---", node_indent + "|   ")
        result.append("\n" + node_indent + connector + _node_text(node))
        children = flatten(node.requires())
        for index in range(len(children) - 1, -1, -1):
            stack.append((children[index], child_indent, index == len(children) - 1))
    return "".join(result)


def main() -> None:
    with CmdlineParser.global_instance(sys.argv[1:]) as cp:
        task = cp.get_task_obj()
        print(print_tree(task))


if __name__ == "__main__":
    main()
