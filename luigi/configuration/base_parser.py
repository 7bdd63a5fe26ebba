"""Singleton and reload machinery shared by the cfg and TOML configuration parsers."""

from __future__ import annotations

import configparser
import logging
from typing import Any


class ConfigFileError(configparser.Error, ValueError):
    """A configuration file exists but cannot be decoded or parsed.

    Raised (chained to the underlying decoder error) so the message always names the offending
    file; it is both a ``configparser.Error`` and a ``ValueError`` (the TOML decoders' base class).
    """

    def __init__(self, path: str, reason: object) -> None:
        super().__init__(f"Cannot read configuration file {path!r}: {reason}")
        self.path = path
        self.reason = reason


class BaseParser:
    """Mixin giving each concrete parser class its own lazily created, file-backed singleton.

    Concrete subclasses define their own ``_instance = None`` and ``_config_paths`` list, so the
    cfg and TOML parsers keep independent singletons and search paths.
    """

    _instance: Any = None
    _config_paths: list[str] = []

    @classmethod
    def instance(cls, *args: Any, **kwargs: Any) -> Any:
        """Return the class singleton, creating it and reading the config files on first use."""
        if cls._instance is None:
            cls._instance = cls(*args, **kwargs)
            loaded = cls._instance.reload()
            logging.getLogger("luigi-interface").info("Loaded %r", loaded)
        return cls._instance

    @classmethod
    def add_config_path(cls, path: str) -> None:
        """Append ``path`` as the highest-priority file and re-read all files."""
        cls._config_paths.append(path)
        cls.reload()

    @classmethod
    def reload(cls) -> Any:
        """Re-read every configured file into the singleton; returns what ``read`` returns."""
        return cls.instance().read(cls._config_paths)
