"""Confirming a label by tagging the message in the mail program (SPEC §1: the user confirms "with
one command (or a mail label)"; the command is ``followup confirm``).

The convention: a keyword or label named ``followup/<label>``, where ``<label>`` is a value of
:class:`~followup.core.model.Label` (``followup/rejection``, ``followup/interview_scheduled``,
``followup/other`` for "not about an application"). Case does not matter, and a dash or a space
may stand for an underscore; other ``followup/…`` tags are ignored (one debug line each).

After each sync, :func:`confirm_from_tags` looks for the messages the digest asks about (inbound,
labelled, below the confidence threshold, not yet confirmed) and, only when there are some, asks
the backend's optional ``tags_of(role, refs)`` once per folder: IMAP keywords (and Gmail's
X-GM-LABELS), Gmail API labels, Dovecot's Maildir keywords. A tagged message gets its
``confirmed_label`` exactly as ``followup confirm`` sets it, and the engine acts on it in the same
cycle. Tags are only read: nothing in the mailbox changes.

A folder whose change stamp (the stored cursor's HIGHESTMODSEQ, Maildir stamp or Gmail historyId,
as the sync just saw it) has not moved since this mailbox object last read the tags of the same
messages is not asked again: a waiting message costs the idle poll nothing until something in
its folder changes. Gmail over IMAP is always asked (label changes need not move its modseq).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterable
from typing import Any

from followup.config import Config, GmailAccount, ImapAccount, MaildirAccount
from followup.core.model import FolderRole, Label
from followup.errors import ConfigError
from followup.mailbox.base import Mailbox
from followup.store.db import Store

log = logging.getLogger(__name__)

TAG_PREFIX = "followup/"

#: mailbox -> role -> (the folder's change stamp, the refs whose tags were read at that stamp)
_read: weakref.WeakKeyDictionary[Any, dict[FolderRole, tuple[int, frozenset[str]]]] = weakref.WeakKeyDictionary()


def tag_for(label: str) -> str:
    """The tag that confirms ``label`` ("rejection" -> "followup/rejection")."""
    return TAG_PREFIX + label


def label_from_tags(tags: Iterable[str], *, where: str = "") -> Label | None:
    """The label the ``followup/<label>`` tags among ``tags`` name, or None: no such tag, only
    unknown ones (one debug line each), or tags naming different labels (one info line)."""
    labels: set[Label] = set()
    for tag in tags:
        name = str(tag).strip().lower()
        if not name.startswith(TAG_PREFIX):
            continue
        suffix = name[len(TAG_PREFIX):].replace("-", "_").replace(" ", "_")
        try:
            labels.add(Label(suffix))
        except ValueError:
            log.debug("%s: tag %r ignored: %r is none of the labels (%s)", where, tag, suffix,
                      ", ".join(label.value for label in Label))
    if len(labels) > 1:
        log.info("%s: tagged as %s at once; left for the user to settle", where,
                 " and ".join(sorted(tag_for(label.value) for label in labels)))
        return None
    return labels.pop() if labels else None


def confirm_from_tags(mailbox: Mailbox, store: Store, account: str, threshold: float) -> list[tuple[str, str]]:
    """Confirm the account's waiting messages the user tagged ``followup/<label>``; return the
    (Message-ID, label) pairs confirmed. Nothing is asked of the mailbox when its backend has no
    ``tags_of`` or when no message waits for confirmation. Raises MailboxError (nothing of a
    folder whose tags could not be read is confirmed) or StoreError."""
    tags_of = getattr(mailbox, "tags_of", None)
    if not callable(tags_of):
        return []
    waiting = store.awaiting_confirmation(account, threshold)
    if not waiting:
        return []
    folders: dict[FolderRole, dict[str, list[tuple[str, str]]]] = {}
    for message_id, guess, role, ref in waiting:
        folders.setdefault(role, {}).setdefault(ref, []).append((message_id, guess))
    memo = _memo(mailbox)
    confirmed: list[tuple[str, str]] = []
    done: set[str] = set()
    for role, refs in folders.items():
        stamp = _stamp(mailbox, store, account, role)
        asked = frozenset(refs)
        last = memo.get(role) if memo is not None else None
        if stamp is not None and last is not None and last[0] == stamp and asked <= last[1]:
            continue  # nothing in the folder changed since these refs' tags were read
        tags = tags_of(role, list(refs))
        with store.transaction():
            for ref, entries in refs.items():
                label = label_from_tags(tags.get(ref, ()), where=f"{account}: {role.value} {ref}")
                if label is None:
                    continue
                for message_id, guess in entries:
                    if message_id in done:
                        continue  # the same message in two folders
                    done.add(message_id)
                    store.confirm_label(account, message_id, label.value)
                    confirmed.append((message_id, label.value))
                    log.info("%s: %s confirmed as %s by its tag %s%s", account, message_id, label.value,
                             tag_for(label.value), "" if label.value == guess else f" (the classifier guessed {guess})")
        if memo is not None and stamp is not None:
            memo[role] = (stamp, asked)
    return confirmed


def tags_supported(config: Config, account_name: str) -> bool:
    """Whether the account's mail program can put a ``followup/<label>`` tag where this program
    reads it: IMAP keywords or Gmail labels; a Maildir only when Dovecot serves it."""
    from followup.mailbox.maildir import dovecot_keeps_keywords

    try:
        account = config.account(account_name)
    except ConfigError:
        return False
    if isinstance(account, MaildirAccount):
        return dovecot_keeps_keywords(account.path)
    return isinstance(account, ImapAccount | GmailAccount)


def _memo(mailbox: Mailbox) -> dict[FolderRole, tuple[int, frozenset[str]]] | None:
    try:
        return _read.setdefault(mailbox, {})
    except TypeError:  # an object that cannot be weakly referenced: always ask
        return None


def _stamp(mailbox: Mailbox, store: Store, account: str, role: FolderRole) -> int | None:
    """The folder's change stamp as the sync just stored it, or None when none can be trusted."""
    if getattr(mailbox, "has_gmail_extensions", False) and not callable(getattr(mailbox, "changes_since", None)):
        return None  # Gmail over IMAP: a label change need not move HIGHESTMODSEQ
    cursor = store.cursor(account, role)
    return cursor.modseq if cursor is not None else None
