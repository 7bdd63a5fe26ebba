"""Parser selection (``LUIGI_CONFIG_PARSER``), the ``get_config`` accessor and ``add_config_path``."""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any

from .cfg_parser import LuigiConfigParser
from .toml_parser import LuigiTomlParser

logger = logging.getLogger("luigi-interface")

PARSERS: dict[str, Any] = {
    "cfg": LuigiConfigParser,
    "conf": LuigiConfigParser,
    "ini": LuigiConfigParser,
    "toml": LuigiTomlParser,
}

DEFAULT_PARSER = "cfg"


# ``os.environ.get`` encodes the key and decodes the value on every call (~0.8 µs), and this is
# read once per defaulted parameter of every task created. CPython keeps the raw environment in
# ``os.environ._data`` keyed by the encoded name, and every ``os.environ`` write updates it, so a
# plain dict lookup there sees the same value; other interpreters fall back to ``os.environ``.
_ENV_DATA: Any = getattr(os.environ, "_data", None)
_ENV_KEY: Any = os.environ.encodekey("LUIGI_CONFIG_PARSER") if _ENV_DATA is not None else None  # type: ignore[attr-defined]
_DECODED_VALUES: dict[Any, str] = {}


def _env_parser_name() -> str:
    if _ENV_DATA is None:
        return os.environ.get("LUIGI_CONFIG_PARSER", DEFAULT_PARSER)
    raw = _ENV_DATA.get(_ENV_KEY)
    if raw is None:
        return DEFAULT_PARSER
    name = _DECODED_VALUES.get(raw)
    if name is None:
        name = _DECODED_VALUES[raw] = os.environ.decodevalue(raw)  # type: ignore[attr-defined]
    return name


def _get_default_parser() -> str:
    """The parser named by ``LUIGI_CONFIG_PARSER`` (read on every call), ``cfg`` if unknown."""
    parser = _env_parser_name()
    if parser not in PARSERS:
        warnings.warn(f"Invalid parser: {DEFAULT_PARSER}", stacklevel=2)
        parser = DEFAULT_PARSER
    return parser


def _check_parser(parser_class: Any, parser: str) -> None:
    """Raise ``ImportError`` if the parser's backing library is not installed."""
    if not parser_class.enabled:
        msg = "Parser not installed yet. Please, install luigi with required parser:\npip install luigi[{parser}]"
        raise ImportError(msg.format(parser=parser))


# Raw ``LUIGI_CONFIG_PARSER`` value (None when unset) -> its valid parser class: every task
# construction reads the configuration, so the usual case is one dict lookup.
_PARSER_BY_RAW: dict[Any, Any] = {}


def get_config(parser: str | None = None) -> Any:
    """The configuration singleton of the chosen parser (default: ``LUIGI_CONFIG_PARSER`` or cfg)."""
    if parser is None:
        raw = _ENV_DATA.get(_ENV_KEY) if _ENV_DATA is not None else None
        known = _PARSER_BY_RAW.get(raw) if _ENV_DATA is not None else None
        if known is not None and known.enabled:
            instance = known._instance  # what instance() returns once created, without its call
            return instance if instance is not None else known.instance()
        parser = _get_default_parser()
        if _ENV_DATA is not None and (raw is None or _DECODED_VALUES.get(raw) in PARSERS):
            _PARSER_BY_RAW[raw] = PARSERS[parser]
    parser_class = PARSERS[parser]
    _check_parser(parser_class, parser)
    return parser_class.instance()


def add_config_path(path: str) -> bool:
    """Add ``path`` as the highest-priority config file of the parser its extension selects.

    Returns ``False`` (with a warning) when the file does not exist.
    """
    if not os.path.isfile(path):
        warnings.warn(f"Config file does not exist: {path}", stacklevel=2)
        return False

    default_parser = _get_default_parser()
    ext = os.path.splitext(path)[1]
    parser = ext[1:] if ext and ext[1:] in PARSERS else default_parser
    parser_class = PARSERS[parser]

    _check_parser(parser_class, parser)
    if parser != default_parser:
        warnings.warn(
            f"Config for {parser} parser added, but used {default_parser} parser. "
            f"Set up right parser via env var: export LUIGI_CONFIG_PARSER={parser}",
            stacklevel=2,
        )

    parser_class.add_config_path(path)
    return True


if "LUIGI_CONFIG_PATH" in os.environ:
    add_config_path(os.environ["LUIGI_CONFIG_PATH"])
