"""Command-line parsing for ``luigi [--global-flags] <TaskFamily> [--flags]``.

Every parameter of every registered task/config class gets a ``--<Family>-<param>`` flag (just
``--<param>`` for classes with ``use_cmdline_section = False``), and the root task's parameters also
get a short ``--<param>`` flag. While a parser is the global instance, ``luigi.parameter`` reads
the parsed namespace to resolve parameter values.

Luigi builds three argparse parsers holding every flag of the registry for each command line,
which takes seconds with thousands of task classes. Here the flag table is computed once per
registry state and the working parser only holds the flags the command line can name (exact
options and the flags its tokens abbreviate, so argparse's matching and errors are unchanged);
every other destination is still present in the namespace through parser defaults. Parsers with
every flag and help text are built only to print help or an argparse error, so that output
matches Luigi's.
"""

from __future__ import annotations

import argparse
import bisect
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


_NATURAL_DEFAULTS = {"store_true": False, "store_false": True}


class _Flag(NamedTuple):
    """One argparse option: its option string, ``add_argument`` kwargs and where it comes from.

    ``position`` orders flags as Luigi adds them (each global flag, then the root task's short
    flag for the same parameter), which decides which of two equal option strings is kept.
    """

    option: str
    kwargs: dict[str, Any]
    spec: _FlagSpec
    position: tuple[int, int]

    @property
    def owner(self) -> str:
        prefix = "root task " if self.position[1] else ""
        return f"{prefix}{self.spec.task_name}.{self.spec.param_name}"

    @property
    def dest(self) -> str:
        return self.kwargs.get("dest") or self.option[2:].replace("-", "_")

    @property
    def default(self) -> Any:
        """The value argparse leaves at ``dest`` when the option is absent."""
        return self.kwargs.get("default", _NATURAL_DEFAULTS.get(self.kwargs.get("action")))


def _registry_specs() -> list[_FlagSpec]:
    return [_FlagSpec(*entry) for entry in Register.get_all_params()]


def _named(option: str, prefixes: Sequence[str]) -> bool:
    return any(option.startswith(prefix) for prefix in prefixes)


class _FlagTable:
    """Every global flag of one registry state, indexed by option string, built once per
    command line (twice with ``--module``)."""

    def __init__(self, specs: Sequence[_FlagSpec]) -> None:
        self.specs = specs
        self.flags: list[_Flag] = []
        self.defaults: dict[str, Any] = {}
        for i, spec in enumerate(specs):
            name = spec.param_name if spec.is_without_section else f"{spec.task_name}_{spec.param_name}"
            kwargs = spec.param_obj._parser_kwargs(spec.param_name, spec.task_name)
            flag = _Flag("--" + name.replace("_", "-"), kwargs, spec, (i, 0))
            self.flags.append(flag)
            self.defaults.setdefault(flag.dest, flag.default)
        self._required = [flag for flag in self.flags if flag.kwargs.get("required")]
        index = sorted((flag.option, i) for i, flag in enumerate(self.flags))
        self._options = [option for option, _ in index]
        self._flag_numbers = [i for _, i in index]

    def root_flags(self, root_task: str | None) -> list[_Flag]:
        """The short ``--<param>`` flags of the root task's parameters."""
        return [
            _Flag(
                "--" + spec.param_name.replace("_", "-"), spec.param_obj._parser_kwargs(spec.param_name), spec, (i, 1)
            )
            for i, spec in enumerate(self.specs)
            if spec.task_name == root_task
        ]

    def all_flags(self, root_task: str | None = None) -> list[_Flag]:
        """Every flag in Luigi's order."""
        return sorted(self.flags + self.root_flags(root_task), key=lambda flag: flag.position)

    def named_by(self, args: Sequence[str], root_task: str | None = None) -> list[_Flag]:
        """The flags some token of ``args`` names exactly or abbreviates, plus required ones (so
        their absence is an error), in Luigi's order."""
        prefixes = [
            token.split("=", 1)[0]
            for token in args
            if len(token) > 2 and token.startswith("--")  # other tokens never name a "--" flag
        ]
        found = {}
        for prefix in prefixes:
            i = bisect.bisect_left(self._options, prefix)
            while i < len(self._options) and self._options[i].startswith(prefix):
                flag = self.flags[self._flag_numbers[i]]
                found[flag.position] = flag
                i += 1
        for flag in self._required + self.root_flags(root_task):
            if flag.kwargs.get("required") or _named(flag.option, prefixes):
                found[flag.position] = flag
        return [found[position] for position in sorted(found)]


class _DeferredParseError(Exception):
    """Raised instead of argparse's print-and-exit so the error can be re-reported by a fully
    described parser (same usage text as Luigi)."""


class _QuietParser(argparse.ArgumentParser):
    """The working parser: never prints (errors are re-reported by a fully described parser)
    and reuses one help formatter, which ``add_argument`` builds per flag only to validate the
    metavar."""

    _formatter: argparse.HelpFormatter | None = None

    def error(self, message: str) -> Any:  # type: ignore[override]
        raise _DeferredParseError(message)

    def _get_formatter(self) -> argparse.HelpFormatter:
        if self._formatter is None:
            self._formatter = super()._get_formatter()
        return self._formatter


def _new_parser(parser_class: type[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = parser_class(add_help=False)
    parser.add_argument(
        "root_task", nargs="?", help="Task family to run. Is not optional.", metavar="Required root task"
    )
    return parser


def _add_flag(parser: argparse.ArgumentParser, flag: _Flag, help_text: str) -> None:
    """Add ``flag`` unless an earlier flag has the same option string (then warn and skip it;
    Luigi fails on every command line instead)."""
    if flag.option in parser._option_string_actions:
        logger.warning("Command-line flag %s for %s duplicates an earlier flag and is ignored", flag.option, flag.owner)
        return
    parser.add_argument(flag.option, help=help_text, **flag.kwargs)


def _make_parser(table: _FlagTable, root_task: str | None = None, help_all: bool = False) -> argparse.ArgumentParser:
    """A parser with every flag; help is shown for the root task's parameters, for all with
    ``help_all``, and for ``always_in_help`` ones."""
    parser = _new_parser(argparse.ArgumentParser)
    for flag in table.all_flags(root_task):
        param = flag.spec.param_obj
        show = flag.spec.task_name == root_task or help_all or param.always_in_help
        _add_flag(parser, flag, param.description if show else argparse.SUPPRESS)
    return parser


def _working_parser(table: _FlagTable, args: Sequence[str], root_task: str | None = None) -> _QuietParser:
    """A parser that treats ``args`` exactly like the full parser (same matches, abbreviations
    and ambiguities) but only holds the flags ``args`` can name; every destination still gets
    its default."""
    parser = _new_parser(_QuietParser)
    parser.set_defaults(**table.defaults)
    for flag in table.root_flags(root_task):
        parser.set_defaults(**{flag.dest: flag.default})
    for flag in table.named_by(args, root_task):
        _add_flag(parser, flag, argparse.SUPPRESS)
    return parser  # type: ignore[return-value]


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
        table = _FlagTable(_registry_specs())
        known, rejected_by = self._parse_known(table, args)

        if self._attempt_load_module(known):
            table = _FlagTable(_registry_specs())  # the module may have registered task classes
            known, rejected_after_import = self._parse_known(table, args)
            rejected_by = rejected_by or rejected_after_import

        root_task = known.root_task
        help_all = bool(getattr(known, "core_help_all", False))
        if getattr(known, "core_help", False) or help_all:
            self._possibly_exit_with_help(_make_parser(table, root_task, help_all), known)

        try:
            self.known_args = self._parse_for_root_task(table, root_task, help_all, args)
        except (SystemExit, TaskClassException):
            if rejected_by is not None:
                _make_parser(rejected_by).parse_known_args(args)  # Luigi's verdict: print it, exit 2
            raise

    @staticmethod
    def _parse_known(table: _FlagTable, args: list[str]) -> tuple[argparse.Namespace, _FlagTable | None]:
        """Preliminary ``parse_known_args`` (unknown flags ignored) to find ``--module``, help
        flags and the root task.

        Luigi exits here when an abbreviation is ambiguous, which breaks a root task's short flag
        such as ``--p`` (an exact flag only once the root task is known). So such arguments are
        re-read without abbreviations, and the flag table whose error must be reported if the
        command line still fails later is returned too. Other errors print usage and exit 2.
        """
        parser = _working_parser(table, args)
        try:
            return parser.parse_known_args(args)[0], None
        except _DeferredParseError:
            pass
        parser.allow_abbrev = False
        try:
            return parser.parse_known_args(args)[0], table
        except _DeferredParseError:
            return _make_parser(table).parse_known_args(args)[0], None  # prints the error, exits 2

    @staticmethod
    def _parse_for_root_task(
        table: _FlagTable, root_task: str | None, help_all: bool, args: list[str]
    ) -> argparse.Namespace:
        """Check the root task exists, then parse ``args`` strictly, with its short flags."""
        if not root_task:
            raise SystemExit("No task specified")
        Register.get_task_cls(root_task)
        try:
            return _working_parser(table, args, root_task).parse_args(args)
        except _DeferredParseError:
            return _make_parser(table, root_task, help_all).parse_args(args)  # prints usage, exits 2

    @staticmethod
    def _build_parser(root_task: str | None = None, help_all: bool = False) -> argparse.ArgumentParser:
        """A parser with flags for every registered parameter (help shown for the root task's,
        every parameter's with ``help_all``, and ``always_in_help`` ones)."""
        return _make_parser(_FlagTable(_registry_specs()), root_task, help_all)

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
