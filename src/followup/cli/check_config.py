"""``followup check-config``: validate the config (every problem at once) and its secret references."""

from __future__ import annotations

import argparse
import sys

from followup.cli.common import load
from followup.config import GmailAccount, ImapAccount, resolve_secret
from followup.errors import ConfigError
from followup.mailbox.gmail_auth import credentials_from_text, is_token_json


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("check-config", help="validate the config file and the secrets it refers to")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load(args)
    problems = []
    for account in config.accounts:
        if isinstance(account, ImapAccount):
            try:
                kind, secret = resolve_secret(account)
                if kind == "oauth2" and is_token_json(secret):  # the JSON of `followup auth gmail`
                    credentials_from_text(secret, account.name, "of this account")
            except ConfigError as exc:
                problems.append(str(exc))
        elif isinstance(account, GmailAccount):
            from followup.mailbox.gmail_auth import token_source

            try:
                token_source(config, account)
            except ConfigError as exc:
                problems.append(str(exc))
    if problems:
        raise ConfigError(f"{config.source}: {len(problems)} problem(s) with secrets", problems)
    names = ", ".join(f"{a.name} ({a.type})" for a in config.accounts)
    print(f"{config.source}: OK: {len(config.accounts)} account(s): {names}; "
          f"time zone {config.timezone}, holidays {config.country}; state in {config.state_path}",
          file=sys.stdout)
    return 0
