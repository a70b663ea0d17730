"""``followup simulate``: the real pipeline on a Maildir with a simulated clock, as JSON lines."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from followup.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("simulate", help="run the pipeline on a Maildir with a simulated clock")
    parser.add_argument("--maildir", required=True, type=Path,
                        help="source Maildir: INBOX in cur/ and new/, the user's sent mail in .Sent/")
    parser.add_argument("--start", required=True, help="simulated start, ISO 8601 (a date or date and time)")
    parser.add_argument("--end", required=True, help="simulated end, ISO 8601")
    parser.add_argument("--tz", default="UTC", help="the user's time zone (IANA name; default UTC)")
    parser.add_argument("--country", default="US", help="public holidays of this country (default US)")
    parser.add_argument("--subdivision", default=None, help="state / province for holidays")
    parser.add_argument("--user-sends-after", type=float, default=None, metavar="HOURS",
                        help="a simulated user sends each draft this many hours after it appears")
    parser.add_argument("--notes", type=Path, default=None,
                        help="YAML list of {company, role, note}: what you noted after each interview")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the working Maildir and state here (default: a temp dir)")
    parser.set_defaults(func=run)


def parse_moment(value: str, tz: ZoneInfo, name: str) -> datetime:
    """An ISO date or datetime; naive values are read in ``tz``. Raises ConfigError."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--{name}: {value!r} is not an ISO 8601 date or time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"--tz: unknown time zone {name!r}") from None


def run(args: argparse.Namespace) -> int:
    from followup.simulation import run_simulation

    tz = zone(args.tz)
    start, end = parse_moment(args.start, tz, "start"), parse_moment(args.end, tz, "end")
    if end <= start:
        raise ConfigError("--end must be after --start")
    if not args.maildir.is_dir():
        raise ConfigError(f"--maildir: {args.maildir} is not a directory")

    def show(event) -> None:
        print(json.dumps(event.as_json(), ensure_ascii=False), flush=True)

    notes = None
    if args.notes:
        from followup.simulation import load_notes

        try:
            notes = load_notes(args.notes)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"--notes: {exc}") from None
    try:
        sim = run_simulation(args.maildir, start, end, tz=args.tz, country=args.country.upper(),
                             subdivision=args.subdivision, user_sends_after=args.user_sends_after,
                             workdir=args.workdir, notes=notes, on_event=show)
    except FileNotFoundError as exc:
        raise ConfigError(f"--maildir: {exc}") from None
    sim.store.close()
    print(f"simulated {start.isoformat()} .. {end.isoformat()}: "
          f"{sum(e.action == 'draft' for e in sim.events)} draft(s); working copy in {sim.workdir}",
          file=sys.stderr)
    return 0
