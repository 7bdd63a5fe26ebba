"""Suite-wide isolation: every test starts with a fresh task registry cache, default namespace,
configuration singleton and event-callback table, and gets them restored afterwards; task classes
defined inside a test function are unregistered when it ends."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolate_luigi_globals(monkeypatch, tmp_path):
    monkeypatch.delenv("LUIGI_CONFIG_PATH", raising=False)
    monkeypatch.delenv("LUIGI_CONFIG_PARSER", raising=False)
    monkeypatch.chdir(tmp_path)  # relative config files (luigi.cfg) are looked up in the cwd
    import luigi  # noqa: F401 (runs the package initializer before the modules below)
    from luigi import configuration
    from luigi.task import Task
    from luigi.task_register import Register

    saved_paths = {cls: list(cls._config_paths) for cls in (configuration.LuigiConfigParser, configuration.LuigiTomlParser)}
    for cls in saved_paths:
        cls._instance = None
    saved_callbacks = {k: {e: set(v) for e, v in d.items()} for k, d in Task._event_callbacks.items()}
    saved_ns = dict(Register._default_namespace_dict)
    classes_before = set(Register._reg)
    Register.clear_instance_cache()
    try:
        from luigi.cmdline_parser import CmdlineParser

        CmdlineParser._instance = None
    except ImportError:
        pass
    yield
    Register.clear_instance_cache()
    # Task classes defined inside a test function are unreachable afterwards; unregister them so a
    # family name reused by another test (module) does not become ambiguous.
    Register._reg = [c for c in Register._reg if c in classes_before or "<locals>" not in c.__qualname__]
    Register._default_namespace_dict.clear()
    Register._default_namespace_dict.update(saved_ns)
    Task._event_callbacks.clear()
    Task._event_callbacks.update(saved_callbacks)
    for cls, paths in saved_paths.items():
        cls._config_paths[:] = paths
        cls._instance = None
