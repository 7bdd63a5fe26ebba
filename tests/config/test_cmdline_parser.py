"""CmdlineParser: flags from the task registry, value precedence, help, errors, --module."""

from __future__ import annotations

import logging
import re
import sys
import textwrap
from types import SimpleNamespace

import pytest

import luigi
import luigi.interface  # registers the section-less ``core`` flags (--workers, --module, --help, ...)
from luigi.cmdline_parser import CmdlineParser
from luigi.task_register import Register, TaskClassAmbigiousException, TaskClassNotFoundException


@pytest.fixture(autouse=True)
def restore_registry(monkeypatch):
    """Classes defined by a test are dropped afterwards; help/usage output is stable."""
    saved = Register._get_reg()
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(sys, "argv", ["luigi"])
    yield
    Register._set_reg(saved)


@pytest.fixture
def tasks():
    class CliTask(luigi.Task):
        x = luigi.IntParameter(default=1, description="the x")
        flag = luigi.BoolParameter(description="a flag")
        name = luigi.Parameter(default="dflt")
        p = luigi.IntParameter(default=0)

    class CliOther(luigi.Task):
        long_param_name = luigi.Parameter(default="other")
        explicit = luigi.BoolParameter(parsing=luigi.BoolParameter.EXPLICIT_PARSING)

    class CliNamespaced(luigi.Task):
        task_namespace = "my.ns"
        some_value = luigi.Parameter(default="ns")

    return SimpleNamespace(CliTask=CliTask, CliOther=CliOther, CliNamespaced=CliNamespaced)


def parse(args):
    return CmdlineParser(args).known_args


def test_global_instance_installs_and_restores(tasks):
    assert CmdlineParser.get_instance() is None
    with CmdlineParser.global_instance(["CliTask"]) as cp:
        assert CmdlineParser.get_instance() is cp
        assert CmdlineParser._instance is cp
        with pytest.raises(AssertionError):
            with CmdlineParser.global_instance(["CliTask"]):
                pass
        with CmdlineParser.global_instance(["CliOther"], allow_override=True) as inner:
            assert CmdlineParser.get_instance() is inner
        assert CmdlineParser.get_instance() is cp
    assert CmdlineParser.get_instance() is None


def test_global_instance_restored_on_exception(tasks):
    with pytest.raises(RuntimeError):
        with CmdlineParser.global_instance(["CliTask"]):
            raise RuntimeError("boom")
    assert CmdlineParser.get_instance() is None


def test_failed_construction_leaves_instance_unchanged(tasks):
    with CmdlineParser.global_instance(["CliTask"]) as outer:
        with pytest.raises(SystemExit):
            with CmdlineParser.global_instance([], allow_override=True):
                pass
        assert CmdlineParser.get_instance() is outer


def test_known_args_dests(tasks):
    args = parse(
        [
            "--workers",
            "3",
            "CliTask",
            "--x",
            "5",
            "--CliOther-long-param-name",
            "v",
            "--my.ns.CliNamespaced-some-value",
            "n",
        ]
    )
    assert args.root_task == "CliTask"
    assert args.core_workers == "3"
    assert args.x == "5"
    assert args.CliTask_x is None
    assert args.CliOther_long_param_name == "v"
    assert getattr(args, "my.ns.CliNamespaced_some_value") == "n"
    assert args.flag is False and args.CliTask_flag is False
    assert args.CliOther_explicit is None


def test_root_local_flag_versus_qualified_flag(tasks):
    with CmdlineParser.global_instance(["CliTask", "--x", "7", "--CliTask-x", "8", "--name", "root-only"]) as cp:
        assert cp._get_task_kwargs() == {"x": 7, "name": "root-only"}
        root = cp.get_task_obj()
        assert (root.x, root.name) == (7, "root-only")
        other = tasks.CliTask()
        assert (other.x, other.name) == (8, "dflt")
    assert tasks.CliTask().x == 1  # outside the command-line context


def test_config_and_defaults_under_command_line(tmp_path, tasks):
    (tmp_path / "luigi.cfg").write_text("[CliTask]\nx = 42\n[CliOther]\nlong_param_name = cfg\n")
    with CmdlineParser.global_instance(["CliTask", "--CliOther-long-param-name", "cli"]) as cp:
        assert cp.get_task_obj().x == 42
        assert tasks.CliOther().long_param_name == "cli"
    with CmdlineParser.global_instance(["CliTask", "--x", "1"]) as cp:
        assert cp.get_task_obj().x == 1


def test_global_flags_anywhere_and_last_wins(tasks):
    args = parse(["--CliTask-x", "1", "CliTask", "--CliTask-x", "2", "--workers", "2", "--workers", "9"])
    assert (args.CliTask_x, args.core_workers) == ("2", "9")


def test_bool_flags(tasks):
    with CmdlineParser.global_instance(["CliTask", "--flag"]) as cp:
        assert cp._get_task_kwargs() == {"flag": True}
    with CmdlineParser.global_instance(["CliOther", "--explicit", "false", "--CliTask-flag"]) as cp:
        assert cp._get_task_kwargs() == {"explicit": False}
        assert tasks.CliTask().flag is True
    with CmdlineParser.global_instance(["CliOther", "--explicit"]) as cp:
        assert cp.get_task_obj().explicit is True


def test_empty_value_counts_as_not_given(tasks):
    with CmdlineParser.global_instance(["CliTask", "--name", "", "--CliTask-x", ""]) as cp:
        assert cp._get_task_kwargs() == {}
        obj = cp.get_task_obj()
        assert (obj.name, obj.x) == ("dflt", 1)


def test_unique_prefix_abbreviation_is_accepted(tasks):
    args = parse(["CliTask", "--local", "--CliOther-long", "z"])
    assert args.core_local_scheduler is True
    assert args.CliOther_long_param_name == "z"


def test_core_values_reach_core_config(tasks):
    with CmdlineParser.global_instance(["CliTask", "--workers", "4", "--local-scheduler", "--log-level", "INFO"]):
        core = luigi.interface.core()
        assert (core.workers, core.local_scheduler, core.log_level) == (4, True, "INFO")


def test_no_task_specified(tasks):
    with pytest.raises(SystemExit) as info:
        CmdlineParser(["--workers", "2"])
    assert info.value.code == "No task specified"


def test_unknown_task(tasks):
    with pytest.raises(TaskClassNotFoundException) as info:
        CmdlineParser(["CliTsk"])
    assert str(info.value).startswith("No task CliTsk. Did you mean:\nCliTask")


def test_local_flag_before_task_name_is_taken_as_task(tasks):
    with pytest.raises(TaskClassNotFoundException, match=r"^No task 3\. "):
        CmdlineParser(["--x", "3", "CliTask"])


def test_ambiguous_task(tasks):
    def make():
        class CliTwice(luigi.Task):
            pass

        return CliTwice

    make()
    make()
    with pytest.raises(TaskClassAmbigiousException) as info:
        CmdlineParser(["CliTwice"])
    assert str(info.value) == "Task 'CliTwice' is ambiguous"


def test_unrecognized_argument_exits_2_with_luigi_usage(tasks, capsys):
    with pytest.raises(SystemExit) as info:
        CmdlineParser(["CliTask", "--bogus", "1"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.endswith("luigi: error: unrecognized arguments: --bogus 1\n")
    usage = err.split("luigi: error")[0]
    assert usage.startswith("usage: luigi [--local-scheduler] [--module CORE_MODULE] [--help] [--help-all]")
    assert "[--CliTask-x CLITASK_X] [--x X] [--CliTask-flag] [--flag]" in usage
    assert "--CliOther" not in usage


def test_ambiguous_abbreviation_exits_2(tasks, capsys):
    with pytest.raises(SystemExit) as info:
        CmdlineParser(["--parallel", "CliTask"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert (
        "error: ambiguous option: --parallel could match --parallel-scheduling, --parallel-scheduling-processes" in err
    )


def test_short_root_flag_that_abbreviates_global_flags(tasks):
    # ``--p`` would be an ambiguous abbreviation of --parallel-scheduling(-processes) before the
    # root task is known (Luigi exits 2 there); it is the root task's exact flag afterwards
    with CmdlineParser.global_instance(["CliTask", "--p", "3", "--parallel-scheduling"]) as cp:
        assert cp._get_task_kwargs() == {"p": 3}
        assert cp.known_args.core_parallel_scheduling is True


@pytest.mark.parametrize("args", [["--p", "3", "CliTask"], ["CliTask", "--p"], ["--p", "3"]])
def test_short_flag_failures_report_the_ambiguity(tasks, capsys, args):
    with pytest.raises(SystemExit) as info:
        CmdlineParser(args)
    assert info.value.code == 2
    # other Config classes loaded in this process (e.g. [prometheus]) may add more candidates
    assert (
        "\nluigi: error: ambiguous option: --p could match --parallel-scheduling, --parallel-scheduling-processes"
        in capsys.readouterr().err
    )


def test_bad_value_for_bool_flag_exits_2(tasks, capsys):
    with pytest.raises(SystemExit) as info:
        CmdlineParser(["CliTask", "--flag", "x", "--CliTask-x"])
    assert info.value.code == 2
    assert "error: " in capsys.readouterr().err


def test_help_lists_common_and_root_task_flags(tasks, capsys):
    with pytest.raises(SystemExit) as info:
        CmdlineParser(["CliTask", "--help"])
    assert info.value.code is None
    out = capsys.readouterr().out
    assert out.startswith("usage: luigi [--local-scheduler] [--module CORE_MODULE] [--help] [--help-all]")
    assert re.search(r"\n  Required root task +Task family to run\. Is not optional\.\n", out)
    assert re.search(r"\n  --CliTask-x CLITASK_X\s+the x\n  --x X\s+the x\n", out)
    assert re.search(r"\n  --CliTask-flag\s+a flag\n  --flag\s+a flag\n", out)
    assert "\n  --CliTask-name CLITASK_NAME\n  --name NAME\n" in out  # no description, still listed
    assert "--workers" not in out
    assert "--CliOther" not in out


def test_help_all_lists_every_flag(tasks, capsys):
    with pytest.raises(SystemExit) as info:
        CmdlineParser(["--help-all"])
    assert info.value.code is None
    out = capsys.readouterr().out
    for flag in (
        "--workers CORE_WORKERS",
        "--scheduler-host",
        "--CliTask-x",
        "--CliOther-long-param-name",
        "--my.ns.CliNamespaced-some-value",
    ):
        assert flag in out
    assert "\n  --x X" not in out  # no root task, so no short flags


def test_help_with_unknown_task_still_prints_help(tasks, capsys):
    with pytest.raises(SystemExit) as info:
        CmdlineParser(["NoSuchTask", "--help"])
    assert info.value.code is None
    assert capsys.readouterr().out.startswith("usage: luigi")


def test_module_is_imported_before_resolving_the_task(tmp_path, monkeypatch):
    (tmp_path / "cli_user_module.py").write_text(
        textwrap.dedent(
            """
            import luigi

            class CliFromModule(luigi.Task):
                depth = luigi.IntParameter(default=0)
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "cli_user_module", raising=False)
    with CmdlineParser.global_instance(
        ["--module", "cli_user_module", "CliFromModule", "--depth", "3", "--CliFromModule-depth", "4"]
    ) as cp:
        assert cp.get_task_obj().depth == 3
        assert cp.known_args.CliFromModule_depth == "4"
        assert type(cp.get_task_obj()).__module__ == "cli_user_module"


def test_module_import_error_propagates(tasks):
    with pytest.raises(ModuleNotFoundError, match="cli_missing_module"):
        CmdlineParser(["--module", "cli_missing_module", "CliTask"])


def test_registry_read_once_without_module(tasks, monkeypatch):
    calls = []
    original = Register.get_all_params.__func__

    def counting(cls):
        calls.append(1)
        return original(cls)

    monkeypatch.setattr(Register, "get_all_params", classmethod(counting))
    CmdlineParser(["CliTask", "--x", "2"])
    assert len(calls) == 1


def test_root_param_colliding_with_core_flag_does_not_crash(caplog):
    class CliCollide(luigi.Task):
        workers = luigi.IntParameter(default=5)

    with caplog.at_level(logging.WARNING, logger="luigi-interface"):
        with CmdlineParser.global_instance(["CliCollide", "--workers", "3", "--CliCollide-workers", "6"]) as cp:
            assert cp.known_args.core_workers == "3"
            assert cp._get_task_kwargs() == {}
            assert cp.get_task_obj().workers == 6
            assert luigi.interface.core().workers == 3
    assert (
        "Command-line flag --workers for root task CliCollide.workers duplicates an earlier flag and is ignored"
        in caplog.messages
    )


def test_families_mapping_to_the_same_flag_do_not_crash(caplog):
    class cli_a(luigi.Task):
        b_c = luigi.Parameter(default="first")

    class cli_a_b(luigi.Task):
        c = luigi.Parameter(default="second")

    with caplog.at_level(logging.WARNING, logger="luigi-interface"):
        with CmdlineParser.global_instance(["cli_a", "--cli-a-b-c", "given"]) as cp:
            assert cli_a().b_c == "given"
            # both parameters read the same argparse dest ``cli_a_b_c``, so the value is shared
            assert cli_a_b().c == "given"
            assert cp.known_args.cli_a_b_c == "given"
        with CmdlineParser.global_instance(["cli_a_b"]):
            assert (cli_a().b_c, cli_a_b().c) == ("first", "second")
    assert "Command-line flag --cli-a-b-c for cli_a_b.c duplicates an earlier flag and is ignored" in caplog.messages


def test_build_parser_staticmethod(tasks):
    parser = CmdlineParser._build_parser(root_task="CliTask")
    args = parser.parse_args(["CliTask", "--x", "1", "--CliTask-x", "2"])
    assert (args.x, args.CliTask_x) == ("1", "2")
    help_text = parser.format_help()
    assert "--CliTask-x CLITASK_X" in help_text and "--workers" not in help_text
    assert "--workers" in CmdlineParser._build_parser(help_all=True).format_help()


def test_helper_staticmethods(tasks, monkeypatch, capsys):
    assert CmdlineParser._attempt_load_module(SimpleNamespace(core_module="")) is False
    monkeypatch.delitem(sys.modules, "json.tool", raising=False)
    CmdlineParser._attempt_load_module(SimpleNamespace(core_module="json.tool"))
    assert "json.tool" in sys.modules
    parser = CmdlineParser._build_parser()
    CmdlineParser._possibly_exit_with_help(parser, SimpleNamespace(core_help=False, core_help_all=False))
    with pytest.raises(SystemExit):
        CmdlineParser._possibly_exit_with_help(parser, SimpleNamespace(core_help=True, core_help_all=False))
    assert capsys.readouterr().out.startswith("usage: luigi")


TOKENS = [
    "CliTask", "CliOther", "3", "false", "-", "--", "-x", "--x", "--x=5", "--p", "--par", "--pa=1", "--local",
    "--workers", "--workers=3", "--wor", "--flag", "--fl", "--name", "--CliTask-x", "--CliT", "--CliOther-explicit",
    "--nope", "--help-a", "--my.ns", "--e",
]  # fmt: skip


def test_working_parser_matches_full_parser(tasks):
    """The lean parser (only flags named on the command line) must agree with a parser holding
    every flag: same namespace, or both rejecting the arguments."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from luigi.cmdline_parser import _DeferredParseError, _FlagTable, _make_parser, _registry_specs, _working_parser

    table = _FlagTable(_registry_specs())
    full_parsers = {root: _make_parser(table, root) for root in (None, "CliTask", "CliOther")}

    def reject(message):
        raise _DeferredParseError(message)

    for parser in full_parsers.values():
        parser.error = reject  # skip formatting usage for every rejected example

    def outcome(parse):
        try:
            return vars(parse())
        except _DeferredParseError:
            return "error"

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.sampled_from(TOKENS), max_size=6), st.sampled_from([None, "CliTask", "CliOther"]))
    def check(args, root):
        lean = outcome(lambda: _working_parser(table, args, root).parse_args(args))
        assert lean == outcome(lambda: full_parsers[root].parse_args(args))
        if root is None:  # the preliminary parse, before the root task is known
            lean_known = outcome(lambda: _working_parser(table, args).parse_known_args(args)[0])
            assert lean_known == outcome(lambda: full_parsers[None].parse_known_args(args)[0])

    check()


def test_custom_parser_kwargs_are_honoured(capsys):
    class ManyParameter(luigi.Parameter):
        def _parser_kwargs(self, param_name, task_name=None):
            return dict(super()._parser_kwargs(param_name, task_name), nargs="+")

        def parse(self, x):
            return ",".join(x) if isinstance(x, list) else x

    class RequiredParameter(luigi.Parameter):
        def _parser_kwargs(self, param_name, task_name=None):
            return {"action": "store", "required": True}  # no dest: argparse derives it

    class CliMany(luigi.Task):
        items = ManyParameter(default="none")

    with CmdlineParser.global_instance(["CliMany", "--items", "a", "b", "--CliMany-items", "c", "d"]) as cp:
        assert cp.known_args.CliMany_items == ["c", "d"]
        assert cp.get_task_obj().items == "a,b"
        assert CliMany().items == "c,d"

    class CliRequired(luigi.Task):
        token = RequiredParameter(default="t")

    with pytest.raises(SystemExit) as info:
        CmdlineParser(["CliMany"])
    assert info.value.code == 2
    assert "error: the following arguments are required: --CliRequired-token" in capsys.readouterr().err
    args = CmdlineParser(["CliMany", "--CliRequired-token", "v"]).known_args
    assert args.CliRequired_token == "v"
