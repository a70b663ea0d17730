"""``followup run``: the daemon (see :mod:`followup.daemon`); systemd starts it as a service."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from followup.config import default_config_path


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("run", help="run as a daemon: poll (and IDLE), place drafts, send the digest")
    parser.add_argument("--no-idle", action="store_true",
                        help="poll only; do not keep an IMAP IDLE connection per account")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from followup.daemon import Daemon
    from followup.logs import setup_logging

    # The daemon's one-line-per-cycle summary is INFO: show it even without -v.
    setup_logging(args.verbose, default=logging.INFO)
    daemon = Daemon(args.config or default_config_path(), idle=not args.no_idle)
    code = daemon.run()
    if daemon.still_busy():
        # A cycle or an IDLE connection did not end in time: do not let the interpreter wait
        # for it at exit (systemd would SIGKILL us after TimeoutStopSec otherwise).
        logging.shutdown()
        sys.stderr.flush()
        os._exit(code)
    return code
