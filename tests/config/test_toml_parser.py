"""LuigiTomlParser: native values, merging, frozen nested tables, loader fallbacks, bad files."""

from __future__ import annotations

import configparser
import datetime
import sys

import pytest

from luigi.configuration import LuigiTomlParser, get_config
from luigi.configuration import toml_parser as toml_module
from luigi.configuration.base_parser import ConfigFileError
from luigi.freezing import FrozenOrderedDict


@pytest.fixture
def toml_default(monkeypatch):
    monkeypatch.setenv("LUIGI_CONFIG_PARSER", "toml")


def test_enabled_with_stdlib_tomllib():
    assert toml_module.toml_enabled is True
    assert LuigiTomlParser.enabled is True
    assert LuigiTomlParser._config_paths == ["/etc/luigi/luigi.toml", "luigi.toml"]


def test_reads_native_values_from_luigi_toml(tmp_path, toml_default):
    (tmp_path / "luigi.toml").write_text(
        '[core]\nworkers = 3\nlocal_scheduler = true\nname = "x"\nratio = 0.5\n'
        "day = 2024-01-02\nitems = [1, 2]\n"
        "[core.nested]\ninner = {a = [1, {b = 2}]}\n"
    )
    config = get_config()
    assert isinstance(config, LuigiTomlParser)
    assert isinstance(config, configparser.ConfigParser)
    assert config.get("core", "workers") == 3
    assert config.getboolean("core", "local_scheduler") is True
    assert config.getint("core", "name") == "x"  # no conversion
    assert config.getfloat("core", "ratio") == 0.5
    assert config.get("core", "day") == datetime.date(2024, 1, 2)
    assert config.get("core", "items") == [1, 2]
    nested = config.get("core", "nested")
    assert isinstance(nested, FrozenOrderedDict)
    assert nested["inner"]["a"] == (1, FrozenOrderedDict(b=2))
    hash(nested)
    assert config.sections() == []


def test_instance_logs_loaded_data(tmp_path, caplog, toml_default):
    (tmp_path / "luigi.toml").write_text("[a]\nb = 1\n")
    with caplog.at_level("INFO", logger="luigi-interface"):
        get_config()
    assert "Loaded {'a': {'b': 1}}" in caplog.messages


def test_later_files_override_key_by_key_and_read_resets(tmp_path):
    first = tmp_path / "one.toml"
    second = tmp_path / "two.toml"
    first.write_text("[s]\na = 1\nb = 1\n[only_first]\nx = 1\n")
    second.write_text("[s]\nb = 2\n")
    parser = LuigiTomlParser()
    data = parser.read([str(first), str(tmp_path / "missing.toml"), str(second)])
    assert data == {"s": {"a": 1, "b": 2}, "only_first": {"x": 1}}
    assert parser.read([str(second)]) == {"s": {"b": 2}}
    assert parser.data == {"s": {"b": 2}}


def test_getters_defaults_and_missing():
    parser = LuigiTomlParser()
    parser.set("s", "a", {"any": "type"})
    assert parser.get("s", "a") == {"any": "type"}
    assert parser.get("s", "missing", None) is None
    assert parser.getint("s", "missing", "not-an-int") == "not-an-int"
    with pytest.raises(KeyError):
        parser.get("s", "missing")
    with pytest.raises(KeyError):
        parser.getboolean("nosection", "a")
    assert parser.has_option("s", "a")
    assert not parser.has_option("s", "b")
    assert not parser.has_option("nosection", "a")


def test_fresh_instances_do_not_share_data():
    first = LuigiTomlParser()
    first.set("s", "a", 1)
    assert LuigiTomlParser().data == {}
    assert LuigiTomlParser.data == {}


def test_getintdict_and_getitem():
    parser = LuigiTomlParser()
    parser.set("resources", "cpu", 2)
    assert parser.getintdict("resources") == {"cpu": 2}
    assert parser.getintdict("none") == {}
    assert parser["resources"] == {"cpu": 2}
    with pytest.raises(KeyError):
        parser["logging"]


def test_malformed_file_error_names_the_file(tmp_path, toml_default):
    bad = tmp_path / "luigi.toml"
    bad.write_text("[s]\na = = 1\n")
    with pytest.raises(ConfigFileError) as info:
        get_config()
    assert "luigi.toml" in str(info.value)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, configparser.Error)


def test_loader_falls_back_to_toml_package(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tomllib", None)
    monkeypatch.setitem(sys.modules, "tomli", None)
    load, errors = toml_module._find_toml_loader()
    good = tmp_path / "good.toml"
    good.write_text("[s]\na = 1\n")
    assert load(str(good)) == {"s": {"a": 1}}
    bad = tmp_path / "bad.toml"
    bad.write_text("[s\n")
    with pytest.raises(errors):
        load(str(bad))


def test_loader_disabled_when_nothing_imports(monkeypatch):
    for name in ("tomllib", "tomli", "toml"):
        monkeypatch.setitem(sys.modules, name, None)
    assert toml_module._find_toml_loader() == (None, ())


def test_class_add_config_path_and_reload(tmp_path):
    extra = tmp_path / "extra.toml"
    extra.write_text("[s]\na = 1\nb = 2\n")
    LuigiTomlParser.add_config_path(str(extra))
    config = LuigiTomlParser.instance()
    assert LuigiTomlParser._config_paths[-1] == str(extra)
    assert config.get("s", "b") == 2
    extra.write_text("[s]\na = 3\n")
    assert config.reload() == {"s": {"a": 3}}  # TOML reload starts from scratch
    assert not config.has_option("s", "b")


def test_top_level_values_are_not_tables(tmp_path):
    path = tmp_path / "top.toml"
    path.write_text('title = "x"\n[s]\na = 1\n')
    parser = LuigiTomlParser()
    parser.read([str(path)])
    assert parser.get("title", "a", "dflt") == "dflt"
    assert not parser.has_option("title", "a")
    with pytest.raises(KeyError) as info:
        parser.get("title", "a")
    assert info.value.args == ("a",)
    with pytest.raises(KeyError) as info:
        parser.get("nosection", "a")
    assert info.value.args == ("nosection",)


def test_reading_without_a_toml_library_names_the_file(tmp_path, monkeypatch):
    path = tmp_path / "x.toml"
    path.write_text("[s]\na = 1\n")
    monkeypatch.setattr(toml_module, "_load_toml", None)
    assert LuigiTomlParser().read([str(tmp_path / "missing.toml")]) == {}
    with pytest.raises(ImportError, match="x.toml"):
        LuigiTomlParser().read([str(path)])
