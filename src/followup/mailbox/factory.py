"""Build the mailbox backend an account's config asks for. Nothing here touches the network."""

from __future__ import annotations

from followup.config import Config, ImapAccount, MaildirAccount, resolve_secret
from followup.mailbox.base import Mailbox


def open_mailbox(config: Config, account_name: str) -> Mailbox:
    """Return an unconnected backend for the named account; raises ConfigError for a bad secret ref."""
    account = config.account(account_name)
    if isinstance(account, MaildirAccount):
        from followup.mailbox.maildir import MaildirMailbox

        return MaildirMailbox(account.name, account.path, sent_folder=account.sent_folder,
                              drafts_folder=account.drafts_folder)
    assert isinstance(account, ImapAccount)
    from followup.mailbox.imap import ImapMailbox, ImapSettings

    kind, secret = resolve_secret(account)
    return ImapMailbox(account.name, ImapSettings(
        host=account.host, port=account.effective_port, security=account.security,
        username=account.username, password=secret if kind == "password" else None,
        oauth2_token=secret if kind == "oauth2" else None, timeout=account.timeout_seconds,
        folders=dict(account.folders)))
