"""Batched failure e-mails for the central scheduler (``[scheduler] batch_emails = true``).

Failures, disables and scheduling failures are counted per recipient and group key and sent as
one summary mail per recipient every ``email_interval`` minutes. ``send_email``, ``email`` and
``time`` are module globals looked up at call time (tests patch them here).
"""

from __future__ import annotations

import collections
import time
from datetime import datetime
from typing import Any, Iterable

from luigi import parameter
from luigi.notifications import email, send_email
from luigi.task import Config


class batch_email(Config):
    """``[batch_email]`` options."""

    email_interval = parameter.IntParameter(
        default=60, config_path=dict(section="batch-notifier", name="email-interval-minutes"),
        description="Number of minutes between e-mail sends (default: 60)")
    batch_mode = parameter.ChoiceParameter(
        default="unbatched_params", choices=("family", "all", "unbatched_params"),
        description='Method used for batching failures in e-mail. If "family" all failures for tasks with the same '
                    'family will be batched. If "unbatched_params", all failures for tasks with the same family and '
                    'non-batched parameters will be batched. If "all", tasks will only be batched if they have '
                    'identical names.')
    error_lines = parameter.IntParameter(
        default=20, description="Number of lines to show from each error message. 0 means show all")
    error_messages = parameter.IntParameter(
        default=1, description="Number of error messages to show for each group")
    group_by_error_messages = parameter.BoolParameter(
        default=True, description="Group items with the same error messages together")


class ExplQueue(collections.OrderedDict):
    """The ``num_items`` most recently seen distinct messages, oldest first."""

    def __init__(self, num_items: int) -> None:
        self.num_items = num_items
        super().__init__()

    def enqueue(self, item: Any) -> None:
        self.pop(item, None)
        self[item] = datetime.now()
        while len(self) > self.num_items:
            self.popitem(last=False)


def _fail_queue(num_messages: int) -> Any:
    return lambda: collections.defaultdict(lambda: ExplQueue(num_messages))


def _plural_format(template: str, number: int, plural: str = "s") -> str:
    if number == 0:
        return ""
    return template.format(number, "" if number == 1 else plural)


def _count_parts(failures: int, disables: int, scheduling_failures: int) -> str:
    parts = (
        _plural_format("{} failure{}", failures),
        _plural_format("{} disable{}", disables),
        _plural_format("{} scheduling failure{}", scheduling_failures),
    )
    return ", ".join(part for part in parts if part)


class BatchNotifier:
    """Accumulates notices per owner and sends summary e-mails (see module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        self._config = batch_email(**kwargs)
        self._fail_counts: dict = collections.defaultdict(collections.Counter)
        self._disabled_counts: dict = collections.defaultdict(collections.Counter)
        self._scheduling_fail_counts: dict = collections.defaultdict(collections.Counter)
        self._fail_expls: dict = collections.defaultdict(_fail_queue(self._config.error_messages))
        self._update_next_send()
        self._email_format = email().format
        receiver = email().receiver
        self._default_owner = set(filter(None, receiver.split(","))) if receiver else set()

    def _update_next_send(self) -> None:
        self._next_send = time.time() + 60 * self._config.email_interval

    def _key(self, task_name: str, family: str, unbatched_args: dict) -> str:
        mode = self._config.batch_mode
        if mode == "all":
            return task_name
        if mode == "family":
            return family
        if mode == "unbatched_params":
            param_str = ", ".join(f"{k}={v}" for k, v in unbatched_args.items())
            return f"{family}({param_str})"
        raise ValueError(f"Unknown batch mode for batch notifier: {mode}")

    def _owners(self, owners: Iterable[str] | None) -> set:
        return self._default_owner | set(owners or ())

    def add_failure(self, task_name: str, family: str, unbatched_args: dict, expl: Any, owners: Any) -> None:
        key = self._key(task_name, family, unbatched_args)
        for owner in self._owners(owners):
            self._fail_counts[owner][key] += 1
            self._fail_expls[owner][key].enqueue(expl)

    def add_disable(self, task_name: str, family: str, unbatched_args: dict, owners: Any) -> None:
        key = self._key(task_name, family, unbatched_args)
        for owner in self._owners(owners):
            self._disabled_counts[owner][key] += 1
            self._fail_counts[owner].setdefault(key, 0)

    def add_scheduling_fail(self, task_name: str, family: str, unbatched_args: dict, expl: Any, owners: Any) -> None:
        key = self._key(task_name, family, unbatched_args)
        for owner in self._owners(owners):
            self._scheduling_fail_counts[owner][key] += 1
            self._fail_expls[owner][key].enqueue(expl)
            self._fail_counts[owner].setdefault(key, 0)

    def _format_expl(self, expl: Any) -> str:
        lines = str(expl).rstrip().split("\n")
        if self._config.error_lines:
            lines = lines[-self._config.error_lines:]
        if self._email_format == "html":
            return "<pre>{}</pre>".format("\n".join(lines))
        return "\n{}".format("\n".join("      " + line for line in lines))

    def _expl_body(self, expls: Iterable[Any]) -> str:
        lines = [self._format_expl(expl) for expl in expls]
        if lines and self._email_format != "html":
            lines.append("")
        return "\n".join(lines)

    def _task_line(self, task_tuple: tuple) -> str:
        key, failures, disables, scheduling_failures = task_tuple
        return f"{key} ({_count_parts(failures, disables, scheduling_failures)})"

    def _format_group(self, tasks: list, expl: str) -> str:
        lines = [self._task_line(task) for task in sorted(tasks, key=lambda t: (-(t[1] + t[3]), -t[2], t[0]))]
        if self._email_format == "html":
            text = "<li>" + "\n<br>".join(lines)
        else:
            text = "- " + "\n  ".join(lines)
        return "\n".join(piece for piece in (text, expl) if piece)

    def _email_body(self, fail_counts: dict, disable_counts: dict, scheduling_counts: dict, fail_expls: dict) -> str:
        groups: dict = collections.OrderedDict()
        for key, failures in fail_counts.items():
            task_tuple = (key, failures, disable_counts.get(key, 0), scheduling_counts.get(key, 0))
            expl = self._expl_body(fail_expls.get(key, ()))
            group_key = expl if self._config.group_by_error_messages else key
            groups.setdefault(group_key, (expl, []))[1].append(task_tuple)

        def group_order(item: tuple) -> tuple:
            tasks = item[1]
            return (-sum(t[1] + t[3] for t in tasks), -sum(t[2] for t in tasks), min(t[0] for t in tasks))

        pieces = [self._format_group(tasks, expl) for expl, tasks in sorted(groups.values(), key=group_order)]
        body = "\n".join(piece for piece in pieces if piece).rstrip()
        if self._email_format == "html":
            return f"<ul>\n{body}\n</ul>"
        return body

    def _send_email(self, fail_counts: dict, disable_counts: dict, scheduling_counts: dict, fail_expls: dict,
                    owner: str) -> None:
        num_failures = sum(fail_counts.values())
        num_disables = sum(disable_counts.values())
        num_scheduling = sum(scheduling_counts.values())
        parts = _count_parts(num_failures, num_disables, num_scheduling)
        if not parts:
            return
        prefix = "" if owner in self._default_owner else "Your tasks have "
        subject = f"Luigi: {prefix}{parts} in the last {self._config.email_interval} minutes"
        body = self._email_body(fail_counts, disable_counts, scheduling_counts, fail_expls)
        send_email(subject, body, email().sender, (owner,))

    def send_email(self) -> None:
        """Send one summary per owner, then reset counters and the next send time (even on error)."""
        try:
            for owner, failures in self._fail_counts.items():
                self._send_email(
                    fail_counts=failures,
                    disable_counts=self._disabled_counts[owner],
                    scheduling_counts=self._scheduling_fail_counts[owner],
                    fail_expls=self._fail_expls[owner],
                    owner=owner,
                )
        finally:
            self._update_next_send()
            self._fail_counts.clear()
            self._disabled_counts.clear()
            self._scheduling_fail_counts.clear()
            self._fail_expls.clear()

    def update(self) -> None:
        if time.time() >= self._next_send:
            self.send_email()
