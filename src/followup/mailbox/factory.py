"""Build the mailbox backend an account's config asks for. Nothing here touches the network."""

from __future__ import annotations

from followup.config import Config, GmailAccount, ImapAccount, MaildirAccount, resolve_secret
from followup.errors import AuthError
from followup.mailbox.base import Mailbox

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
    from followup.mailbox.imap import ImapMailbox, ImapSettings

    kind, secret = resolve_secret(account)
    return ImapMailbox(account.name, ImapSettings(
        host=account.host, port=account.effective_port, security=account.security,
        username=account.username, password=secret if kind == "password" else None,
        oauth2_token=secret if kind == "oauth2" else None, timeout=account.timeout_seconds,
        folders=dict(account.folders)))


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
