"""The top-level ``luigi`` namespace: exported names, reachable submodules, range autoloading."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import luigi

REPO = Path(__file__).resolve().parents[2]

EXPECTED_ALL = [
    "task", "Task", "Config", "ExternalTask", "WrapperTask", "namespace", "auto_namespace", "DynamicRequirements",
    "target", "task_register", "Target", "LocalTarget", "rpc", "RemoteScheduler", "RPCError", "parameter",
    "Parameter", "DateParameter", "MonthParameter", "YearParameter", "DateHourParameter", "DateMinuteParameter",
    "DateSecondParameter", "DateIntervalParameter", "TimeDeltaParameter", "StrParameter", "IntParameter",
    "FloatParameter", "BoolParameter", "PathParameter", "TaskParameter", "ListParameter", "TupleParameter",
    "EnumParameter", "DictParameter", "EnumListParameter", "configuration", "interface", "local_target", "run",
    "build", "event", "Event", "NumericalParameter", "ChoiceParameter", "ChoiceListParameter", "OptionalParameter",
    "OptionalStrParameter", "OptionalIntParameter", "OptionalFloatParameter", "OptionalBoolParameter",
    "OptionalPathParameter", "OptionalDateParameter", "OptionalDictParameter", "OptionalListParameter",
    "OptionalTupleParameter", "OptionalChoiceParameter", "OptionalNumericalParameter", "LuigiStatusCode",
    "__version__",
]  # fmt: skip

SUBMODULES = [
    "batch_notifier", "cmdline_parser", "configuration", "date_interval", "event", "execution_summary", "format",
    "freezing", "interface", "local_target", "lock", "metrics", "notifications", "parameter", "rpc", "scheduler",
    "setup_logging", "target", "task", "task_history", "task_register", "task_status", "worker",
]  # fmt: skip


def run_fresh_interpreter(code: str, cwd: Path) -> dict:
    """Import luigi in a new interpreter (cwd holds the luigi.cfg under test); return the JSON it prints."""
    prelude = "import json, sys, warnings\nwarnings.simplefilter('always')\n"
    result = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        cwd=cwd,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


IMPORT_AND_REPORT = """
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    import luigi
autoload = [str(w.message) for w in caught if 'Autoloading range' in str(w.message)]
categories = [w.category.__name__ for w in caught if 'Autoloading range' in str(w.message)]
print(json.dumps({'warnings': autoload, 'categories': categories, 'all': luigi.__all__,
                  'has_range': hasattr(luigi, 'range'),
                  'range_daily': 'RangeDaily' in luigi.task_register.Register.task_names()}))
"""


def test_all_is_exact_and_every_name_is_bound():
    assert luigi.__all__[:60] == EXPECTED_ALL
    assert luigi.__all__[60:] in ([], ["range"])
    for name in luigi.__all__:
        assert hasattr(luigi, name), name


def test_version_strings():
    assert luigi.VERSION == "3.8.1"
    assert luigi.__version__ == "3.8.1"
    assert "VERSION" not in luigi.__all__
    assert sys.modules["luigi.__version__"].VERSION == "3.8.1"


def test_reexports_are_the_module_objects():
    from luigi import event, parameter, task

    assert luigi.Task is task.Task
    assert luigi.Config is task.Config
    assert luigi.Event is event.Event
    assert luigi.Parameter is parameter.Parameter
    assert luigi.namespace is task.namespace
    assert luigi.DynamicRequirements is task.DynamicRequirements


def test_submodules_reachable_as_attributes_after_bare_import(tmp_path):
    report = run_fresh_interpreter(
        f"import luigi\nprint(json.dumps({{m: hasattr(luigi, m) for m in {SUBMODULES!r}}}))", tmp_path
    )
    assert report == {name: True for name in SUBMODULES}


def test_util_is_not_imported_by_import_luigi(tmp_path):
    report = run_fresh_interpreter("import luigi\nprint(json.dumps('luigi.util' in sys.modules))", tmp_path)
    assert report is False


def test_missing_autoload_option_warns_and_loads_range(tmp_path):
    report = run_fresh_interpreter(IMPORT_AND_REPORT, tmp_path)
    assert report["categories"] == ["DeprecationWarning"]
    message = report["warnings"][0]
    assert message.strip().startswith(
        "Autoloading range tasks by default has been deprecated and will be removed in a future version."
    )
    assert "autoload_range: false" in message
    assert report["has_range"] is True
    assert report["all"] == EXPECTED_ALL + ["range"]
    assert report["range_daily"] is True


def test_autoload_range_false_is_silent_and_skips_range(tmp_path):
    (tmp_path / "luigi.cfg").write_text("[core]\nautoload_range: false\n")
    report = run_fresh_interpreter(IMPORT_AND_REPORT, tmp_path)
    assert report["warnings"] == []
    assert report["has_range"] is False
    assert report["all"] == EXPECTED_ALL


def test_autoload_range_true_is_silent_and_loads_range(tmp_path):
    (tmp_path / "luigi.cfg").write_text("[core]\nautoload_range = true\n")
    report = run_fresh_interpreter(IMPORT_AND_REPORT, tmp_path)
    assert report["warnings"] == []
    assert report["has_range"] is True
    assert report["all"][-1] == "range"


def test_task_status_constants():
    from luigi import task_status

    for name in ("PENDING", "FAILED", "DONE", "RUNNING", "BATCH_RUNNING", "SUSPENDED", "UNKNOWN", "DISABLED"):
        assert getattr(task_status, name) == name


def test_event_constants():
    assert {k: v for k, v in vars(luigi.Event).items() if not k.startswith("_")} == {
        "DEPENDENCY_DISCOVERED": "event.core.dependency.discovered",
        "DEPENDENCY_MISSING": "event.core.dependency.missing",
        "DEPENDENCY_PRESENT": "event.core.dependency.present",
        "BROKEN_TASK": "event.core.task.broken",
        "START": "event.core.start",
        "PROGRESS": "event.core.progress",
        "FAILURE": "event.core.failure",
        "SUCCESS": "event.core.success",
        "PROCESSING_TIME": "event.core.processing_time",
        "TIMEOUT": "event.core.timeout",
        "PROCESS_FAILURE": "event.core.process_failure",
    }


def test_task_module_constants():
    from luigi import task

    assert task.TASK_ID_INCLUDE_PARAMS == 3
    assert task.TASK_ID_TRUNCATE_PARAMS == 16
    assert task.TASK_ID_TRUNCATE_HASH == 10
    assert task.TASK_ID_INVALID_CHAR_REGEX.pattern == "[^A-Za-z0-9_]"
    assert task._SAME_AS_PYTHON_MODULE == "_same_as_python_module"
    assert task.Parameter is luigi.parameter.Parameter
    assert task.Register is luigi.task_register.Register
    assert task.logger.name == "luigi-interface"
    assert task.ParameterVisibility is luigi.parameter.ParameterVisibility
    assert task.UnconsumedParameterWarning is luigi.parameter.UnconsumedParameterWarning
    assert issubclass(task.BulkCompleteNotImplementedError, NotImplementedError)


def test_module_all_lists():
    from luigi import task, task_register, util

    assert task.__all__ == [
        "Task", "MixinNaiveBulkComplete", "DynamicRequirements", "ExternalTask", "WrapperTask", "Config",
        "BulkCompleteNotImplementedError", "namespace", "auto_namespace", "task_id_str", "externalize", "getpaths",
        "flatten", "flatten_output",
    ]  # fmt: skip
    assert util.__all__ == [
        "common_params", "inherits", "requires", "copies", "delegates", "previous", "get_previous_completed",
    ]  # fmt: skip
    assert not hasattr(task_register, "__all__")
    for name in ("Register", "TaskClassException", "TaskClassNotFoundException", "TaskClassAmbigiousException"):
        assert hasattr(task_register, name)
    assert callable(task_register.load_task)
