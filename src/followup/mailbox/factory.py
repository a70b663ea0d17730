"""Build the mailbox backend an account's config asks for. Nothing here touches the network."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from followup.config import Config, GmailAccount, ImapAccount, MaildirAccount, resolve_secret
from followup.errors import AuthError
from followup.mailbox.base import Mailbox

if TYPE_CHECKING:
    from followup.mailbox.imap import ImapSettings

#: Another root URL for the Gmail API and another OAuth token endpoint (None: Google's). The
#: test suite points them at its fake server.
GMAIL_ROOT_URL: str | None = None
GMAIL_TOKEN_URI: str | None = None


def open_mailbox(config: Config, account_name: str) -> Mailbox:
    """Return an unconnected backend for the named account; raises ConfigError for a bad secret ref."""
    account = config.account(account_name)
    if isinstance(account, MaildirAccount):
        from followup.mailbox.maildir import MaildirMailbox

        return MaildirMailbox(account.name, account.path, sent_folder=account.sent_folder,
                              drafts_folder=account.drafts_folder)
    if isinstance(account, GmailAccount):
        return _gmail_mailbox(config, account)
    assert isinstance(account, ImapAccount)
    return _imap_mailbox(account)


def _imap_mailbox(account: ImapAccount) -> Mailbox:
    """The IMAP backend. The secret is read now (ConfigError when missing or too open). An OAuth2
    token that is the JSON of ``followup auth gmail`` (refresh token included) becomes an
    :class:`~followup.mailbox.gmail_auth.XOAuth2Token`: refreshed at login when expired, and
    written back (0600, atomically) when it lives in ``oauth2_token_file``. A bare access token
    is used as it is."""
    from followup.mailbox import gmail_auth
    from followup.mailbox.imap import ImapMailbox

    kind, secret = resolve_secret(account)
    if kind == "password":
        return ImapMailbox(account.name, imap_settings(account, password=secret))
    if not gmail_auth.is_token_json(secret):
        return ImapMailbox(account.name, imap_settings(account, oauth2_token=secret))
    save_path = None
    if account.oauth2_token_file is not None:
        save_path = Path(os.path.expanduser(str(account.oauth2_token_file)))
        source = str(save_path)
    elif account.oauth2_token_credential:
        source = f"the credential {account.oauth2_token_credential}"
    else:
        source = f"${account.oauth2_token_env}"
    provider = gmail_auth.XOAuth2Token(account.name, lambda: resolve_secret(account)[1], source=source,
                                       save_path=save_path, token_uri=GMAIL_TOKEN_URI, text=secret)
    return ImapMailbox(account.name, imap_settings(account, oauth2_token_provider=provider))


def imap_settings(account: ImapAccount, *, password: str | None = None, oauth2_token: str | None = None,
                  oauth2_token_provider=None) -> ImapSettings:
    """The ImapSettings of an account's config, with the given secret (exactly one)."""
    from followup.mailbox.imap import ImapSettings

    return ImapSettings(
        host=account.host, port=account.effective_port, security=account.security,
        username=account.username, password=password, oauth2_token=oauth2_token,
        oauth2_token_provider=oauth2_token_provider, timeout=account.timeout_seconds,
        folders=dict(account.folders))


def _gmail_mailbox(config: Config, account: GmailAccount) -> Mailbox:
    """The Gmail API backend. Checks now that the token file exists and is private (ConfigError);
    reading, refreshing and the first call happen when the mailbox connects."""
    from followup.mailbox import gmail_auth
    from followup.mailbox.gmail import GmailMailbox, build_service

    source = gmail_auth.token_source(config, account)
    root_url, token_uri = GMAIL_ROOT_URL, GMAIL_TOKEN_URI

    def service():
        credentials = gmail_auth.load_credentials(source, account, token_uri=token_uri)
        missing = gmail_auth.missing_scopes(credentials, account)
        if missing:
            raise AuthError(f"{account.name}: the Gmail token lacks {', '.join(m.rsplit('/', 1)[1] for m in missing)} "
                            f"(labels: true needs gmail.modify): {gmail_auth.reauth_hint(account.name)}")
        if not credentials.valid:
            gmail_auth.refresh(credentials, account.name)
        return build_service(credentials, timeout=account.timeout_seconds, root_url=root_url)

    return GmailMailbox(account.name, service, addresses=[account.address], labels=account.labels)
