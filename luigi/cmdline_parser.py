"""Command-line parsing for ``luigi [--global-flags] <TaskFamily> [--flags]``.

Every parameter of every registered task/config class gets a ``--<Family>-<param>`` flag (just
``--<param>`` for classes with ``use_cmdline_section = False``), and the root task's parameters also
get a short ``--<param>`` flag. While a parser is the global instance, ``luigi.parameter`` reads
the parsed namespace to resolve parameter values.

Unlike Luigi, which builds three full argparse parsers per command line, one parser is built and
then extended: with the flags of classes a ``--module`` import registered, then with the root
task's short flags. Parsers with help texts are built only to print help or an argparse error, so
that output matches Luigi's. Flags that would collide with an earlier one are skipped with a warning instead of
making every command line fail.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

from luigi.task_register import Register, TaskClassException

logger = logging.getLogger("luigi-interface")


class _FlagSpec(NamedTuple):
    """One ``(family, is_without_section, param_name, param_obj)`` entry of the registry."""

    task_name: str
    is_without_section: bool
    param_name: str
    param_obj: Any

    @property
    def key(self) -> tuple[str, bool, str, int]:
        """Identity of the entry (the same parameter object of the same family)."""
        return self.task_name, self.is_without_section, self.param_name, id(self.param_obj)

    @property
    def global_flag(self) -> str:
        name = self.param_name if self.is_without_section else f"{self.task_name}_{self.param_name}"
        return "--" + name.replace("_", "-")

    @property
    def local_flag(self) -> str:
        return "--" + self.param_name.replace("_", "-")


class _DeferredParseError(Exception):
    """Raised instead of argparse's print-and-exit so the error can be re-reported by a fully
    described parser (same usage text as Luigi)."""


class _QuietParser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # type: ignore[override]
        raise _DeferredParseError(message)


def _registry_specs() -> list[_FlagSpec]:
    return [_FlagSpec(*entry) for entry in Register.get_all_params()]


def _add_flag(parser: argparse.ArgumentParser, flag: str, help_text: str, kwargs: dict, owner: str) -> None:
    """Add ``flag`` unless an earlier flag has the same option string (then warn and skip it)."""
    if flag in parser._option_string_actions:
        logger.warning("Command-line flag %s for %s duplicates an earlier flag and is ignored", flag, owner)
        parser.set_defaults(**{kwargs["dest"]: None})
        return
    parser.add_argument(flag, help=help_text, **kwargs)


def _add_local_flag(parser: argparse.ArgumentParser, spec: _FlagSpec, help_text: str) -> None:
    """Add the root task's short ``--<param>`` flag (dest ``param_name``)."""
    kwargs = spec.param_obj._parser_kwargs(spec.param_name)
    _add_flag(parser, spec.local_flag, help_text, kwargs, f"root task {spec.task_name}.{spec.param_name}")


def _add_flags(
    parser: argparse.ArgumentParser, specs: Sequence[_FlagSpec], root_task: str | None = None, help_all: bool = False
) -> None:
    """Add the global flag of every spec, and the local flags of the root task's parameters."""
    for spec in specs:
        is_root = spec.task_name == root_task
        show = is_root or help_all or spec.param_obj.always_in_help
        help_text = spec.param_obj.description if show else argparse.SUPPRESS
        kwargs = spec.param_obj._parser_kwargs(spec.param_name, spec.task_name)
        _add_flag(parser, spec.global_flag, help_text, kwargs, f"{spec.task_name}.{spec.param_name}")
        if is_root:
            _add_local_flag(parser, spec, help_text)


def _make_parser(
    specs: Sequence[_FlagSpec],
    root_task: str | None = None,
    help_all: bool = False,
    parser_class: type[argparse.ArgumentParser] = argparse.ArgumentParser,
) -> argparse.ArgumentParser:
    """An argparse parser with the positional root task and one flag per parameter spec."""
    parser = parser_class(add_help=False)
    parser.add_argument(
        "root_task", nargs="?", help="Task family to run. Is not optional.", metavar="Required root task"
    )
    _add_flags(parser, specs, root_task, help_all)
    return parser


def _extend_parser(
    parser: argparse.ArgumentParser, old: Sequence[_FlagSpec], new: Sequence[_FlagSpec]
) -> argparse.ArgumentParser:
    """``parser`` (built from ``old``) updated to ``new``: the new flags are appended when every
    old entry is still present (the usual effect of importing a module), else a fresh parser."""
    old_keys = {spec.key for spec in old}
    added = [spec for spec in new if spec.key not in old_keys]
    if len(new) - len(added) != len(old):
        return _make_parser(new, parser_class=_QuietParser)
    _add_flags(parser, added)
    return parser


class CmdlineParser:
    """Parses a luigi command line; the active instance feeds ``--Family-param`` values to tasks."""

    _instance: CmdlineParser | None = None

    @classmethod
    def get_instance(cls) -> CmdlineParser | None:
        """The parser currently installed by ``global_instance`` (or ``None``)."""
        return cls._instance

    @classmethod
    @contextmanager
    def global_instance(cls, cmdline_args: Sequence[str], allow_override: bool = False) -> Iterator[CmdlineParser]:
        """Parse ``cmdline_args`` and install the result as the global instance for the block."""
        orig_value = cls._instance
        assert orig_value is None or allow_override
        new_value = CmdlineParser(cmdline_args)
        cls._instance = new_value
        try:
            yield new_value
        finally:
            assert cls._instance is new_value
            cls._instance = orig_value

    def __init__(self, cmdline_args: Sequence[str]) -> None:
        """Parse ``cmdline_args``: exits for ``--help``/``--help-all`` (0), a missing task
        (``No task specified``) or bad arguments (2); unknown task names raise from the registry."""
        args = list(cmdline_args)
        specs = _registry_specs()
        parser = _make_parser(specs, parser_class=_QuietParser)
        known, rejected_by = self._parse_known(parser, specs, args)

        if self._attempt_load_module(known):
            new_specs = _registry_specs()  # the module may have registered task classes
            parser = _extend_parser(parser, specs, new_specs)
            specs = new_specs
            known, rejected_after_import = self._parse_known(parser, specs, args)
            rejected_by = rejected_by or rejected_after_import

        root_task = known.root_task
        help_all = bool(getattr(known, "core_help_all", False))
        if getattr(known, "core_help", False) or help_all:
            self._possibly_exit_with_help(_make_parser(specs, root_task, help_all), known)

        try:
            self.known_args = self._parse_for_root_task(parser, specs, root_task, help_all, args)
        except (SystemExit, TaskClassException):
            if rejected_by is not None:
                rejected_by.parse_known_args(args)  # Luigi's verdict: print that error, exit 2
            raise

    @staticmethod
    def _parse_known(
        parser: argparse.ArgumentParser, specs: Sequence[_FlagSpec], args: list[str]
    ) -> tuple[argparse.Namespace, argparse.ArgumentParser | None]:
        """Preliminary ``parse_known_args`` (unknown flags ignored) to find ``--module``, help
        flags and the root task.

        Luigi exits here when an abbreviation is ambiguous, which breaks a root task's short flag
        such as ``--p`` (an exact flag only once the root task is known). So such arguments are
        re-read without abbreviations; the returned parser is then the one whose error is
        reported if the command line still fails later. Other errors print usage and exit 2.
        """
        try:
            return parser.parse_known_args(args)[0], None
        except _DeferredParseError:
            pass
        reporter = _make_parser(specs)
        parser.allow_abbrev = False
        try:
            known = parser.parse_known_args(args)[0]
        except _DeferredParseError:
            return reporter.parse_known_args(args)[0], None  # prints the error and exits 2
        finally:
            parser.allow_abbrev = True
        return known, reporter

    @staticmethod
    def _parse_for_root_task(
        parser: argparse.ArgumentParser,
        specs: Sequence[_FlagSpec],
        root_task: str | None,
        help_all: bool,
        args: list[str],
    ) -> argparse.Namespace:
        """Check the root task exists, add its short flags and parse ``args`` strictly."""
        if not root_task:
            raise SystemExit("No task specified")
        Register.get_task_cls(root_task)
        for spec in specs:
            if spec.task_name == root_task:
                _add_local_flag(parser, spec, argparse.SUPPRESS)
        try:
            return parser.parse_args(args)
        except _DeferredParseError:
            return _make_parser(specs, root_task, help_all).parse_args(args)  # prints usage, exits 2

    @staticmethod
    def _build_parser(root_task: str | None = None, help_all: bool = False) -> argparse.ArgumentParser:
        """A fresh parser with flags for every registered parameter (help shown for the root
        task's, every parameter's with ``help_all``, and ``always_in_help`` ones)."""
        return _make_parser(_registry_specs(), root_task, help_all)

    def get_task_obj(self) -> Any:
        """Instantiate the root task with the values of its short flags."""
        return self._get_task_cls()(**self._get_task_kwargs())

    def _get_task_cls(self) -> Any:
        return Register.get_task_cls(self.known_args.root_task)

    def _get_task_kwargs(self) -> dict[str, Any]:
        """Parsed values of the root task's short flags that were given (truthy)."""
        kwargs = {}
        for param_name, param_obj in self._get_task_cls().get_params():
            value = getattr(self.known_args, param_name, None)
            if value:
                kwargs[param_name] = param_obj.parse(value)
        return kwargs

    @staticmethod
    def _attempt_load_module(known_args: argparse.Namespace) -> bool:
        """Import the ``--module`` module (errors propagate); returns whether one was given."""
        module = getattr(known_args, "core_module", None)
        if module:
            __import__(module)
            return True
        return False

    @staticmethod
    def _possibly_exit_with_help(parser: argparse.ArgumentParser, known_args: argparse.Namespace) -> None:
        """Print help to stdout and exit 0 when ``--help`` or ``--help-all`` was given."""
        if getattr(known_args, "core_help", False) or getattr(known_args, "core_help_all", False):
            parser.print_help()
            sys.exit()
