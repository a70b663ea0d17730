"""Logging set-up, journald-friendly.

- Lines go to stderr. Under systemd (``$JOURNAL_STREAM`` set) there are no timestamps (the journal
  adds its own) and, when stderr really is that journal stream, each line starts with its
  syslog priority (``<3>``, ``<4>``, ``<6>`` …) so ``journalctl -p warning`` works.
- What is logged at INFO never contains a message body, a password or a token: the program logs
  counts, application ids, folder names and error summaries. Libraries that would log protocol
  traffic (imapclient) stay at WARNING unless ``-vv``.
- The daemon logs one summary line per account cycle (:func:`cycle_summary`).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import TextIO

#: syslog priorities (sd-daemon(3)) for the journal's "<N>" line prefixes
_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}

#: Loggers that are chatty at INFO (job added, job executed …) or log protocol traffic at DEBUG.
_QUIET = ("apscheduler", "imapclient", "imapclient.imaplib")


class JournalFormatter(logging.Formatter):
    """Prefixes each line with ``<priority>`` (journald reads it when ``SyslogLevelPrefix=yes``)."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        level = max((lvl for lvl in _PRIORITY if lvl <= record.levelno), default=logging.DEBUG)
        prefix = f"<{_PRIORITY[level]}>"
        return "\n".join(prefix + line for line in text.splitlines() or [""])


def under_journal(environ: Mapping[str, str] | None = None) -> bool:
    """True when systemd connected our output to the journal (``$JOURNAL_STREAM`` is set)."""
    env = os.environ if environ is None else environ
    return bool(env.get("JOURNAL_STREAM"))


def stream_is_journal(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """True when ``stream`` is the very journal stream ``$JOURNAL_STREAM`` ("dev:inode") names."""
    env = os.environ if environ is None else environ
    value = env.get("JOURNAL_STREAM") or ""
    try:
        dev, ino = (int(part) for part in value.split(":", 1))
        info = os.fstat(stream.fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return info.st_dev == dev and info.st_ino == ino


def level_for(verbosity: int, *, default: int = logging.WARNING) -> int:
    """``-v`` means INFO, ``-vv`` DEBUG; never quieter than ``default`` asks."""
    wanted = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    return min(wanted, default)


def setup_logging(verbosity: int = 0, *, default: int = logging.WARNING, stream: TextIO | None = None,
                  environ: Mapping[str, str] | None = None) -> None:
    """Configure the root logger for the command line or the daemon (see the module docstring)."""
    stream = stream or sys.stderr
    level = level_for(verbosity, default=default)
    fmt = "%(levelname)s %(name)s: %(message)s"
    if under_journal(environ):
        formatter: logging.Formatter = (JournalFormatter(fmt) if stream_is_journal(stream, environ)
                                        else logging.Formatter(fmt))
    else:
        formatter = logging.Formatter("%(asctime)s " + fmt)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.DEBUG if verbosity >= 3 else logging.WARNING)


def cycle_summary(account: str, *, fetched: int, classified: int, placed: int, errors: int,
                  seconds: float, note: str = "") -> str:
    """The one line a cycle leaves in the log: counts only, never content."""
    line = (f"{account}: cycle: fetched {fetched}, classified {classified}, drafts placed {placed}, "
            f"errors {errors} ({seconds:.1f} s)")
    return f"{line}; {note}" if note else line
