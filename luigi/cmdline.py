"""Console entry points: ``luigi`` (run a task) and ``luigid`` (the central scheduler server)."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from luigi.retcodes import run_with_retcodes
from luigi.setup_logging import DaemonLogging


def luigi_run(argv: Sequence[str] | None = None) -> None:
    """``luigi [--global-flags] TaskFamily [--task-flags]``; exits with the ``[retcode]`` code."""
    run_with_retcodes(sys.argv[1:] if argv is None else argv)


def luigid(argv: Sequence[str] | None = None) -> None:
    """``luigid``: start the central scheduler, in the foreground or as a daemon."""
    import luigi.configuration
    import luigi.process
    import luigi.server

    parser = argparse.ArgumentParser(description="Central luigi server")
    parser.add_argument("--background", help="Run in background mode", action="store_true")
    parser.add_argument("--pidfile", help="Write pidfile")
    parser.add_argument("--logdir", help="log directory")
    parser.add_argument("--state-path", help="State file: an SQLite database written as state changes (a .pickle path also keeps Luigi's pickle next to it)")
    parser.add_argument("--address", help="Listening interface")
    parser.add_argument("--unix-socket", help="Unix socket path")
    parser.add_argument("--port", default=8082, help="Listening port")

    opts = parser.parse_args(sys.argv[1:] if argv is None else argv)

    if opts.state_path:
        luigi.configuration.get_config().set("scheduler", "state_path", opts.state_path)

    DaemonLogging.setup(opts)
    if opts.background:
        luigi.process.daemonize(
            luigi.server.run,
            api_port=opts.port,
            address=opts.address,
            pidfile=opts.pidfile,
            logdir=opts.logdir,
            unix_socket=opts.unix_socket,
        )
    else:
        luigi.server.run(api_port=opts.port, address=opts.address, unix_socket=opts.unix_socket)
