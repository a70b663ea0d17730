"""``followup confirm MESSAGE-ID LABEL``: settle what a message means when the classifier was unsure."""

from __future__ import annotations

import argparse

from followup.cli.common import load, open_store
from followup.core.model import Label
from followup.errors import FollowupError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("confirm", help="confirm the label of a message the program was unsure about")
    parser.add_argument("message_id", help="the Message-ID, as the digest's 'please confirm' list shows it")
    parser.add_argument("label", choices=[label.value for label in Label])
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    message_id = args.message_id.strip()
    if not message_id.startswith("<"):
        message_id = f"<{message_id}>"
    store = open_store(load(args))
    try:
        row = store.find_message(message_id)
        if row is None:
            raise FollowupError(f"no message {message_id} in the store")
        with store.transaction():
            store.confirm_label(row.account, message_id, args.label)  # decided again next cycle
    finally:
        store.close()
    print(f"{message_id}: confirmed as {args.label}; the next cycle acts on it")
    return 0
