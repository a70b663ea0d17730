"""``followup show APPLICATION``: one application's whole history, each change with its cause.

One timeline, oldest first: the messages of its threads (what the classifier read in each, or
what you confirmed), every stage change with its cause, every draft with its fate (placed,
edited, sent, dismissed), and your notes; then what the schedule wants next. Reads the state
only; touches no mailbox.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from followup.cli.common import load, open_store, utc_now


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("show", help="one application's whole history, with the cause of each change")
    parser.add_argument("application", help="application id (or a unique prefix), as `followup status` shows")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from followup.cli.note import find_application
    from followup.cli.status import next_drafts

    config = load(args)
    store = open_store(config)
    try:
        app_id = find_application(store, args.application)
        app = store.application(app_id)
        now = utc_now()
        data = {
            "id": app_id, "account": app["account"], "company": app["company"], "role": app["role"],
            "stage": app["stage"], "contact": app["contact_email"], "created": app["created_at"],
            "timeline": timeline(store, app),
            "next_draft": next_drafts(store, config, now).get(app_id),
        }
    finally:
        store.close()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    tz = config.tz
    print(f"{data['company'] or '?'} — {data['role'] or '?'}  [{app_id}, account {data['account']}]")
    print(f"stage: {data['stage']}; contact: {data['contact'] or 'unknown'}")
    print()
    for entry in data["timeline"]:
        when = _local(entry["at"], tz)
        print(f"{when}  {entry['what']:<8} {entry['text']}")
        if entry.get("cause"):
            print(f"{'':<16}  {'':<8} because: {entry['cause']}")
    print()
    upcoming = data["next_draft"]
    if upcoming:
        due = datetime.fromisoformat(upcoming["due"])
        when = "at the next poll" if due <= now else f"on {_local(upcoming['due'], tz)}"
        print(f"next: a {upcoming['kind']} draft {when}" + (f" to {upcoming['to']}" if upcoming["to"] else ""))
    else:
        print("next: nothing scheduled")
    return 0


def timeline(store, app) -> list[dict]:
    """Messages, stage changes, drafts and notes of one application, oldest first."""
    entries: list[dict] = []
    for thread in store.threads_of_application(app["id"]):
        for row in store.messages_in_thread(app["account"], thread):
            if row.followup_key and row.outbound and row.sent_at is None:
                continue  # our own draft: shown below with its fate
            if row.outbound:
                what = "sent" if row.sent_at else "draft"
                text = f"you → {row.subject!r}"
                cause = None
            else:
                what = "mail"
                text = f"{row.sender or '?'}: {row.subject!r}"
                if row.confirmed_label:
                    cause = f"read as {row.confirmed_label} (confirmed by you)"
                elif row.label:
                    evidence = "; ".join(row.evidence[:2])
                    cause = f"read as {row.label} ({(row.confidence or 0):.0%})" + (f": {evidence}" if evidence else "")
                else:
                    cause = "headers only (not read)"
            entries.append({"at": row.sent_at or row.date or row.learned_at, "what": what, "text": text,
                            "cause": cause, "message_id": row.message_id})
    for event in store.events(app["id"]):
        entries.append({"at": event["at"], "what": "stage", "text": f"→ {event['stage']}", "cause": event["cause"]})
    for draft in store.drafts(application_id=app["id"]):
        placed = draft["placed_at"] or draft["journalled_at"]
        to = f" to {draft['recipient']}" if draft["recipient"] else " (no recipient known)"
        entries.append({"at": placed, "what": "draft", "text": f"{draft['kind']}{to}: {draft['subject']!r}",
                        "cause": f"due {draft['due_at'][:16].replace('T', ' ')}" if draft["due_at"] else None,
                        "key": draft["key"]})
        if draft["fate"] not in ("placed", "journalled"):
            entries.append({"at": draft["sent_at"] or draft["fate_at"] or placed, "what": "fate",
                            "text": f"{draft['kind']} draft {draft['fate']}", "cause": _fate_cause(draft["fate"]),
                            "key": draft["key"]})
    for note in store.db.execute("SELECT at, text FROM notes WHERE application_id=? ORDER BY id", (app["id"],)):
        entries.append({"at": note["at"], "what": "note", "text": note["text"], "cause": None})
    entries.sort(key=lambda e: _sort_key(e["at"]))
    return entries


def _fate_cause(fate: str) -> str:
    return {
        "sent": "found in Sent",
        "edited": "you changed it in Drafts; it is yours now",
        "dismissed": "deleted from Drafts without sending; not made again",
    }.get(fate, fate)


def _sort_key(value: str | None) -> str:
    if not value:
        return ""
    try:
        return datetime.fromisoformat(value).astimezone(UTC).isoformat()
    except ValueError:
        return value


def _local(value: str | None, tz) -> str:
    if not value:
        return "????-??-?? ??:??"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value[:16]
    if moment.tzinfo is not None:
        moment = moment.astimezone(tz)
    return f"{moment:%Y-%m-%d %H:%M}"
