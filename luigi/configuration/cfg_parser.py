"""The cfg/ini configuration parser: stock ``ConfigParser`` plus ``${ENV}`` expansion, typed
getters with defaults and the underscore/dash option-name convention."""

from __future__ import annotations

import configparser
import os
import re
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from .base_parser import BaseParser, ConfigFileError


class InterpolationMissingEnvvarError(configparser.InterpolationError):
    """A value refers to ``${NAME}`` but the environment variable ``NAME`` is not set."""

    def __init__(self, option: str, section: str, value: str, envvar: str) -> None:
        msg = (
            f"Config refers to a nonexisting environment variable {envvar}. "
            f"Section [{section}], option {option}={value}"
        )
        super().__init__(option, section, msg)
        self.envvar = envvar
        self.value = value


class EnvironmentInterpolation(configparser.Interpolation):
    """Expands every ``${NAME}`` from ``os.environ`` in one left-to-right pass (no re-scanning)."""

    _ENVRE = re.compile(r"\$\{([^}]+)\}")

    def before_get(self, parser: Any, section: str, option: str, value: str, defaults: Any) -> str:
        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            try:
                return os.environ[name]
            except KeyError:
                raise InterpolationMissingEnvvarError(option, section, value, name) from None

        return self._ENVRE.sub(substitute, value)


class CombinedInterpolation(configparser.Interpolation):
    """Chains several interpolations; each hook feeds the previous one's result to the next."""

    def __init__(self, interpolations: Iterable[configparser.Interpolation]) -> None:
        self._interpolations = list(interpolations)

    def before_get(self, parser: Any, section: str, option: str, value: str, defaults: Any) -> str:
        for interpolation in self._interpolations:
            value = interpolation.before_get(parser, section, option, value, defaults)
        return value

    def before_read(self, parser: Any, section: str, option: str, value: str) -> str:
        for interpolation in self._interpolations:
            value = interpolation.before_read(parser, section, option, value)
        return value

    def before_set(self, parser: Any, section: str, option: str, value: str) -> str:
        for interpolation in self._interpolations:
            value = interpolation.before_set(parser, section, option, value)
        return value

    def before_write(self, parser: Any, section: str, option: str, value: str) -> str:
        for interpolation in self._interpolations:
            value = interpolation.before_write(parser, section, option, value)
        return value


_UNSET = object()


def _warn_dashed(section: str, alias: str, option: str, stacklevel: int) -> None:
    warnings.warn(
        f"Configuration [{section}] {alias} (with dashes) should be avoided. Please use underscores: {option}.",
        DeprecationWarning,
        stacklevel=stacklevel + 1,
    )


def _typed_getter(convert: Callable[[Any, str], Any], type_name: str) -> Callable[..., Any]:
    """A ``(parser, section, option, **kwargs)`` getter converting the interpolated value; bad
    text raises ``ValueError`` naming the section, option and value."""

    def getter(parser: configparser.ConfigParser, section: str, option: str, **kwargs: Any) -> Any:
        value = configparser.ConfigParser.get(parser, section, option, **kwargs)
        try:
            return convert(parser, value)
        except ValueError as exc:
            raise ValueError(f"Configuration [{section}] {option}={value!r} is not a valid {type_name}: {exc}") from exc

    return getter


_get_int = _typed_getter(lambda parser, value: int(value), "integer")
_get_float = _typed_getter(lambda parser, value: float(value), "float")
_get_boolean = _typed_getter(lambda parser, value: parser._convert_to_boolean(value), "boolean")


class LuigiConfigParser(BaseParser, configparser.ConfigParser):
    """Singleton cfg/ini parser reading ``/etc/luigi/luigi.cfg``, ``luigi.cfg`` and added paths.

    Option names are case-sensitive. Underscore spelling is canonical; a stored dashed spelling is
    still found, with a ``DeprecationWarning``.
    """

    NO_DEFAULT = object()
    enabled = True
    optionxform = str  # type: ignore[assignment]  # case-sensitive option names
    _instance = None
    _config_paths = [
        "/etc/luigi/client.cfg",  # Deprecated old-style global luigi config
        "/etc/luigi/luigi.cfg",
        "client.cfg",  # Deprecated old-style local luigi config
        "luigi.cfg",
    ]
    _DEFAULT_INTERPOLATION = CombinedInterpolation([configparser.BasicInterpolation(), EnvironmentInterpolation()])

    @classmethod
    def reload(cls) -> list[str]:
        """Re-read the config files (values already loaded or set are kept unless overridden)."""
        deprecated = [p for p in cls._config_paths if os.path.basename(p) == "client.cfg" and os.path.exists(p)]
        if deprecated:
            warnings.warn(
                "Luigi configuration files named 'client.cfg' are deprecated if favor of 'luigi.cfg'. "
                f"Found: {deprecated!r}",
                DeprecationWarning,
                stacklevel=2,
            )
        return cls.instance().read(cls._config_paths)

    def _read(self, fp: Any, fpname: str) -> None:
        """Parse one file; undecodable bytes are reported naming the file (stock errors already do)."""
        try:
            super()._read(fp, fpname)  # type: ignore[misc]
        except UnicodeDecodeError as exc:
            raise ConfigFileError(fpname, exc) from exc

    def _get_with_default(
        self,
        method: Callable[..., Any],
        section: str,
        option: str,
        default: Any,
        expected_type: type | None = None,
        **kwargs: Any,
    ) -> Any:
        """Look ``option`` up underscore-first, then dashed; apply the typed-getter default rules.

        Presence is checked with dictionary lookups (a miss is the common case when parameters
        probe the config), and a missing option raises the error for the canonical spelling.
        """
        fallback = kwargs.pop("fallback", _UNSET)
        option = option.replace("-", "_")
        if self._stores(section, option, kwargs.get("vars")):
            return method(self, section, option, **kwargs)
        alias = option.replace("_", "-")
        if alias != option and self._stores(section, alias, kwargs.get("vars")):
            value = method(self, section, alias, **kwargs)
            _warn_dashed(section, alias, option, stacklevel=3)
            return value
        if fallback is not _UNSET:
            return fallback
        if default is LuigiConfigParser.NO_DEFAULT or (
            expected_type is not None and default is not None and not isinstance(default, expected_type)
        ):
            if section != self.default_section and section not in self._sections:
                raise configparser.NoSectionError(section)
            raise configparser.NoOptionError(option, section)
        return default

    def _stores(self, section: str, option: str, variables: Any) -> bool:
        """Whether ``ConfigParser.get(section, option, vars=variables)`` would find a value."""
        if section != self.default_section and section not in self._sections:
            return False
        return bool(variables and option in variables) or configparser.ConfigParser.has_option(self, section, option)

    def get(self, section: str, option: str, default: Any = NO_DEFAULT, **kwargs: Any) -> Any:  # type: ignore[override]
        """The interpolated string value, or ``default`` when given and the option is missing."""
        if kwargs.get("raw") and configparser.ConfigParser.has_option(self, section, option):
            # exact stored name: this is how BasicInterpolation re-reads the option it expands
            return configparser.ConfigParser.get(self, section, option, **kwargs)
        return self._get_with_default(configparser.ConfigParser.get, section, option, default, **kwargs)

    def getint(self, section: str, option: str, default: Any = NO_DEFAULT, **kwargs: Any) -> Any:  # type: ignore[override]
        """Option as ``int``; a missing option returns ``default`` if it is ``None`` or an int."""
        return self._get_with_default(_get_int, section, option, default, int, **kwargs)

    def getfloat(self, section: str, option: str, default: Any = NO_DEFAULT, **kwargs: Any) -> Any:  # type: ignore[override]
        """Option as ``float``; a missing option returns ``default`` if it is ``None`` or a float."""
        return self._get_with_default(_get_float, section, option, default, float, **kwargs)

    def getboolean(self, section: str, option: str, default: Any = NO_DEFAULT, **kwargs: Any) -> Any:  # type: ignore[override]
        """Option as ``bool`` (yes/no, true/false, on/off, 1/0); missing → ``default`` if None or bool."""
        return self._get_with_default(_get_boolean, section, option, default, bool, **kwargs)

    def has_option(self, section: str | None, option: str) -> bool:  # type: ignore[override]
        """Stock ``has_option`` with the underscore-first, dashed-fallback (warning) lookup."""
        option = option.replace("-", "_")
        if configparser.ConfigParser.has_option(self, section, option):  # type: ignore[arg-type]
            return True
        alias = option.replace("_", "-")
        if alias != option and configparser.ConfigParser.has_option(self, section, alias):  # type: ignore[arg-type]
            _warn_dashed(str(section), alias, option, stacklevel=2)
            return True
        return False

    def getintdict(self, section: str) -> dict[str, int]:
        """``{key: int(value)}`` of a section, leaving out keys that also exist in ``[DEFAULT]``."""
        try:
            items = self.items(section)
        except configparser.NoSectionError:
            return {}
        defaults = self.defaults()
        return {key: _get_int(self, section, key) for key, _ in items if key not in defaults}

    def set(self, section: str, option: str, value: Any = None) -> None:  # type: ignore[override]
        """Set a value, creating the section when needed (values must be strings)."""
        if not self.has_section(section):
            self.add_section(section)
        super().set(section, option, value)
