"""``followup auth gmail --account NAME``: give a Gmail API account its OAuth token.

Runs Google's installed-app consent flow on a loopback redirect (see
:mod:`followup.mailbox.gmail_auth`), checks the token with one ``getProfile`` call, and writes it
with mode 0600 to the account's ``token_file`` (default ``<state_dir>/gmail-<name>.token.json``).
Run it again whenever the program says Google refused the token.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from followup.cli.common import load
from followup.config import GmailAccount
from followup.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("auth", help="authorise access to a mail provider (Gmail: OAuth consent)")
    providers = parser.add_subparsers(dest="provider", metavar="PROVIDER", required=True)
    gmail = providers.add_parser("gmail", help="run Google's consent flow for a `type: gmail` account")
    gmail.add_argument("--account", required=True, help="the account's name in the config")
    gmail.add_argument("--port", type=int, default=None,
                       help="local port for Google's redirect (default 8765; forward it when on SSH)")
    gmail.add_argument("--no-browser", action="store_true",
                       help="only print the link (a server without a browser)")
    gmail.set_defaults(func=run_gmail)


def run_gmail(args: argparse.Namespace, *, flow_factory=None, service_factory=None) -> int:
    from followup.mailbox import factory, gmail_auth
    from followup.mailbox.gmail import GmailMailbox, build_service

    config = load(args)
    account = config.account(args.account)
    if not isinstance(account, GmailAccount):
        raise ConfigError(f"accounts.{account.name} is a {account.type} account; "
                          "`followup auth gmail` is for `type: gmail` accounts")
    if account.client_secrets_file is None:
        raise ConfigError(f"accounts.{account.name}.client_secrets_file: required for `followup auth gmail` "
                          "(the OAuth client JSON downloaded from Google Cloud; see the README's Gmail section)")
    scopes = gmail_auth.scopes_for(account)
    port = args.port if args.port is not None else gmail_auth.DEFAULT_FLOW_PORT
    browser = not args.no_browser and bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    print(f"Asking Google for: {', '.join(s.rsplit('/', 1)[1] for s in scopes)} "
          f"(read mail, write drafts{', set labels' if account.labels else ''}).")
    credentials = gmail_auth.run_consent_flow(Path(account.client_secrets_file), scopes, port=port,
                                              open_browser=browser, flow_factory=flow_factory)
    # One call proves the token works and tells whose mailbox it opens.
    mailbox = GmailMailbox(account.name, service_factory or (
        lambda: build_service(credentials, root_url=factory.GMAIL_ROOT_URL)))
    try:
        mailbox.connect()
        address = mailbox.email_address
    finally:
        mailbox.close()
    path = gmail_auth.token_path(config, account)
    gmail_auth.save_credentials(path, credentials)
    print(f"{account.name}: token for {address or 'the account'} saved to {path} (mode 0600)")
    if address and address.lower() != account.address.lower():
        print(f"warning: the config says {account.address}, but Google opened {address}; fix "
              f"accounts.{account.name}.address or run this again signed in as {account.address}")
    if account.token_credential:
        print(f"The service reads it as the credential {account.token_credential!r}: add\n"
              f"    LoadCredential={account.token_credential}:{path}\n"
              "to the unit (systemctl edit interview-followup), then restart it.")
    return 0
