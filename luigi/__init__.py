"""Luigi: build pipelines of batch jobs from tasks with dependencies (drop-in Luigi 3.8.1).

``import luigi`` binds the task model, parameters, targets, the scheduler client and the
``run``/``build`` entry points, and loads the submodules that existing code reaches as attributes
(``luigi.worker.Worker``, ``luigi.scheduler.Scheduler``, ...).
"""

from luigi import _compiled

_compiled.install()  # before anything else is imported: see luigi/_compiled.py

# Besides the public API, this loads the modules Luigi loads transitively and that user code reaches
# as ``luigi.<name>`` after a bare ``import luigi`` (explicit, so it holds whatever modules import).
from luigi import (  # noqa: F401
    batch_notifier,
    cmdline_parser,
    configuration,
    date_interval,
    event,
    execution_summary,
    format,
    freezing,
    interface,
    local_target,
    lock,
    metrics,
    notifications,
    parameter,
    rpc,
    scheduler,
    setup_logging,
    target,
    task,
    task_history,
    task_register,
    task_status,
    worker,
)
from luigi.__version__ import VERSION
from luigi.event import Event
from luigi.execution_summary import LuigiStatusCode
from luigi.interface import build, run
from luigi.local_target import LocalTarget
from luigi.parameter import (
    BoolParameter,
    ChoiceListParameter,
    ChoiceParameter,
    DateHourParameter,
    DateIntervalParameter,
    DateMinuteParameter,
    DateParameter,
    DateSecondParameter,
    DictParameter,
    EnumListParameter,
    EnumParameter,
    FloatParameter,
    IntParameter,
    ListParameter,
    MonthParameter,
    NumericalParameter,
    OptionalBoolParameter,
    OptionalChoiceParameter,
    OptionalDateParameter,
    OptionalDictParameter,
    OptionalFloatParameter,
    OptionalIntParameter,
    OptionalListParameter,
    OptionalNumericalParameter,
    OptionalParameter,
    OptionalPathParameter,
    OptionalStrParameter,
    OptionalTupleParameter,
    Parameter,
    PathParameter,
    StrParameter,
    TaskParameter,
    TimeDeltaParameter,
    TupleParameter,
    YearParameter,
)
from luigi.rpc import RemoteScheduler, RPCError
from luigi.target import Target
from luigi.task import (
    Config,
    DynamicRequirements,
    ExternalTask,
    Task,
    WrapperTask,
    auto_namespace,
    namespace,
)

__version__ = VERSION  # rebinds the name that importing the submodule luigi.__version__ bound

__all__ = [
    "task",
    "Task",
    "Config",
    "ExternalTask",
    "WrapperTask",
    "namespace",
    "auto_namespace",
    "DynamicRequirements",
    "target",
    "task_register",
    "Target",
    "LocalTarget",
    "rpc",
    "RemoteScheduler",
    "RPCError",
    "parameter",
    "Parameter",
    "DateParameter",
    "MonthParameter",
    "YearParameter",
    "DateHourParameter",
    "DateMinuteParameter",
    "DateSecondParameter",
    "DateIntervalParameter",
    "TimeDeltaParameter",
    "StrParameter",
    "IntParameter",
    "FloatParameter",
    "BoolParameter",
    "PathParameter",
    "TaskParameter",
    "ListParameter",
    "TupleParameter",
    "EnumParameter",
    "DictParameter",
    "EnumListParameter",
    "configuration",
    "interface",
    "local_target",
    "run",
    "build",
    "event",
    "Event",
    "NumericalParameter",
    "ChoiceParameter",
    "ChoiceListParameter",
    "OptionalParameter",
    "OptionalStrParameter",
    "OptionalIntParameter",
    "OptionalFloatParameter",
    "OptionalBoolParameter",
    "OptionalPathParameter",
    "OptionalDateParameter",
    "OptionalDictParameter",
    "OptionalListParameter",
    "OptionalTupleParameter",
    "OptionalChoiceParameter",
    "OptionalNumericalParameter",
    "LuigiStatusCode",
    "__version__",
]

_AUTOLOAD_RANGE_DEPRECATION = """
        Autoloading range tasks by default has been deprecated and will be removed in a future version.
        To get the behavior now add an option to luigi.cfg:

          [core]
            autoload_range: false

        Alternately set the option to true to continue with existing behaviour and suppress this warning.
    """

_RANGE_CLASSES = (
    "RangeBase",
    "RangeDailyBase",
    "RangeHourlyBase",
    "RangeByMinutesBase",
    "RangeDaily",
    "RangeHourly",
    "RangeByMinutes",
    "RangeMonthly",
)


def _autoload_range() -> None:
    """Honour ``[core] autoload_range``: load ``luigi.tools.range`` so its tasks can be named on the CLI.

    The range module is only bound as ``luigi.range`` if it exists and defines the range classes
    (it is optional while the tools are incomplete); otherwise autoloading is skipped silently.
    """
    import importlib
    import importlib.util
    import warnings

    config = configuration.get_config()
    if not config.has_option("core", "autoload_range"):
        warnings.warn(_AUTOLOAD_RANGE_DEPRECATION, DeprecationWarning, stacklevel=1)
    if not config.getboolean("core", "autoload_range", default=True):
        return
    try:
        found = importlib.util.find_spec("luigi.tools.range") is not None
    except ImportError:
        found = False
    if not found:
        return
    range_module = importlib.import_module("luigi.tools.range")
    if all(hasattr(range_module, name) for name in _RANGE_CLASSES):
        globals()["range"] = range_module
        __all__.append("range")


_autoload_range()
