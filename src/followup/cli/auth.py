"""``followup auth gmail --account NAME``: give a Gmail account its OAuth token.

Runs Google's installed-app consent flow on a loopback redirect (see
:mod:`followup.mailbox.gmail_auth`) and writes the token with mode 0600.

* A ``type: gmail`` account (the Gmail API) gets the scopes ``gmail.readonly`` +
  ``gmail.compose`` (+ ``gmail.modify`` with ``labels: true``); the token is checked with one
  ``getProfile`` call before it is written to the account's ``token_file`` (default
  ``<state_dir>/gmail-<name>.token.json``).
* A ``type: imap`` account on ``imap.gmail.com`` with ``oauth2_token_file`` (or
  ``oauth2_token_credential``) gets the scope ``https://mail.google.com/``, the only one Gmail's
  IMAP accepts; the token is written to that file, then checked with an XOAUTH2 login. The
  daemon refreshes the access token in it before a login when it has expired.
* With ``token_credential`` / ``oauth2_token_credential`` (a systemd ``LoadCredential=`` name)
  the token is written beside the config under that name (``/etc/interview-followup/NAME``
  for the system service's config), the place ``followup install-service`` loads it from.

Run it again whenever the program says Google refused the token.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from followup.cli.common import load
from followup.config import Config, GmailAccount, ImapAccount
from followup.errors import ConfigError

#: The hosts of Gmail's IMAP service (a Google token is no use anywhere else).
GMAIL_IMAP_HOSTS = ("imap.gmail.com", "imap.googlemail.com")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("auth", help="authorise access to a mail provider (Gmail: OAuth consent)")
    providers = parser.add_subparsers(dest="provider", metavar="PROVIDER", required=True)
    gmail = providers.add_parser("gmail", help="run Google's consent flow for a `type: gmail` account "
                                 "(or an imap account on imap.gmail.com using OAuth)")
    gmail.add_argument("--account", required=True, help="the account's name in the config")
    gmail.add_argument("--port", type=int, default=None,
                       help="local port for Google's redirect (default 8765; forward it when on SSH)")
    gmail.add_argument("--no-browser", action="store_true",
                       help="only print the link (a server without a browser)")
    gmail.set_defaults(func=run_gmail)


def run_gmail(args: argparse.Namespace, *, flow_factory=None, service_factory=None) -> int:
    config = load(args)
    account = config.account(args.account)
    if isinstance(account, ImapAccount):
        return _run_gmail_imap(args, config, account, flow_factory=flow_factory)
    if not isinstance(account, GmailAccount):
        raise ConfigError(f"accounts.{account.name} is a {account.type} account; "
                          "`followup auth gmail` is for `type: gmail` accounts and imap accounts on imap.gmail.com")
    return _run_gmail_api(args, config, account, flow_factory=flow_factory, service_factory=service_factory)


def credential_file(config: Config, name: str) -> Path:
    """Where the token of a ``*_credential`` account is written: beside the config, under the
    credential's name (``/etc/interview-followup/NAME`` for the system service)."""
    base = config.source.parent if config.source is not None else Path.cwd()
    return Path(os.path.expanduser(str(base))).resolve() / name


def _consent(args: argparse.Namespace, account_name: str, client_secrets_file: Path | None,
             scopes: list[str], what: str, flow_factory) -> object:
    from followup.mailbox import gmail_auth

    if client_secrets_file is None:
        raise ConfigError(f"accounts.{account_name}.client_secrets_file: required for `followup auth gmail` "
                          "(the OAuth client JSON downloaded from Google Cloud; see the README's Gmail section)")
    port = args.port if args.port is not None else gmail_auth.DEFAULT_FLOW_PORT
    browser = not args.no_browser and bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    print(f"Asking Google for: {', '.join(s if s == gmail_auth.IMAP_SCOPE else s.rsplit('/', 1)[1] for s in scopes)} "
          f"({what}).")
    return gmail_auth.run_consent_flow(Path(client_secrets_file), scopes, port=port,
                                       open_browser=browser, flow_factory=flow_factory)


def _run_gmail_api(args: argparse.Namespace, config: Config, account: GmailAccount, *,
                   flow_factory, service_factory) -> int:
    from followup.mailbox import factory, gmail_auth
    from followup.mailbox.gmail import GmailMailbox, build_service

    scopes = gmail_auth.scopes_for(account)
    what = f"read mail, write drafts{', set labels' if account.labels else ''}"
    credentials = _consent(args, account.name, account.client_secrets_file, scopes, what, flow_factory)
    # One call proves the token works and tells whose mailbox it opens.
    mailbox = GmailMailbox(account.name, service_factory or (
        lambda: build_service(credentials, root_url=factory.GMAIL_ROOT_URL)))
    try:
        mailbox.connect()
        address = mailbox.email_address
    finally:
        mailbox.close()
    if account.token_credential:
        path = credential_file(config, account.token_credential)
    else:
        path = gmail_auth.token_path(config, account)
    gmail_auth.save_credentials(path, credentials)
    print(f"{account.name}: token for {address or 'the account'} saved to {path} (mode 0600)")
    if address and address.lower() != account.address.lower():
        print(f"warning: the config says {account.address}, but Google opened {address}; fix "
              f"accounts.{account.name}.address or run this again signed in as {account.address}")
    if account.token_credential:
        _credential_advice(account.token_credential, path)
    return 0


def _run_gmail_imap(args: argparse.Namespace, config: Config, account: ImapAccount, *, flow_factory) -> int:
    from followup.mailbox import factory, gmail_auth
    from followup.mailbox.imap import ImapMailbox

    where = f"accounts.{account.name}"
    if account.host.lower().rstrip(".") not in GMAIL_IMAP_HOSTS:
        raise ConfigError(f"{where}: `followup auth gmail` gets a Google token, and this account connects "
                          f"to {account.host}, not imap.gmail.com")
    if account.oauth2_token_file is not None:
        path = Path(os.path.expanduser(str(account.oauth2_token_file)))
    elif account.oauth2_token_credential:
        path = credential_file(config, account.oauth2_token_credential)
    elif account.oauth2_token_env:
        raise ConfigError(f"{where}: the token comes from ${account.oauth2_token_env}, which this command "
                          "cannot write: use oauth2_token_file (or oauth2_token_credential) instead")
    else:
        raise ConfigError(f"{where} logs in with a password. For OAuth, replace its password_* key with "
                          "oauth2_token_file: PATH (where the token goes) and add client_secrets_file: PATH "
                          "(the OAuth client JSON); see the README's Gmail section")
    credentials = _consent(args, account.name, account.client_secrets_file, [gmail_auth.IMAP_SCOPE],
                           "Gmail's IMAP accepts only this scope: the whole mailbox", flow_factory)
    gmail_auth.save_credentials(path, credentials)
    print(f"{account.name}: token saved to {path} (mode 0600); the access token in it is refreshed "
          "before a login when it has expired")
    # One login proves the token works for this username (saved first: a wrong username in the
    # config is fixed without asking Google again).
    mailbox = ImapMailbox(account.name, factory.imap_settings(account, oauth2_token=credentials.token))
    try:
        mailbox.connect()
    finally:
        mailbox.close()
    print(f"{account.name}: logged in to {account.host} as {account.username} with XOAUTH2")
    if account.oauth2_token_credential:
        _credential_advice(account.oauth2_token_credential, path)
    return 0


def _credential_advice(name: str, path: Path) -> None:
    print(f"The service reads it as the credential {name!r} (LoadCredential={name}:{path}, which "
          "`followup install-service` writes for a config in /etc/interview-followup). The service "
          "refreshes the access token in memory; after running this command again, restart it "
          "(systemctl restart interview-followup): a reload does not re-read credentials.")
