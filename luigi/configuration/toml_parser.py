"""The TOML configuration parser: native TOML values, nested tables frozen for hashability."""

from __future__ import annotations

import configparser
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from luigi.freezing import recursively_freeze

from .base_parser import BaseParser, ConfigFileError


def _find_toml_loader() -> tuple[Callable[[str], dict] | None, tuple[type[BaseException], ...]]:
    """Pick ``tomllib`` (3.11+), else ``tomli``, else ``toml``; returns (load(path), decode errors)."""
    try:
        import tomllib as binary_toml
    except ImportError:
        try:
            import tomli as binary_toml  # type: ignore[no-redef]
        except ImportError:
            binary_toml = None  # type: ignore[assignment]
    if binary_toml is not None:

        def load(path: str) -> dict:
            with open(path, "rb") as fp:
                return binary_toml.load(fp)

        return load, (binary_toml.TOMLDecodeError, UnicodeDecodeError)
    try:
        import toml
    except ImportError:
        return None, ()
    return toml.load, (toml.TomlDecodeError, UnicodeDecodeError)


_load_toml, _TOML_ERRORS = _find_toml_loader()
toml_enabled = _load_toml is not None


class LuigiTomlParser(BaseParser, configparser.ConfigParser):
    """Singleton TOML parser reading ``/etc/luigi/luigi.toml``, ``luigi.toml`` and added paths.

    Values keep their TOML types; getters do no conversion, interpolation or name aliasing. The
    inherited ConfigParser storage stays empty (``sections()`` is ``[]``).
    """

    NO_DEFAULT = object()
    enabled = toml_enabled
    data: dict = {}
    _instance = None
    _config_paths = [
        "/etc/luigi/luigi.toml",
        "luigi.toml",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.data = {}  # per instance, so a parser that never read files does not share state

    @staticmethod
    def _update_data(data: dict, new_data: dict) -> dict:
        """Merge ``new_data`` into ``data`` table by table (later files win key by key)."""
        if not new_data:
            return data
        if not data:
            return new_data
        for section, content in new_data.items():
            if isinstance(content, dict) and isinstance(data.get(section), dict):
                data[section].update(content)
            else:
                data[section] = content
        return data

    def read(self, config_paths: Iterable[str]) -> dict:  # type: ignore[override]
        """Replace ``data`` with the merged contents of every existing file in ``config_paths``."""
        self.data = {}
        for path in config_paths:
            if not os.path.isfile(path):
                continue
            if _load_toml is None:
                raise ImportError(f"Cannot read {path!r}: no TOML library (tomllib, tomli or toml) is installed")
            try:
                loaded = _load_toml(path)
            except _TOML_ERRORS as exc:
                raise ConfigFileError(path, exc) from exc
            self.data = self._update_data(self.data, loaded)
        for content in self.data.values():
            if isinstance(content, dict):
                for key, value in content.items():
                    if isinstance(value, dict):
                        content[key] = recursively_freeze(value)
        return self.data

    def get(self, section: str, option: str, default: Any = NO_DEFAULT, **kwargs: Any) -> Any:  # type: ignore[override]
        """The native TOML value; ``KeyError`` when missing and no ``default`` is given."""
        table = self.data.get(section)
        if isinstance(table, Mapping) and option in table:
            return table[option]
        if default is self.NO_DEFAULT:
            raise KeyError(option if section in self.data else section)
        return default

    def getboolean(self, section: str, option: str, default: Any = NO_DEFAULT) -> Any:  # type: ignore[override]
        """Same as ``get``: TOML values are already typed."""
        return self.get(section, option, default)

    def getint(self, section: str, option: str, default: Any = NO_DEFAULT) -> Any:  # type: ignore[override]
        """Same as ``get``: TOML values are already typed."""
        return self.get(section, option, default)

    def getfloat(self, section: str, option: str, default: Any = NO_DEFAULT) -> Any:  # type: ignore[override]
        """Same as ``get``: TOML values are already typed."""
        return self.get(section, option, default)

    def getintdict(self, section: str) -> dict:
        """The whole table ``section`` as stored (``{}`` when absent)."""
        return self.data.get(section, {})

    def set(self, section: str, option: str, value: Any = None) -> None:  # type: ignore[override]
        """Store any value under ``[section] option``, creating the table when needed."""
        self.data.setdefault(section, {})[option] = value

    def has_option(self, section: str, option: str) -> bool:  # type: ignore[override]
        """Whether ``[section] option`` exists (exact key)."""
        table = self.data.get(section)
        return isinstance(table, Mapping) and option in table

    def __getitem__(self, name: str) -> Any:
        """The table ``name`` (``KeyError`` when absent); used for the ``[logging]`` dictConfig."""
        return self.data[name]
