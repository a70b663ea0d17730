"""The ``followup`` command line.

Each sub-command lives in its own module of this package and exposes
``register(subparsers) -> None``; the parser it adds sets ``func`` to a callable taking the
parsed ``argparse.Namespace`` and returning an exit code. Errors of the
:class:`followup.errors.FollowupError` family become one clear line on stderr and their exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from followup import __version__
from followup.errors import FollowupError

#: Modules of this package that add a sub-command, in the order ``--help`` shows them.
COMMAND_MODULES = (
    "init",
    "auth",
    "run",
    "once",
    "status",
    "show",
    "digest",
    "classify",
    "note",
    "confirm",
    "check_config",
    "doctor",
    "install_service",
    "simulate",
    "demo",
)

log = logging.getLogger("followup")


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every sub-command that could be imported."""
    parser = argparse.ArgumentParser(
        prog="followup",
        description="Watches a job seeker's mailbox and places follow-up drafts in Drafts.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--config", "-c", help="path to the YAML config (default: $FOLLOWUP_CONFIG "
                        "or ~/.config/interview-followup/config.yaml)")
    parser.add_argument("--verbose", "-v", action="count", default=0, help="more log output (-vv: debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"followup.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"followup.cli.{name}":
                continue  # not built yet
            raise
        module.register(sub)
    return parser


def setup_logging(verbosity: int) -> None:
    """Log to stderr; without timestamps under journald (it adds its own). See :mod:`followup.logs`."""
    from followup.logs import setup_logging as setup

    setup(verbosity)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except FollowupError as exc:
        if args.verbose:
            import traceback

            traceback.print_exc()
        print(f"followup: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("followup: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
