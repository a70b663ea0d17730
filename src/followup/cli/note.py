"""``followup note APPLICATION "text"``: what you remember of the interview, used in the next drafts."""

from __future__ import annotations

import argparse

from followup.cli.common import load, open_store, utc_now
from followup.errors import FollowupError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("note", help="add a note to an application (used to personalise drafts)")
    parser.add_argument("application", help="application id (or a unique prefix), as `followup status` shows")
    parser.add_argument("text", help="e.g. \"we talked about their migration to Postgres\"")
    parser.set_defaults(func=run)


def find_application(store, wanted: str) -> str:
    """The id of the one application whose id starts with ``wanted``; raises FollowupError otherwise."""
    ids = [r["id"] for r in store.applications()]
    if wanted in ids:
        return wanted
    matches = [i for i in ids if i.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise FollowupError(f"no application {wanted!r}; `followup status` lists them")
    raise FollowupError(f"{wanted!r} matches several applications: {', '.join(matches)}")


def run(args: argparse.Namespace) -> int:
    text = " ".join(args.text.split())
    if not text:
        raise FollowupError("the note is empty")
    store = open_store(load(args))
    try:
        app_id = find_application(store, args.application)
        with store.transaction():
            store.add_note(app_id, utc_now(), text)
    finally:
        store.close()
    print(f"noted for {app_id}; drafts made from now on will use it")
    return 0
