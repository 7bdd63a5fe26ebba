"""luigi.setup_logging: precedence of logging sources, once-per-class setup, exact log texts."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from luigi.configuration import LuigiConfigParser, get_config
from luigi.setup_logging import BaseLogging, DaemonLogging, InterfaceLogging

REPO = Path(__file__).resolve().parents[2]

FILE_CONFIG = textwrap.dedent(
    """
    [loggers]
    keys=root,custom
    [handlers]
    keys=file
    [formatters]
    keys=plain
    [logger_root]
    level=WARNING
    handlers=
    [logger_custom]
    level=DEBUG
    handlers=file
    qualname=custom.logger
    propagate=0
    [handler_file]
    class=FileHandler
    level=DEBUG
    formatter=plain
    args=('{log}', 'w')
    [formatter_plain]
    format=CUSTOM %(levelname)s %(message)s
    """
)


@pytest.fixture(autouse=True)
def restore_logging():
    watched = [logging.getLogger(name) for name in ("luigi-interface", "custom.logger")] + [logging.getLogger()]
    saved = [(lg, lg.handlers[:], lg.level, lg.propagate, lg.disabled) for lg in watched]
    InterfaceLogging._configured = False
    DaemonLogging._configured = False
    yield
    for lg, handlers, level, propagate, disabled in saved:
        for handler in lg.handlers:
            if handler not in handlers:
                handler.close()
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate = propagate
        lg.disabled = disabled
    InterfaceLogging._configured = False
    DaemonLogging._configured = False


def core_opts(**overrides):
    values = dict(logging_conf_file="", log_level="DEBUG")
    values.update(overrides)
    return SimpleNamespace(**values)


def messages(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "luigi"]


def test_config_follows_the_active_parser(tmp_path):
    assert BaseLogging.config is get_config()
    replacement = LuigiConfigParser()
    LuigiConfigParser._instance = replacement
    assert InterfaceLogging.config is replacement
    assert DaemonLogging._log_format == "%(asctime)s %(name)s[%(process)s] %(levelname)s: %(message)s"


def test_interface_default_setup_adds_stream_handler(caplog):
    logger = logging.getLogger("luigi-interface")
    before = list(logger.handlers)
    with caplog.at_level(logging.INFO, logger="luigi"):
        assert InterfaceLogging.setup(core_opts(log_level="WARNING")) is True
    assert messages(caplog) == ["logging configured by default settings"]
    added = [h for h in logger.handlers if h not in before]
    assert len(added) == 1
    handler = added[0]
    assert isinstance(handler, logging.StreamHandler)
    assert handler.stream is sys.stderr
    assert handler.level == logging.WARNING
    assert logger.level == logging.WARNING
    record = logging.LogRecord("luigi-interface", logging.INFO, __file__, 1, "Done scheduling tasks", None, None)
    assert handler.formatter.format(record) == "INFO: Done scheduling tasks"


def test_unknown_log_level_falls_back_to_debug():
    assert InterfaceLogging.setup(core_opts(log_level="LOUD")) is True
    assert logging.getLogger("luigi-interface").level == logging.DEBUG


def test_setup_happens_once_per_class(caplog):
    with caplog.at_level(logging.INFO, logger="luigi"):
        assert InterfaceLogging.setup(core_opts()) is True
        assert InterfaceLogging.setup(core_opts()) is False
    assert messages(caplog) == ["logging configured by default settings", "logging already configured"]
    assert InterfaceLogging._configured is True
    assert DaemonLogging._configured is False


def test_no_configure_logging_disables_setup(tmp_path, caplog):
    (tmp_path / "luigi.cfg").write_text("[core]\nno_configure_logging = true\n")
    handlers = list(logging.getLogger("luigi-interface").handlers)
    with caplog.at_level(logging.INFO, logger="luigi"):
        assert InterfaceLogging.setup(core_opts()) is False
    assert messages(caplog) == ["logging disabled in settings"]
    assert logging.getLogger("luigi-interface").handlers == handlers


def test_interface_conf_file(tmp_path):
    log = tmp_path / "out.log"
    conf = tmp_path / "logging.conf"
    conf.write_text(FILE_CONFIG.format(log=log))
    assert InterfaceLogging.setup(core_opts(logging_conf_file=str(conf))) is True
    logging.getLogger("custom.logger").info("hello")
    assert not logging.getLogger("luigi-interface").disabled  # existing loggers are kept
    for handler in logging.getLogger("custom.logger").handlers:
        handler.flush()
    assert log.read_text() == "CUSTOM INFO hello\n"


def test_missing_conf_file_raises_and_allows_retry(tmp_path):
    opts = core_opts(logging_conf_file=str(tmp_path / "missing.conf"))
    with pytest.raises(OSError) as info:
        InterfaceLogging.setup(opts)
    assert str(info.value) == "Error: Unable to locate specified logging configuration file!"
    assert InterfaceLogging._configured is False
    assert InterfaceLogging.setup(core_opts()) is True


def test_cfg_parser_has_no_logging_section(tmp_path):
    (tmp_path / "luigi.cfg").write_text("[logging]\nversion = 1\n")
    assert InterfaceLogging._section(core_opts()) is False


def test_toml_without_logging_table(monkeypatch):
    monkeypatch.setenv("LUIGI_CONFIG_PARSER", "toml")
    assert InterfaceLogging._section(core_opts()) is False


def test_daemon_cli_and_conf_hooks(tmp_path):
    assert DaemonLogging._cli(SimpleNamespace(background=None, logdir=None)) is False
    assert DaemonLogging._conf(None) is False
    config = LuigiConfigParser()
    config.set("core", "logging_conf_file", str(tmp_path / "missing.conf"))
    DaemonLogging.config = config
    try:
        with pytest.raises(OSError, match="Unable to locate specified logging configuration file"):
            DaemonLogging._conf(None)
    finally:
        del DaemonLogging.config
    assert DaemonLogging.config is get_config()


def run_python(tmp_path, code, **env):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("LUIGI_CONFIG")}
    full_env.update(env, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_daemon_logdir_writes_server_log(tmp_path):
    proc = run_python(
        tmp_path,
        """
        import logging, os
        from types import SimpleNamespace
        from luigi.setup_logging import DaemonLogging
        print(DaemonLogging.setup(SimpleNamespace(background=False, logdir=".")), os.getpid())
        logging.getLogger("luigi.server").info("started")
        """,
    )
    assert proc.returncode == 0, proc.stderr
    result, pid = proc.stdout.split()
    assert result == "True"
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
    lines = (tmp_path / "luigi-server.log").read_text().splitlines()
    assert len(lines) == 2
    assert re.fullmatch(rf"{stamp} luigi\[{pid}\] INFO: logging configured via special settings", lines[0])
    assert re.fullmatch(rf"{stamp} luigi.server\[{pid}\] INFO: started", lines[1])


def test_daemon_background_sets_root_level(tmp_path):
    proc = run_python(
        tmp_path,
        """
        import logging
        from types import SimpleNamespace
        from luigi.setup_logging import DaemonLogging
        print(DaemonLogging.setup(SimpleNamespace(background=True, logdir="ignored")), logging.getLogger().level)
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"True {logging.INFO}\n"


def test_daemon_default_and_conf_file_from_config(tmp_path):
    proc = run_python(
        tmp_path,
        """
        import logging
        from luigi.setup_logging import DaemonLogging
        print(DaemonLogging.setup())
        logging.getLogger("x").info("default format")
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "True\n"
    assert " x[" in proc.stderr and "] INFO: default format" in proc.stderr

    log = tmp_path / "conf.log"
    conf = tmp_path / "logging.conf"
    conf.write_text(FILE_CONFIG.format(log=log))
    (tmp_path / "luigi.cfg").write_text(f"[core]\nlogging_conf_file = {conf}\n")
    proc = run_python(
        tmp_path,
        """
        import logging
        from luigi.setup_logging import DaemonLogging
        print(DaemonLogging.setup())
        logging.getLogger("custom.logger").warning("from conf")
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "True\n"
    assert log.read_text() == "CUSTOM WARNING from conf\n"


def test_toml_logging_section_uses_dict_config(tmp_path):
    (tmp_path / "luigi.toml").write_text(
        textwrap.dedent(
            """
            [logging]
            version = 1
            disable_existing_loggers = false
            [logging.formatters.short]
            format = "TOML %(name)s %(message)s"
            [logging.handlers.out]
            class = "logging.StreamHandler"
            stream = "ext://sys.stdout"
            formatter = "short"
            [logging.loggers.luigi-interface]
            handlers = ["out"]
            level = "INFO"
            """
        )
    )
    proc = run_python(
        tmp_path,
        """
        import logging
        from types import SimpleNamespace
        from luigi.setup_logging import InterfaceLogging
        ok = InterfaceLogging.setup(SimpleNamespace(logging_conf_file="", log_level="DEBUG"))
        logging.getLogger("luigi-interface").info("via toml")
        print(ok)
        """,
        LUIGI_CONFIG_PARSER="toml",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "TOML luigi-interface via toml\nTrue\n"
