"""The narrow interface every mailbox backend implements, and the values it speaks in.

A backend knows folders by *role* (INBOX, Sent, Drafts) and messages by *ref*: an opaque string
that locates a message inside one folder (an IMAP UID, a Maildir key). A ref is only a
location: a message's identity is its account + Message-ID, kept by the store.

Backends never connect in their constructor (``connect()`` does), never read the clock, and
raise only :mod:`followup.errors` exceptions. The sync loop (what to fetch, when the cursor
moves) lives in :mod:`followup.sync`, not here.

Some backends have optional methods, found with ``getattr``: ``changes_since`` and
``search_text`` (used by :mod:`followup.sync`), and ``tags_of(role, refs) -> {ref: frozenset of
lower-cased keywords or labels}`` (system flags left out, vanished refs too; used by
:mod:`followup.confirmations`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, runtime_checkable

from followup.core.model import FolderRole

#: Header fields fetched in the cheap first pass: enough to thread, to skip mailing lists and
#: to decide whether a body is worth fetching.
SYNC_HEADER_FIELDS = (
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "List-Id",
    "List-Unsubscribe",
    "Auto-Submitted",
    "Precedence",
    "X-Autoreply",
    "X-Autorespond",
    "X-Auto-Response-Suppress",
    "X-Followup-Key",
    "Content-Type",
)


@dataclass(frozen=True, slots=True)
class FolderState:
    """What a cheap status call says about a folder.

    ``validity`` changes when refs of the folder are no longer valid (IMAP UIDVALIDITY);
    ``next_ref`` is the IMAP UIDNEXT (``None`` where refs are not ordered, as in Maildir);
    ``modseq`` is HIGHESTMODSEQ (IMAP CONDSTORE) or a change stamp (Maildir directory mtimes),
    ``None`` when the backend has neither.
    """

    validity: int
    next_ref: int | None
    messages: int
    modseq: int | None = None


@dataclass(frozen=True, slots=True)
class HeaderRecord:
    """One message's headers from the cheap first pass."""

    ref: str
    raw_headers: bytes
    size: int
    flags: frozenset[str] = frozenset()
    received_at: datetime | None = None
    gm_msgid: str | None = None
    gm_thrid: str | None = None


@runtime_checkable
class Mailbox(Protocol):
    """One account's mailbox. Every method may raise a :class:`followup.errors.MailboxError`."""

    account: str

    def connect(self) -> None:
        """Open the connection (log in, learn capabilities). Idempotent."""

    def close(self) -> None:
        """Release the connection. Never raises."""

    @property
    def has_gmail_extensions(self) -> bool:
        """True when X-GM-MSGID / X-GM-THRID are available (Gmail's X-GM-EXT-1)."""

    def folder_state(self, role: FolderRole) -> FolderState:
        """Return the folder's state without selecting it where the protocol allows (IMAP STATUS)."""

    def list_refs(
        self, role: FolderRole, *, after: int | None = None, since: date | None = None
    ) -> list[str]:
        """Return the refs in the folder, oldest first.

        ``after``: only refs whose ordered position is greater (IMAP: UID > after; ignored by
        backends without ordered refs). ``since``: only messages received on or after that day.
        """

    def fetch_headers(self, role: FolderRole, refs: Sequence[str]) -> list[HeaderRecord]:
        """Return the header records of ``refs`` (refs that vanished meanwhile are left out)."""

    def fetch_raw(self, role: FolderRole, refs: Sequence[str], *, limit: int | None = None) -> dict[str, bytes]:
        """Return the raw message of each ref (its first ``limit`` bytes when given: the text parts
        come first, attachments after); never marks anything as read."""

    def append(self, role: FolderRole, raw: bytes, *, flags: Iterable[str], when: datetime) -> str | None:
        """Store ``raw`` in the folder with ``flags``; return its ref when the server says it."""

    def find_by_header(self, role: FolderRole, name: str, value: str) -> list[str]:
        """Return refs of messages whose header ``name`` contains ``value`` (server-side search)."""
