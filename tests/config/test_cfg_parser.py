"""LuigiConfigParser: file loading, interpolation, typed getters, dash/underscore names, set."""

from __future__ import annotations

import configparser
import warnings

import pytest

from luigi.configuration import LuigiConfigParser, get_config
from luigi.configuration.base_parser import ConfigFileError
from luigi.configuration.cfg_parser import (
    CombinedInterpolation,
    EnvironmentInterpolation,
    InterpolationMissingEnvvarError,
)


def fresh(text: str = "") -> LuigiConfigParser:
    """A parser holding ``text`` that is not the singleton (no files read)."""
    parser = LuigiConfigParser()
    parser.read_string(text)
    return parser


def test_is_a_configparser_with_case_sensitive_options():
    parser = fresh("[s]\nAbC = 1\n")
    assert isinstance(parser, configparser.ConfigParser)
    assert parser.has_option("s", "AbC")
    assert not parser.has_option("s", "abc")
    assert parser.items("s") == [("AbC", "1")]


def test_singleton_reads_luigi_cfg_in_current_directory(tmp_path):
    (tmp_path / "luigi.cfg").write_text("[core]\nworkers = 3\n")
    config = get_config()
    assert config is LuigiConfigParser.instance()
    assert config.getint("core", "workers") == 3


def test_instance_logs_loaded_files(tmp_path, caplog):
    (tmp_path / "luigi.cfg").write_text("[a]\nb = c\n")
    with caplog.at_level("INFO", logger="luigi-interface"):
        LuigiConfigParser.instance()
    assert "Loaded ['luigi.cfg']" in caplog.messages


def test_later_files_override_earlier_key_by_key(tmp_path):
    first = tmp_path / "first.cfg"
    second = tmp_path / "second.cfg"
    first.write_text("[s]\na = 1\nb = 1\n")
    second.write_text("[s]\nb = 2\n")
    LuigiConfigParser._config_paths[:] = [str(first), str(second), str(tmp_path / "missing.cfg")]
    assert LuigiConfigParser.reload() == [str(first), str(second)]
    config = get_config()
    assert (config.get("s", "a"), config.get("s", "b")) == ("1", "2")


def test_reload_keeps_values_set_programmatically(tmp_path):
    (tmp_path / "luigi.cfg").write_text("[s]\na = file\n")
    config = get_config()
    config.set("s", "b", "mine")
    (tmp_path / "luigi.cfg").write_text("[s]\na = changed\n")
    assert get_config().reload() == ["luigi.cfg"]
    assert (config.get("s", "a"), config.get("s", "b")) == ("changed", "mine")


def test_client_cfg_is_deprecated(tmp_path):
    (tmp_path / "client.cfg").write_text("[s]\na = 1\n")
    with pytest.warns(DeprecationWarning) as record:
        config = get_config()
    messages = [str(w.message) for w in record]
    assert (
        "Luigi configuration files named 'client.cfg' are deprecated if favor of 'luigi.cfg'. Found: ['client.cfg']"
        in messages
    )
    assert config.get("s", "a") == "1"


def test_percent_interpolation_and_escape():
    parser = fresh("[DEFAULT]\nroot = /data\n[s]\nout = %(root)s/out\nliteral = 100%%\n")
    assert parser.get("s", "out") == "/data/out"
    assert parser.get("s", "literal") == "100%"
    assert parser.get("s", "out", raw=True) == "%(root)s/out"


def test_percent_interpolation_errors():
    parser = fresh("[s]\nbad = 5%\nmissing = %(nope)s\n")
    with pytest.raises(configparser.InterpolationSyntaxError):
        parser.get("s", "bad")
    with pytest.raises(configparser.InterpolationMissingOptionError):
        parser.get("s", "missing")
    with pytest.raises(ValueError, match="invalid interpolation syntax in '5%' at position 1"):
        parser.set("s", "x", "5%")


def test_environment_interpolation(monkeypatch):
    monkeypatch.setenv("LUIGI_TEST_HOME", "/home/me")
    monkeypatch.setenv("LUIGI_TEST_REF", "${LUIGI_TEST_HOME}")
    parser = fresh(
        "[s]\np = ${LUIGI_TEST_HOME}/x-${LUIGI_TEST_HOME}\nnested = ${LUIGI_TEST_REF}\nplain = $LUIGI_TEST_HOME ${}\n"
    )
    assert parser.get("s", "p") == "/home/me/x-/home/me"
    assert parser.get("s", "nested") == "${LUIGI_TEST_HOME}"  # substituted text is not re-scanned
    assert parser.get("s", "plain") == "$LUIGI_TEST_HOME ${}"
    assert parser.get("s", "p", raw=True) == "${LUIGI_TEST_HOME}/x-${LUIGI_TEST_HOME}"


def test_environment_interpolation_runs_after_percent_expansion(monkeypatch):
    monkeypatch.setenv("LUIGI_TEST_DIR", "/tmp/d")
    parser = fresh("[s]\nbase = ${LUIGI_TEST_DIR}\nfile = %(base)s/f\n")
    assert parser.get("s", "file") == "/tmp/d/f"
    assert parser.items("s") == [("base", "/tmp/d"), ("file", "/tmp/d/f")]


def test_missing_environment_variable_names_it(monkeypatch):
    monkeypatch.delenv("LUIGI_TEST_UNSET", raising=False)
    monkeypatch.setenv("LUIGI_TEST_SET", "ok")
    parser = fresh("[sec]\nopt = ${LUIGI_TEST_SET}/${LUIGI_TEST_UNSET}\n")
    with pytest.raises(InterpolationMissingEnvvarError) as info:
        parser.get("sec", "opt")
    assert str(info.value) == (
        "Config refers to a nonexisting environment variable LUIGI_TEST_UNSET. "
        "Section [sec], option opt=${LUIGI_TEST_SET}/${LUIGI_TEST_UNSET}"
    )
    assert isinstance(info.value, configparser.InterpolationError)
    assert (info.value.section, info.value.option, info.value.envvar) == ("sec", "opt", "LUIGI_TEST_UNSET")
    # the typed getters and defaults do not hide it
    with pytest.raises(InterpolationMissingEnvvarError):
        parser.get("sec", "opt", "default")


def test_combined_interpolation_chains_every_hook():
    class Upper(configparser.Interpolation):
        def before_get(self, parser, section, option, value, defaults):
            return value.upper()

        def before_set(self, parser, section, option, value):
            return value + "!"

    class Twice(configparser.Interpolation):
        def before_get(self, parser, section, option, value, defaults):
            return value * 2

        def before_set(self, parser, section, option, value):
            return value + "?"

    combined = CombinedInterpolation([Upper(), Twice()])
    assert combined.before_get(None, "s", "o", "ab", {}) == "ABAB"
    assert combined.before_set(None, "s", "o", "v") == "v!?"
    assert combined.before_read(None, "s", "o", "v") == "v"
    assert combined.before_write(None, "s", "o", "v") == "v"
    assert isinstance(LuigiConfigParser._DEFAULT_INTERPOLATION, CombinedInterpolation)
    assert EnvironmentInterpolation().before_set(None, "s", "o", "${X}") == "${X}"


def test_get_defaults():
    parser = fresh("[s]\na = 1\n")
    assert parser.get("s", "a") == "1"
    assert parser.get("s", "missing", None) is None
    assert parser.get("nosection", "a", ["any"]) == ["any"]
    with pytest.raises(configparser.NoOptionError):
        parser.get("s", "missing")
    with pytest.raises(configparser.NoSectionError):
        parser.get("nosection", "a")
    assert parser.get("s", "missing", fallback="fb") == "fb"


def test_typed_getters_convert():
    parser = fresh("[s]\ni = 42\nf = 2.5\nb1 = yes\nb2 = Off\nb3 = TRUE\n")
    assert parser.getint("s", "i") == 42
    assert parser.getfloat("s", "f") == 2.5
    assert parser.getfloat("s", "i") == 42.0
    assert [parser.getboolean("s", k) for k in ("b1", "b2", "b3")] == [True, False, True]


def test_typed_getter_default_rules():
    parser = fresh("[s]\n")
    assert parser.getint("s", "x", 7) == 7
    assert parser.getint("s", "x", None) is None
    assert parser.getint("s", "x", True) is True  # bool is an int
    assert parser.getfloat("s", "x", 1.5) == 1.5
    assert parser.getboolean("s", "x", False) is False
    assert parser.getboolean("nosection", "x", True) is True
    with pytest.raises(configparser.NoOptionError):
        parser.getint("s", "x", "7")
    with pytest.raises(configparser.NoOptionError):
        parser.getfloat("s", "x", 1)
    with pytest.raises(configparser.NoOptionError):
        parser.getboolean("s", "x", 0)
    with pytest.raises(configparser.NoSectionError):
        parser.getint("nosection", "x")


@pytest.mark.parametrize(
    ("getter", "text", "kind"),
    [("getint", "abc", "integer"), ("getfloat", "1.2.3", "float"), ("getboolean", "maybe", "boolean")],
)
def test_typed_getter_bad_value_names_section_option_value(getter, text, kind):
    parser = fresh(f"[core]\nworkers = {text}\n")
    with pytest.raises(ValueError) as info:
        getattr(parser, getter)("core", "workers", None)
    assert str(info.value).startswith(f"Configuration [core] workers={text!r} is not a valid {kind}: ")


def test_dashed_option_found_with_warning():
    parser = fresh("[s]\nmy-opt = dashed\nother_opt = under\n")
    with pytest.warns(DeprecationWarning) as record:
        assert parser.get("s", "my_opt") == "dashed"
    assert [str(w.message) for w in record] == [
        "Configuration [s] my-opt (with dashes) should be avoided. Please use underscores: my_opt."
    ]
    with pytest.warns(DeprecationWarning, match=r"\[s\] my-opt \(with dashes\)"):
        assert parser.get("s", "my-opt") == "dashed"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert parser.get("s", "other-opt") == "under"  # dashed request finds underscores silently
        assert parser.has_option("s", "other-opt")


def test_dashed_option_typed_and_has_option():
    parser = fresh("[s]\nnum-workers = 4\n")
    with pytest.warns(DeprecationWarning, match="Please use underscores: num_workers."):
        assert parser.getint("s", "num_workers") == 4
    with pytest.warns(DeprecationWarning, match="Please use underscores: num_workers."):
        assert parser.has_option("s", "num_workers")
    assert not parser.has_option("s", "other")
    assert not parser.has_option("nosection", "num_workers")


def test_missing_option_error_names_underscore_spelling():
    parser = fresh("[s]\n")
    with pytest.raises(configparser.NoOptionError) as info:
        parser.get("s", "my-opt")
    assert info.value.option == "my_opt"


def test_has_option_uses_default_section():
    parser = fresh("[DEFAULT]\nshared = 1\n[s]\nown = 2\n")
    assert parser.has_option("s", "shared")
    assert parser.has_option(None, "shared")
    assert parser.has_option("", "shared")
    assert not parser.has_option(None, "own")


def test_getintdict():
    parser = fresh("[DEFAULT]\nshared = 9\n[resources]\ncpu = 4\ngpu = 1\nshared = 3\n[bad]\nx = lots\n")
    assert parser.getintdict("resources") == {"cpu": 4, "gpu": 1}
    assert parser.getintdict("nosection") == {}
    with pytest.raises(ValueError, match=r"\[bad\] x='lots'"):
        parser.getintdict("bad")


def test_set_creates_section_and_validates():
    parser = fresh()
    parser.set("new", "key", "value")
    assert parser.get("new", "key") == "value"
    with pytest.raises(TypeError, match="option values must be strings"):
        parser.set("new", "key")
    with pytest.raises(TypeError, match="option values must be strings"):
        parser.set("new", "key", 5)
    with pytest.raises(ValueError):
        parser.set("DEFAULT", "key", "v")
    parser.set("new", "my-key", "v")
    assert parser.items("new") == [("key", "value"), ("my-key", "v")]


def test_section_proxy_access():
    parser = fresh("[s]\na_b = 1\n")
    assert parser["s"]["a_b"] == "1"
    assert parser["s"].getint("a_b") == 1
    assert parser["s"].getint("missing") is None
    assert parser["s"].get("missing", "fb") == "fb"
    with pytest.raises(KeyError):
        parser["s"]["missing"]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("key = value\n", configparser.MissingSectionHeaderError),
        ("[s]\nno delimiter here\n", configparser.ParsingError),
        ("[s]\na = 1\na = 2\n", configparser.DuplicateOptionError),
    ],
)
def test_malformed_file_error_names_the_file(tmp_path, content, error):
    bad = tmp_path / "luigi.cfg"
    bad.write_text(content)
    with pytest.raises(error) as info:
        get_config()
    assert "luigi.cfg" in str(info.value)


def test_undecodable_file_error_names_the_file(tmp_path):
    bad = tmp_path / "broken.cfg"
    bad.write_bytes(b"[s]\na = \xff\xfe\x00\x81\n")
    LuigiConfigParser._config_paths.append(str(bad))
    with pytest.raises(ConfigFileError) as info:
        LuigiConfigParser.instance().read([str(bad)], encoding="utf-8")
    assert str(bad) in str(info.value)
    assert isinstance(info.value, configparser.Error)


def test_class_add_config_path_skips_missing_files(tmp_path):
    extra = tmp_path / "extra.cfg"
    LuigiConfigParser.add_config_path(str(extra))  # no existence check at class level
    assert LuigiConfigParser._config_paths[-1] == str(extra)
    assert not get_config().has_section("s")
    extra.write_text("[s]\na = 1\n")
    assert LuigiConfigParser.reload() == [str(extra)]
    assert get_config().get("s", "a") == "1"
