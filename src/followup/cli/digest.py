"""``followup digest``: render the daily digest now (``--preview``) or send it now (``--send``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from followup.cli.common import load, open_store, utc_now
from followup.errors import FollowupError, TransientError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("digest", help="preview the daily digest, or send it now")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--preview", action="store_true",
                      help="print the subject and the text version; nothing is sent (the default)")
    mode.add_argument("--send", action="store_true",
                      help="send today's digest now, even before digest.hour (once per day)")
    parser.add_argument("--html", metavar="FILE", help="with --preview: also write the HTML version to FILE")
    parser.add_argument("--force", action="store_true",
                        help="with --send: send even when today's digest was already sent")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from followup.digest_job import render_digest, send_digest_if_due

    if args.force and not args.send:
        raise FollowupError("--force only goes with --send")
    if args.html and args.send:
        raise FollowupError("--html only goes with --preview")
    config = load(args)
    store = open_store(config)
    try:
        now = utc_now()
        if not args.send:
            subject, text, html = render_digest(config, store, now)
            if args.html:
                path = Path(args.html).expanduser()
                try:
                    path.write_text(html, encoding="utf-8")
                except OSError as exc:
                    raise FollowupError(f"cannot write {path}: {exc.strerror}") from None
            sys.stdout.write(f"Subject: {subject}\n\n{text}")
            if args.html:
                print(f"(HTML version written to {path})", file=sys.stderr)
            return 0
        outcome = send_digest_if_due(config, store, now, force=args.force, ignore_hour=True)
    finally:
        store.close()
    if outcome.status == "sent":
        print(f"sent by {outcome.delivery}: {outcome.subject}")
        return 0
    if outcome.status == "failed":
        raise TransientError(f"the digest was not sent: {outcome.detail}")
    print(f"not sent ({outcome.status.replace('_', ' ')}): {outcome.detail}")
    return 0 if outcome.status in ("already_sent", "skipped_empty") else 1
