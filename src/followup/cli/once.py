"""``followup once``: one cycle for every account (sync, classify, and the follow-up engine), then exit."""

from __future__ import annotations

import argparse
import logging

from followup.cli.common import load, open_store, utc_now
from followup.runner import run_cycle, terminal_progress

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("once", help="run one cycle for every account and exit")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load(args)
    store = open_store(config)
    progress, stop = terminal_progress()
    try:
        report = run_cycle(config, store, utc_now(), progress=progress)
    finally:
        stop()
        store.close()
    placed = {e.account: len(e.placed) for e in report.engines}
    for sync in report.syncs:
        parts = [f"{f.role.value}: " + ("unchanged" if f.unchanged else
                 f"{f.stored} new, {f.bodies_fetched} bodies") for f in sync.folders]
        cost = f"{report.seconds.get(sync.account, 0) * 1000:.0f} ms"
        if sync.account in report.imap_commands:
            cost = f"{report.imap_commands[sync.account]} IMAP commands, " + cost
        print(f"{sync.account}: " + "; ".join(parts) +
              f"; {sync.applications_opened} application(s) opened; "
              f"{placed.get(sync.account, 0)} draft(s) placed ({cost})")
    for account, error in report.errors.items():
        print(f"{account}: failed: {error}")
    return 1 if report.errors else 0
