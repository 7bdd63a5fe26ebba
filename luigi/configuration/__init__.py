"""Luigi configuration: cfg/ini and TOML parsers behind one ``get_config()`` singleton accessor."""

from .cfg_parser import LuigiConfigParser
from .core import add_config_path, get_config
from .toml_parser import LuigiTomlParser

__all__ = ["add_config_path", "get_config", "LuigiConfigParser", "LuigiTomlParser"]
