"""The sync stores a batch with few statements (``followup.sync._BatchStore``: lookups known to
find nothing are not made, new rows are held and written together); the store must end up
exactly as if every message had been threaded, looked up and inserted one by one.

Each test syncs the same mailbox twice, once as the sync does and once through a view that
asks the store every question and inserts every row at once, and compares whole databases
(row ids included): replies within a batch, replies that arrive before their parent, threads
merged when the parent comes, subject threading inside and across batches, applications.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from gmail_fake import FakeGmail, mailbox_for
from sync_support import NOW, USER, context

import followup.sync as sync
from followup.core.model import FolderRole
from followup.mailbox.maildir import MaildirMailbox
from followup.store.db import Store


class OneByOne(sync._BatchStore):
    """The reference: every lookup asked of the store, every message inserted when it comes."""

    def __init__(self, store: Store, account: str, heads, *, storing: bool = False) -> None:  # noqa: ARG002
        self.store, self.account = store, account

    def thread_of(self, message_ids):
        return self.store.thread_of(self.account, message_ids)

    def threads_replying_to(self, message_id):
        return self.store.threads_replying_to(self.account, message_id)

    def thread_by_subject(self, subject_key, since_iso, until_iso, counterparts):
        return self.store.thread_by_subject(self.account, subject_key, since_iso, until_iso, counterparts)

    def thread_of_gmail(self, gm_thrid):
        return self.store.thread_of_gmail(self.account, gm_thrid)

    def merge_threads(self, into, others):
        self.store.merge_threads(self.account, into, others)

    def insert(self, columns):
        self.store.insert_message(**columns)

    def flush(self):
        pass


def dump(path) -> dict[str, list[tuple]]:
    """Every table the sync writes, row ids included, in row id order."""
    db = sqlite3.connect(path)
    tables = ("messages", "message_refs", "locations", "threads", "applications", "events", "cursors")
    return {t: db.execute(f"SELECT rowid, * FROM {t} ORDER BY rowid").fetchall() for t in tables}


def letter(n: int, subject: str, *, sender: str = "ann@acme.example", to: str = USER,
           in_reply_to: str | None = None, references: tuple[int, ...] = (), days: float = 0) -> bytes:
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}",
             f"Date: {format_datetime(datetime(2026, 3, 1, 9, 0, tzinfo=UTC) + timedelta(days=days, minutes=n))}",
             f"Message-ID: <t{n}@example>"]
    if in_reply_to:
        lines.append(f"In-Reply-To: {in_reply_to}")
    if references:
        lines.append("References: " + " ".join(f"<t{r}@example>" for r in references))
    return ("\r\n".join(lines) + "\r\n\r\nHello.\r\n").encode()


def reply(n: int, subject: str, to_n: int, *, chain: tuple[int, ...] = (), **kw) -> bytes:
    return letter(n, subject, in_reply_to=f"<t{to_n}@example>", references=(*chain, to_n), **kw)


#: (folder, message) in delivery order: each case is commented with what it exercises.
MAILBOX = [
    (FolderRole.SENT, reply(1, "Re: Lunch", 10, sender=USER, to="ann@acme.example")),  # names a later inbox mail
    (FolderRole.INBOX, letter(10, "Lunch")),  # followed by a stored Sent reply (asked once per batch)
    (FolderRole.INBOX, letter(11, "Re: Lunch")),  # subject threading onto a message of the same batch
    (FolderRole.INBOX, letter(12, "Re: Lunch", sender="bob@other.example", to="eve@other.example")),  # no one shared
    (FolderRole.INBOX, letter(13, "Re: Lunch", days=60)),  # outside the subject window
    (FolderRole.INBOX, reply(20, "Budget", 30, sender="carol@corp.example")),  # parent not there yet
    (FolderRole.INBOX, reply(21, "Numbers", 30, sender="dave@corp.example", to="erin@corp.example")),  # nor here
    (FolderRole.INBOX, reply(22, "Re: Budget", 20, chain=(30,), sender="carol@corp.example")),  # reply in batch
    (FolderRole.INBOX, letter(23, "Interview with Acme")),  # opens an application
    (FolderRole.INBOX, reply(24, "Re: Interview with Acme", 23)),  # in the application's thread
    (FolderRole.INBOX, letter(25, "Unfortunately", sender="jobs@acme.example")),  # joins it by company
    (FolderRole.INBOX, letter(30, "Budget", sender="carol@corp.example")),  # parent: merges threads 20 and 21
    (FolderRole.INBOX, reply(31, "Re: Budget", 30, sender="carol@corp.example")),  # into the merged thread
    (FolderRole.INBOX, letter(32, "We received your application", sender="jobs@globex.example")),
    (FolderRole.INBOX, letter(10, "Lunch")),  # the same message twice in a folder
    (FolderRole.DRAFTS, reply(40, "Re: Interview with Acme", 23, sender=USER)),
]
#: Delivered after the first sync: they name and are named by stored mail.
LATER = [
    (FolderRole.INBOX, reply(50, "Re: Budget", 31, chain=(30,), sender="carol@corp.example")),
    (FolderRole.INBOX, letter(51, "Re: Lunch")),
    (FolderRole.INBOX, letter(52, "Interview with Globex", sender="hr@globex.example")),
    (FolderRole.SENT, reply(53, "Re: Interview with Globex", 52, sender=USER, to="hr@globex.example")),
]


def thread_keys(tables: dict[str, list[tuple]], db_path) -> dict[str, str]:
    names = [r[1] for r in sqlite3.connect(db_path).execute("PRAGMA table_info(messages)")]
    return {row[1 + names.index("message_id")]: row[1 + names.index("thread_key")] for row in tables["messages"]}


def sync_maildir_both_ways(tmp_path, monkeypatch, deliveries, batch_size: int):
    """Deliver each (hours before NOW, [(folder, message)]) into one Maildir, syncing after each
    into two stores: as the sync does, and one by one (:class:`OneByOne`). Return both dumps."""
    for sub in ("cur", "new", "tmp"):
        (tmp_path / "mail" / sub).mkdir(parents=True)
    box = MaildirMailbox("home", tmp_path / "mail")
    stores = {name: Store.open(tmp_path / f"{name}.sqlite3") for name in ("batched", "reference")}
    for hours, delivery in deliveries:
        for i, (role, raw) in enumerate(delivery):
            box.append(role, raw, flags=(), when=NOW - timedelta(hours=hours, minutes=100 - i))
        for name, store in stores.items():
            with monkeypatch.context() as patch:
                if name == "reference":
                    patch.setattr(sync, "_BatchStore", OneByOne)
                sync.sync_account(box, store, context(batch_size=batch_size), NOW)
    for store in stores.values():
        store.close()
    return dump(tmp_path / "batched.sqlite3"), dump(tmp_path / "reference.sqlite3")


@pytest.mark.parametrize("batch_size", [1, 2, 5, 500])
def test_a_maildir_sync_stores_exactly_what_one_message_at_a_time_would(tmp_path, monkeypatch, batch_size):
    # the second sync finds stored mail named and naming
    batched, reference = sync_maildir_both_ways(tmp_path, monkeypatch, [(1, MAILBOX), (0, LATER)], batch_size)
    assert batched == reference
    thread = thread_keys(batched, tmp_path / "batched.sqlite3")
    assert thread["<t20@example>"] == thread["<t21@example>"] == thread["<t30@example>"] == thread["<t50@example>"]
    assert thread["<t1@example>"] == thread["<t10@example>"] == thread["<t11@example>"] == thread["<t51@example>"]
    assert thread["<t12@example>"] != thread["<t10@example>"] and thread["<t13@example>"] != thread["<t10@example>"]
    assert len(batched["applications"]) == 2


def test_a_gmail_sync_stores_exactly_what_one_message_at_a_time_would(tmp_path, monkeypatch):
    dumps = []
    for name, one_by_one in (("batched", False), ("reference", True)):
        server = FakeGmail(email=USER, now=NOW).start()
        try:
            for i, (role, raw) in enumerate(MAILBOX):
                if role is FolderRole.INBOX:
                    server.deliver(raw, when=NOW - timedelta(hours=2) + timedelta(minutes=i))
            box = mailbox_for(server, "gmail")
            box.connect()
            store = Store.open(tmp_path / f"{name}.sqlite3")
            with monkeypatch.context() as patch:
                if one_by_one:
                    patch.setattr(sync, "_BatchStore", OneByOne)
                sync.sync_account(box, store, context(batch_size=4), NOW)
            box.close()
            store.close()
        finally:
            server.stop()
        dumps.append(dump(tmp_path / f"{name}.sqlite3"))
    batched, reference = dumps
    assert batched == reference
    thread = thread_keys(batched, tmp_path / "batched.sqlite3")
    assert len(set(thread.values())) < len(thread)  # some share a thread


def random_mailbox(seed: int) -> list[tuple[FolderRole, bytes]]:
    """Mail that replies back and forth within a few threads, in an arbitrary order: parents
    after their replies, the same subject between different people, references to mail that
    never comes, now and then the user's own replies in Sent and the same message twice."""
    rng = random.Random(seed)
    people = ["ann@acme.example", "bob@globex.example", "carol@corp.example", USER]
    subjects = ["Lunch", "Budget", "Interview with Acme", "We received your application", "Unfortunately",
                "Weekly newsletter"]
    out = []
    for n in rng.sample(range(1, 41), 40):
        named = rng.sample(range(1, 46), rng.choice([0, 0, 1, 1, 2, 4]))  # 41-45 never arrive
        subject = rng.choice(subjects)
        if named or rng.random() < 0.3:
            subject = rng.choice(["Re: ", "RE: ", "Aw: ", ""]) + subject
        sender = rng.choice(people)
        role = FolderRole.SENT if sender == USER and rng.random() < 0.7 else FolderRole.INBOX
        raw = letter(n, subject, sender=sender, to=rng.choice([p for p in people if p != sender]),
                     in_reply_to=f"<t{named[-1]}@example>" if named and rng.random() < 0.8 else None,
                     references=tuple(named), days=rng.choice([0, 0, 1, 30, 50]))
        out.append((role, raw))
        if rng.random() < 0.05:
            out.append((role, raw))
    return out


@pytest.mark.parametrize("seed", range(24))
def test_random_threads_are_stored_exactly_as_one_message_at_a_time_would(tmp_path, monkeypatch, seed):
    mailbox = random_mailbox(seed)
    half = len(mailbox) // 2
    batched, reference = sync_maildir_both_ways(tmp_path, monkeypatch, [(2, mailbox[:half]), (1, mailbox[half:])],
                                                [3, 7, 500][seed % 3])
    assert batched == reference
