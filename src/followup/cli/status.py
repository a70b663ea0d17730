"""``followup status``: a table of applications with their stage and last contact."""

from __future__ import annotations

import argparse
import json

from followup.cli.common import load, open_store


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("status", help="show every application and its stage")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("application", nargs="?", help="show one application's history")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load(args)
    store = open_store(config)
    try:
        data = rows_for(store)
        if args.application:
            data = [r for r in data if r["id"] == args.application]
            if not data:
                print(f"no application {args.application!r}; `followup status` lists them")
                return 1
    finally:
        store.close()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print_table(data, show_events=bool(args.application))
    return 0


def rows_for(store) -> list[dict]:
    """Every application with its events, as plain data."""
    return [{
        "id": r["id"], "account": r["account"], "company": r["company"], "role": r["role"],
        "stage": r["stage"], "contact": r["contact_email"], "updated": r["updated_at"],
        "events": [{"at": e["at"], "stage": e["stage"], "cause": e["cause"]} for e in store.events(r["id"])],
    } for r in store.applications()]


def print_table(data: list[dict], *, show_events: bool = False) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not data:
        console.print("No applications yet.")
        return
    table = Table(title=f"{len(data)} application(s)")
    for column in ("id", "company", "role", "stage", "contact", "last change"):
        table.add_column(column)
    for row in data:
        last = row["events"][-1]["at"][:16].replace("T", " ") if row["events"] else ""
        table.add_row(row["id"], row["company"] or "?", row["role"] or "?", row["stage"],
                      row["contact"] or "-", last)
    console.print(table)
    if show_events:
        for row in data:
            for event in row["events"]:
                console.print(f"  {event['at'][:16]}  {event['stage']:<12} {event['cause']}")
