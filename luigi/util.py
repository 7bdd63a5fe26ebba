"""Decorators for sharing parameters and dependencies between task classes, and date stepping.

``inherits``/``requires`` copy another task's Parameter objects onto a class (so values can be
forwarded with ``clone``); ``copies`` and ``delegates`` build wrapper subclasses that keep the
original family; ``previous``/``get_previous_completed`` step a task back in time.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from luigi import parameter
from luigi.task import Register, Task, _task_wraps, flatten

logger = logging.getLogger("luigi-interface")

__all__ = ["common_params", "inherits", "requires", "copies", "delegates", "previous", "get_previous_completed"]


def common_params(task_instance: Task, task_cls: type) -> dict[str, Any]:
    """Values of ``task_instance`` for the params it shares with ``task_cls``, normalized by ``task_cls``.

    Keys follow ``task_cls``'s parameter order (Luigi's order depends on set iteration).
    """
    if not isinstance(task_cls, Register):
        raise TypeError("task_cls must be an uninstantiated Task")
    instance_param_names = {name for name, _ in task_instance.get_params()}
    common = [(name, param) for name, param in task_cls.get_params() if name in instance_param_names]
    kwargs = {name: task_instance.param_kwargs[name] for name, _ in common if name in task_instance.param_kwargs}
    return dict(task_instance.get_param_values(common, [], kwargs))


class inherits:  # noqa: N801 (Luigi's public name)
    """Class decorator: attach the parameters of other task classes and add ``clone_parent(s)``."""

    def __init__(self, *tasks_to_inherit: type, **kw_tasks_to_inherit: type) -> None:
        if not tasks_to_inherit and not kw_tasks_to_inherit:
            raise TypeError("tasks_to_inherit or kw_tasks_to_inherit must contain at least one task")
        if tasks_to_inherit and kw_tasks_to_inherit:
            raise TypeError("Only one of tasks_to_inherit or kw_tasks_to_inherit may be present")
        self.tasks_to_inherit = tasks_to_inherit
        self.kw_tasks_to_inherit = kw_tasks_to_inherit

    def __call__(self, task_that_inherits: type) -> type:
        inherited = self.tasks_to_inherit or tuple(self.kw_tasks_to_inherit.values())
        for task_to_inherit in inherited:
            for param_name, param_obj in task_to_inherit.get_params():
                if not hasattr(task_that_inherits, param_name):  # own attributes win
                    setattr(task_that_inherits, param_name, param_obj)

        if self.tasks_to_inherit:
            tasks_to_inherit = self.tasks_to_inherit

            def clone_parent(_self: Task, **kwargs: Any) -> Task:
                return _self.clone(cls=tasks_to_inherit[0], **kwargs)

            def clone_parents(_self: Task, **kwargs: Any) -> list[Task]:
                return [_self.clone(cls=task_to_inherit, **kwargs) for task_to_inherit in tasks_to_inherit]

            task_that_inherits.clone_parent = clone_parent
            task_that_inherits.clone_parents = clone_parents
        else:
            kw_tasks_to_inherit = self.kw_tasks_to_inherit

            def clone_parents_by_key(_self: Task, **kwargs: Any) -> dict[str, Task]:
                return {key: _self.clone(cls=cls, **kwargs) for key, cls in kw_tasks_to_inherit.items()}

            task_that_inherits.clone_parents = clone_parents_by_key
        return task_that_inherits


class requires:  # noqa: N801 (Luigi's public name)
    """Class decorator: ``inherits`` the given tasks and make ``requires()`` return them."""

    def __init__(self, *tasks_to_require: type, **kw_tasks_to_require: type) -> None:
        self.tasks_to_require = tasks_to_require
        self.kw_tasks_to_require = kw_tasks_to_require

    def __call__(self, task_that_requires: type) -> type:
        task_that_requires = inherits(*self.tasks_to_require, **self.kw_tasks_to_require)(task_that_requires)
        if len(self.tasks_to_require) == 1:

            def requires(_self: Task) -> Any:
                return _self.clone_parent()

        else:

            def requires(_self: Task) -> Any:
                return _self.clone_parents()

        task_that_requires.requires = requires
        return task_that_requires


class copies:  # noqa: N801 (Luigi's public name)
    """Class decorator: require ``task_to_copy`` and make ``run()`` copy its output line by line."""

    def __init__(self, task_to_copy: type) -> None:
        self.requires_decorator = requires(task_to_copy)

    def __call__(self, task_that_copies: type) -> type:
        task_that_copies = self.requires_decorator(task_that_copies)

        @_task_wraps(task_that_copies)
        class Wrapped(task_that_copies):
            def run(_self) -> None:
                with _self.input().open("r") as source:
                    copy = _self.output().open("w")
                    for line in source:
                        copy.write(line)
                    copy.close()  # only on success: closing an atomic output publishes it

        return Wrapped


def delegates(task_that_delegates: type) -> type:
    """Class decorator: run ``subtasks()`` inline and take over their dependencies."""
    if not hasattr(task_that_delegates, "subtasks"):
        raise AttributeError(f'{task_that_delegates} needs to implement the method "subtasks"')

    @_task_wraps(task_that_delegates)
    class Wrapped(task_that_delegates):
        def deps(self) -> list[Task]:
            return flatten(self.requires()) + flatten([t.deps() for t in flatten(self.subtasks())])

        def run(self) -> Any:
            for t in flatten(self.subtasks()):
                t.run()
            return task_that_delegates.run(self)

    return Wrapped


# Date-like parameter kinds and how to step their value back, checked in this order.
_PREVIOUS_STEPS = (
    (parameter.DateParameter, lambda value: value - datetime.timedelta(days=1)),
    (parameter.DateSecondParameter, lambda value: value - datetime.timedelta(seconds=1)),
    (parameter.DateMinuteParameter, lambda value: value - datetime.timedelta(minutes=1)),
    (parameter.DateHourParameter, lambda value: value - datetime.timedelta(hours=1)),
    (parameter.DateIntervalParameter, lambda value: value.prev()),
)


def previous(task: Task) -> Task:
    """The same task one step earlier in its single date-like parameter."""
    params = task.get_params()
    previous_params = {}
    previous_date_params = {}
    for param_name, param_obj in params:
        param_value = getattr(task, param_name)
        for kind, step in _PREVIOUS_STEPS:
            if isinstance(param_obj, kind):
                previous_date_params[param_name] = step(param_value)
                break
        else:
            previous_params[param_name] = param_value
    previous_params.update(previous_date_params)
    if len(previous_date_params) == 0:
        raise NotImplementedError("No task parameter - can't determine previous task")
    if len(previous_date_params) > 1:
        raise NotImplementedError("Too many date-related task parameters - can't determine previous task")
    return task.clone(**previous_params)


def get_previous_completed(task: Task, max_steps: int = 10) -> Task | None:
    """The nearest earlier (via ``previous``) complete task within ``max_steps`` steps, or None."""
    prev = task
    for _ in range(max_steps):
        prev = previous(prev)
        logger.debug("Checking if %s is complete", prev)
        if prev.complete():
            return prev
    return None
