"""One-time logging setup for the central scheduler daemon and for worker/client processes.

The first matching source wins: ``[core] no_configure_logging`` (do nothing), daemon command-line
options, a ``logging.config.fileConfig`` file, a TOML ``[logging]`` dictConfig table, and finally a
simple default setup.
"""

from __future__ import annotations

import logging
import logging.config
import os
from configparser import NoSectionError
from types import SimpleNamespace
from typing import Any

from luigi.configuration import LuigiConfigParser, get_config
from luigi.freezing import recursively_unfreeze

_DEFAULT_OPTS = SimpleNamespace(background=None, logdir=None, logging_conf_file=None, log_level="DEBUG")
_MISSING_CONF_FILE = "Error: Unable to locate specified logging configuration file!"


class _CurrentConfig:
    """Class attribute that always reads the active ``get_config()`` parser.

    Luigi binds the parser once at import, so later parser swaps were ignored. Assigning
    ``SomeLogging.config = parser`` on a class still pins a specific parser (tests do this).
    """

    def __get__(self, instance: object, owner: type) -> Any:
        return get_config()


class BaseLogging:
    """Template for ``setup``: subclasses provide ``_cli``, ``_conf`` and ``_default``."""

    config: Any = _CurrentConfig()
    _configured = False

    @classmethod
    def _section(cls, opts: Any) -> bool:
        """Apply the TOML ``[logging]`` table via ``dictConfig``; cfg parsers never have one."""
        if isinstance(cls.config, LuigiConfigParser):
            return False
        try:
            logging_config = cls.config["logging"]
        except (TypeError, KeyError, NoSectionError):
            return False
        logging.config.dictConfig(recursively_unfreeze(logging_config))
        return True

    @classmethod
    def _cli(cls, opts: Any) -> bool:
        raise NotImplementedError

    @classmethod
    def _conf(cls, opts: Any) -> bool:
        raise NotImplementedError

    @classmethod
    def _default(cls, opts: Any) -> bool:
        raise NotImplementedError

    @classmethod
    def setup(cls, opts: Any = _DEFAULT_OPTS) -> bool:
        """Configure logging once per class; returns whether this call configured anything."""
        logger = logging.getLogger("luigi")

        if cls._configured:
            logger.info("logging already configured")
            return False
        cls._configured = True

        try:
            if cls.config.getboolean("core", "no_configure_logging", False):
                logger.info("logging disabled in settings")
                return False

            if cls._cli(opts):
                _log_configured("logging configured via special settings")
                return True

            if cls._conf(opts):
                _log_configured("logging configured via *.conf file")
                return True

            if cls._section(opts):
                _log_configured("logging configured via config section")
                return True

            configured = cls._default(opts)
        except BaseException:
            cls._configured = False  # a failed setup (e.g. missing conf file) may be retried
            raise
        if configured:
            _log_configured("logging configured by default settings")
        return configured


def _log_configured(message: str) -> None:
    """Log on a freshly fetched ``luigi`` logger: the configuration just applied may have
    replaced or disabled the logger object fetched before it."""
    logging.getLogger("luigi").info(message)


class DaemonLogging(BaseLogging):
    """Logging for ``luigid``: ``--background``/``--logdir``, ``[core] logging_conf_file``, default."""

    _configured = False
    _log_format = "%(asctime)s %(name)s[%(process)s] %(levelname)s: %(message)s"

    @classmethod
    def _cli(cls, opts: Any) -> bool:
        if opts.background:
            logging.getLogger().setLevel(logging.INFO)
            return True
        if opts.logdir:
            logging.basicConfig(
                level=logging.INFO,
                format=cls._log_format,
                filename=os.path.join(opts.logdir, "luigi-server.log"),
            )
            return True
        return False

    @classmethod
    def _conf(cls, opts: Any) -> bool:
        logging_config = cls.config.get("core", "logging_conf_file", None)
        if logging_config is None:
            return False
        if not os.path.exists(logging_config):
            raise OSError(_MISSING_CONF_FILE)
        logging.config.fileConfig(logging_config)
        return True

    @classmethod
    def _default(cls, opts: Any) -> bool:
        logging.basicConfig(level=logging.INFO, format=cls._log_format)
        return True


class InterfaceLogging(BaseLogging):
    """Logging for worker/client runs; ``opts`` is a ``luigi.interface.core`` instance."""

    _configured = False

    @classmethod
    def _cli(cls, opts: Any) -> bool:
        return False

    @classmethod
    def _conf(cls, opts: Any) -> bool:
        if not opts.logging_conf_file:
            return False
        if not os.path.exists(opts.logging_conf_file):
            raise OSError(_MISSING_CONF_FILE)
        logging.config.fileConfig(opts.logging_conf_file, disable_existing_loggers=False)
        return True

    @classmethod
    def _default(cls, opts: Any) -> bool:
        level = getattr(logging, opts.log_level, logging.DEBUG)

        logger = logging.getLogger("luigi-interface")
        logger.setLevel(level)

        stream_handler = logging.StreamHandler()
        stream_handler.setLevel(level)
        stream_handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        logger.addHandler(stream_handler)
        return True
