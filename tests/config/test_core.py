"""Parser selection, get_config, add_config_path and the LUIGI_CONFIG_PATH import hook."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import luigi.configuration
from luigi.configuration import LuigiConfigParser, LuigiTomlParser, add_config_path, get_config
from luigi.configuration.core import DEFAULT_PARSER, PARSERS, _check_parser, _get_default_parser

REPO = Path(__file__).resolve().parents[2]


def test_exports():
    assert sorted(luigi.configuration.__all__) == sorted(
        ["get_config", "add_config_path", "LuigiConfigParser", "LuigiTomlParser"]
    )
    assert PARSERS == {
        "cfg": LuigiConfigParser,
        "conf": LuigiConfigParser,
        "ini": LuigiConfigParser,
        "toml": LuigiTomlParser,
    }
    assert DEFAULT_PARSER == "cfg"


def test_default_parser_follows_environment_on_every_call(monkeypatch):
    assert _get_default_parser() == "cfg"
    monkeypatch.setenv("LUIGI_CONFIG_PARSER", "toml")
    assert _get_default_parser() == "toml"
    assert isinstance(get_config(), LuigiTomlParser)
    monkeypatch.setenv("LUIGI_CONFIG_PARSER", "ini")
    assert isinstance(get_config(), LuigiConfigParser)


def test_invalid_parser_warns_and_uses_cfg(monkeypatch):
    monkeypatch.setenv("LUIGI_CONFIG_PARSER", "yaml")
    with pytest.warns(UserWarning) as record:
        assert _get_default_parser() == "cfg"
    assert [str(w.message) for w in record] == ["Invalid parser: cfg"]


def test_get_config_explicit_parser_and_singletons():
    assert get_config("toml") is LuigiTomlParser.instance()
    assert get_config("cfg") is get_config() is LuigiConfigParser.instance()
    with pytest.raises(KeyError):
        get_config("yaml")


def test_disabled_parser_raises_import_error(monkeypatch):
    monkeypatch.setattr(LuigiTomlParser, "enabled", False)
    expected = "Parser not installed yet. Please, install luigi with required parser:\npip install luigi[toml]"
    with pytest.raises(ImportError) as info:
        get_config("toml")
    assert str(info.value) == expected
    monkeypatch.setenv("LUIGI_CONFIG_PARSER", "toml")
    with pytest.raises(ImportError, match=r"pip install luigi\[toml\]"):
        get_config()
    _check_parser(LuigiConfigParser, "cfg")


def test_add_config_path_missing_file(tmp_path):
    missing = str(tmp_path / "nope.cfg")
    with pytest.warns(UserWarning) as record:
        assert add_config_path(missing) is False
    assert [str(w.message) for w in record] == [f"Config file does not exist: {missing}"]
    assert missing not in LuigiConfigParser._config_paths


def test_add_config_path_cfg_has_highest_priority(tmp_path):
    (tmp_path / "luigi.cfg").write_text("[s]\na = local\nb = local\n")
    extra = tmp_path / "extra.cfg"
    extra.write_text("[s]\na = extra\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert add_config_path(str(extra)) is True
    assert LuigiConfigParser._config_paths[-1] == str(extra)
    config = get_config()
    assert (config.get("s", "a"), config.get("s", "b")) == ("extra", "local")


def test_add_config_path_without_extension_uses_default_parser(tmp_path):
    extra = tmp_path / "settings"
    extra.write_text("[s]\na = 1\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert add_config_path(str(extra)) is True
    assert get_config().get("s", "a") == "1"


@pytest.mark.parametrize(
    ("suffix", "body"), [(".toml", "[s]\na = 1\n"), (".ini", "[s]\na = 1\n"), (".conf", "[s]\na = 1\n")]
)
def test_add_config_path_other_parser_warns(tmp_path, suffix, body):
    extra = tmp_path / f"extra{suffix}"
    extra.write_text(body)
    name = suffix[1:]
    with pytest.warns(UserWarning) as record:
        assert add_config_path(str(extra)) is True
    assert [str(w.message) for w in record] == [
        f"Config for {name} parser added, but used cfg parser. "
        f"Set up right parser via env var: export LUIGI_CONFIG_PARSER={name}"
    ]
    target = PARSERS[name]
    assert target._config_paths[-1] == str(extra)
    assert target.instance().get("s", "a") in (1, "1")


def test_add_config_path_toml_when_toml_is_default(tmp_path, monkeypatch):
    monkeypatch.setenv("LUIGI_CONFIG_PARSER", "toml")
    extra = tmp_path / "x.toml"
    extra.write_text("[s]\na = 1\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert add_config_path(str(extra)) is True
    assert get_config().get("s", "a") == 1


def test_add_config_path_toml_not_installed(tmp_path, monkeypatch):
    monkeypatch.setattr(LuigiTomlParser, "enabled", False)
    extra = tmp_path / "x.toml"
    extra.write_text("")
    with pytest.raises(ImportError, match="Parser not installed yet"):
        add_config_path(str(extra))


def _import_config_in_subprocess(tmp_path, code, **env):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("LUIGI_CONFIG")}
    full_env.update(env, PYTHONPATH=str(REPO), PYTHONWARNINGS="always")
    return subprocess.run(
        [sys.executable, "-c", f"import luigi.configuration as c; {code}"],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_luigi_config_path_is_read_at_import(tmp_path):
    cfg = tmp_path / "conf" / "my.cfg"
    cfg.parent.mkdir()
    cfg.write_text("[s]\na = from-env\n")
    (tmp_path / "luigi.cfg").write_text("[s]\na = local\n")
    proc = _import_config_in_subprocess(
        tmp_path,
        "print(c.get_config().get('s', 'a')); print(c.LuigiConfigParser._config_paths[-1])",
        LUIGI_CONFIG_PATH=str(cfg),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["from-env", str(cfg)]


def test_luigi_config_path_missing_or_empty_warns_at_import(tmp_path):
    for value in ("", str(tmp_path / "missing.cfg")):
        proc = _import_config_in_subprocess(tmp_path, "print('ok')", LUIGI_CONFIG_PATH=value)
        assert proc.returncode == 0, proc.stderr
        assert f"UserWarning: Config file does not exist: {value}\n" in proc.stderr


def test_luigi_config_path_toml_with_toml_parser(tmp_path):
    cfg = tmp_path / "my.toml"
    cfg.write_text("[s]\na = 5\n")
    proc = _import_config_in_subprocess(
        tmp_path, "print(repr(c.get_config().get('s', 'a')))", LUIGI_CONFIG_PATH=str(cfg), LUIGI_CONFIG_PARSER="toml"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "5\n"
    assert "UserWarning" not in proc.stderr
