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


def _get_default_parser() -> str:
    """The parser named by ``LUIGI_CONFIG_PARSER`` (read on every call), ``cfg`` if unknown."""
    parser = os.environ.get("LUIGI_CONFIG_PARSER", DEFAULT_PARSER)
    if parser not in PARSERS:
        warnings.warn(f"Invalid parser: {DEFAULT_PARSER}", stacklevel=2)
        parser = DEFAULT_PARSER
    return parser


def _check_parser(parser_class: Any, parser: str) -> None:
    """Raise ``ImportError`` if the parser's backing library is not installed."""
    if not parser_class.enabled:
        msg = "Parser not installed yet. Please, install luigi with required parser:\npip install luigi[{parser}]"
        raise ImportError(msg.format(parser=parser))


def get_config(parser: str | None = None) -> Any:
    """The configuration singleton of the chosen parser (default: ``LUIGI_CONFIG_PARSER`` or cfg)."""
    if parser is None:
        parser = _get_default_parser()
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
