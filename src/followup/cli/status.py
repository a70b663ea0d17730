"""``followup status``: a table of applications with their stage, last contact and next draft."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from followup.cli.common import load, open_store, utc_now


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("status", help="every application: stage, last contact, next draft and its date")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("application", nargs="?", help="show one application's history")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load(args)
    store = open_store(config)
    try:
        data = rows_for(store, config=config, now=utc_now())
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


def rows_for(store, *, config=None, now=None, tz=None) -> list[dict]:
    """Every application with its events, as plain data, times in ``tz`` (default the config's
    zone; as stored without either); with ``config`` and ``now`` also its next draft
    (``{"kind", "due"}`` or None) as the schedule decides it at ``now``."""
    upcoming = next_drafts(store, config, now) if config is not None and now is not None else {}
    tz = tz or (config.tz if config is not None else None)
    rows = []
    for r in store.applications():
        row = {
            "id": r["id"], "account": r["account"], "company": r["company"], "role": r["role"],
            "stage": r["stage"], "contact": r["contact_email"], "updated": r["updated_at"],
            "events": [{"at": _local(e["at"], tz), "stage": e["stage"], "cause": e["cause"]}
                       for e in store.events(r["id"])],
            "last_contact": _local(last_contact(store, r["id"]), tz),
        }
        if config is not None and now is not None:
            row["next_draft"] = upcoming.get(r["id"])
        rows.append(row)
    return rows


def _moment(value: object) -> datetime | None:
    """A stored ISO 8601 time as an aware datetime (UTC when it names no zone), or None."""
    try:
        moment = datetime.fromisoformat(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _local(value: str | None, tz) -> str | None:
    """An ISO 8601 time in the user's time zone (``tz``; as stored when None or unreadable)."""
    moment = _moment(value) if tz is not None else None
    return moment.astimezone(tz).isoformat() if moment is not None else value


def last_contact(store, app_id: str) -> str | None:
    """When mail last went either way in the application's threads (ISO 8601), if ever."""
    latest: tuple[datetime, str] | None = None
    for (value,) in store.db.execute(
            "SELECT coalesce(m.sent_at, m.date, m.learned_at) FROM messages m JOIN threads t "
            "ON t.account=m.account AND t.thread_key=m.thread_key "
            "WHERE t.application_id=? AND NOT (m.outbound=1 AND m.sent_at IS NULL)", (app_id,)):
        moment = _moment(value)
        if moment is not None and (latest is None or moment > latest[0]):
            latest = (moment, value)
    return latest[1] if latest else None


def next_drafts(store, config, now) -> dict[str, dict]:
    """For each application, the next draft the schedule wants and not placed yet: {"kind", "due", "to"}.

    Built like the engine does it (:func:`followup.engine.load_history` and
    :func:`followup.core.policy.decide`), without touching any mailbox. A draft already due is
    placed by the next cycle.
    """
    from followup.core.policy import decide
    from followup.engine import load_history, policy_settings, user_address_for

    settings = policy_settings(config)
    users = config.user_addresses()
    out: dict[str, dict] = {}
    for row in store.applications():
        try:
            user = user_address_for(config, row["account"]).email
        except Exception:  # noqa: BLE001 - an account removed from the config: its own address only
            user = None
        try:
            history = load_history(store, row, users | ({user} if user else set()))
            decision = decide(history, now, settings)
        except ValueError:  # a stored date the policy cannot use: no forecast for this one
            continue
        waiting = sorted((i for i in decision.drafts if store.draft(i.key) is None), key=lambda i: i.due)
        if waiting:
            intent = waiting[0]
            out[row["id"]] = {"kind": intent.kind.value, "due": intent.due.astimezone(config.tz).isoformat(),
                              "to": intent.to.email if intent.to else None}
    return out


def print_table(data: list[dict], *, show_events: bool = False, console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    if not data:
        console.print("No applications yet.")
        return
    table = Table(title=f"{len(data)} application(s)")
    with_next = any("next_draft" in row for row in data)
    for column in ("id", "company", "role", "stage", "contact", "last contact") + (("next draft",) if with_next else ()):
        table.add_column(column)
    for row in data:
        last = (row.get("last_contact") or "")[:16].replace("T", " ")
        cells = [row["id"], row["company"] or "?", row["role"] or "?", row["stage"], row["contact"] or "-", last]
        if with_next:
            upcoming = row.get("next_draft")
            cells.append(f"{upcoming['kind']} {upcoming['due'][:16].replace('T', ' ')}" if upcoming else "-")
        table.add_row(*cells)
    console.print(table)
    if show_events:
        for row in data:
            for event in row["events"]:
                console.print(f"  {event['at'][:16]}  {event['stage']:<12} {event['cause']}")
