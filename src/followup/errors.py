"""One exception hierarchy, sorted by what the caller does next.

::

    FollowupError
    ├── ConfigError            exit 78 (EX_CONFIG): the user must fix the config; no retry
    ├── MailboxError           raised by mailbox backends (library errors are mapped here)
    │   ├── TransientError     socket errors, timeouts, BYE, HTTP 429/5xx: retry later, cursor untouched
    │   ├── AuthError          bad password, expired token: tell the user, pause the account
    │   ├── FolderNotFound     no folder with the role (e.g. no \\Drafts): a config problem
    │   ├── ProtocolError      the server answered something we cannot use
    │   └── CursorExpired      a change cursor (Gmail historyId) is too old: the sync rescans its window
    └── StoreError             the SQLite state cannot be opened or written

Backends map library exceptions at their boundary with ``raise … from exc`` (as httpx does),
so nothing above them ever sees an ``imaplib`` or ``socket`` exception.
"""

from __future__ import annotations


class FollowupError(Exception):
    """Base of every error the program raises on purpose."""

    exit_code = 1


class ConfigError(FollowupError):
    """The configuration is invalid; ``problems`` lists every problem found (file, key, reason)."""

    exit_code = 78

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        super().__init__(message)

    def __str__(self) -> str:
        head = super().__str__()
        if not self.problems:
            return head
        return head + "\n" + "\n".join(f"  - {p}" for p in self.problems)


class MailboxError(FollowupError):
    """A mailbox backend failed."""

    exit_code = 75  # EX_TEMPFAIL unless a subclass says otherwise


class TransientError(MailboxError):
    """The server or the network failed in a way that retrying later may fix."""


class AuthError(MailboxError):
    """The server refused our credentials; the user must act."""

    exit_code = 77  # EX_NOPERM


class FolderNotFound(MailboxError):
    """No folder has the wanted role (SPECIAL-USE flag or a known name)."""

    exit_code = 78


class ProtocolError(MailboxError):
    """The server answered something we cannot use."""


class CursorExpired(MailboxError):
    """The server no longer keeps changes since the given cursor (Gmail ``history.list`` 404:
    history lasts about a week). Never reaches the user: :mod:`followup.sync` rescans the window."""


class StoreError(FollowupError):
    """The SQLite state could not be opened, migrated or written."""

    exit_code = 74  # EX_IOERR
