"""The SQLite store: messages, their locations, threads, applications, events, drafts, cursors.

One ``Store`` wraps one connection (SQLite connections are not shared across threads; open one
per job). The database runs in WAL mode with ``synchronous=FULL`` so a kill -9 at any moment
loses at most the transaction in flight. Writers use :meth:`Store.transaction` (``BEGIN
IMMEDIATE``): the sync stores a batch of messages and advances the folder's cursor in the same
transaction, so a cursor never points past what is stored.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from itertools import chain, groupby
from pathlib import Path

from followup.core.model import FolderRole
from followup.errors import StoreError
from followup.store.schema import MIGRATIONS


@dataclass(frozen=True, slots=True)
class StoredCursor:
    """Where the sync of one folder stopped (see :mod:`followup.sync`)."""

    validity: int
    last_ref: int | None
    next_ref: int | None
    messages: int
    modseq: int | None


@dataclass(frozen=True, slots=True)
class MessageRow:
    """A stored message as the rest of the shell needs it."""

    id: int
    account: str
    message_id: str
    date: str | None
    sender: str | None
    subject: str
    outbound: bool
    sent_at: str | None
    thread_key: str
    followup_key: str | None
    raw: bytes | None
    label: str | None
    confidence: float | None
    evidence: tuple[str, ...]
    facts: dict
    confirmed_label: str | None
    learned_at: str


class Store:
    """The program's durable state. Raises :class:`StoreError` when the file cannot be used."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.db = connection

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | str) -> Store:
        """Open (creating and migrating) the database at ``path``; ``":memory:"`` for tests."""
        try:
            if str(path) != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            db = sqlite3.connect(str(path), timeout=30, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA busy_timeout=30000")
            store = cls(db)
            store.migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the state database {path}: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"cannot create the state directory for {path}: {exc.strerror}") from exc
        return store

    def migrate(self) -> int:
        """Apply pending migrations; return the schema version. Raises StoreError when the file is newer."""
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StoreError(f"the state database has schema version {version}, newer than this "
                             f"program knows ({len(MIGRATIONS)}); upgrade interview-followup")
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction():
                for statement in _statements(script):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version={number}")
        return len(MIGRATIONS)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE … COMMIT, ROLLBACK on any exception)."""
        if self.db.in_transaction:
            yield self.db  # nested: the outer transaction commits
            return
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"the state database is busy or read-only: {exc}") from exc
        try:
            yield self.db
        except BaseException:
            self._rollback()
            raise
        else:
            try:
                self.db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                self._rollback()
                raise StoreError(f"could not commit to the state database: {exc}") from exc

    def _rollback(self) -> None:
        # SQLite may already have rolled back on its own (a full disk during COMMIT): only roll
        # back a transaction that is still open, so the caller sees the real error.
        if self.db.in_transaction:
            try:
                self.db.execute("ROLLBACK")
            except sqlite3.OperationalError:
                pass

    # -- cursors ---------------------------------------------------------------------------

    def cursor(self, account: str, role: FolderRole) -> StoredCursor | None:
        row = self.db.execute(
            "SELECT validity, last_ref, next_ref, messages, modseq FROM cursors "
            "WHERE account=? AND folder_role=?", (account, role.value)).fetchone()
        return StoredCursor(*row) if row else None

    def save_cursor(self, account: str, role: FolderRole, cursor: StoredCursor, at: datetime) -> None:
        self.db.execute(
            "INSERT INTO cursors (account, folder_role, validity, last_ref, next_ref, messages, modseq, synced_at) "
            "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (account, folder_role) DO UPDATE SET "
            "validity=excluded.validity, last_ref=excluded.last_ref, next_ref=excluded.next_ref, "
            "messages=excluded.messages, modseq=excluded.modseq, synced_at=excluded.synced_at",
            (account, role.value, cursor.validity, cursor.last_ref, cursor.next_ref,
             cursor.messages, cursor.modseq, at.isoformat()))

    # -- locations -------------------------------------------------------------------------

    def known_refs(self, account: str, role: FolderRole) -> set[str]:
        rows = self.db.execute("SELECT ref FROM locations WHERE account=? AND folder_role=?",
                               (account, role.value))
        return {r[0] for r in rows}

    def forget_locations(self, account: str, role: FolderRole, refs: Iterable[str] | None = None) -> None:
        """Forget where messages were (all of the folder when ``refs`` is None); messages stay."""
        if refs is None:
            self.db.execute("DELETE FROM locations WHERE account=? AND folder_role=?", (account, role.value))
            return
        self.db.executemany("DELETE FROM locations WHERE account=? AND folder_role=? AND ref=?",
                            [(account, role.value, r) for r in refs])

    def add_locations(self, account: str, role: FolderRole, validity: int,
                      locations: Iterable[tuple[str, str]]) -> None:
        """Record where messages are: (ref, message_id) pairs, in order (a later pair for the
        same ref replaces an earlier one)."""
        self.db.executemany("INSERT OR REPLACE INTO locations VALUES (?,?,?,?,?)",
                            [(account, role.value, ref, validity, message_id) for ref, message_id in locations])

    def location_of(self, account: str, role: FolderRole, message_id: str) -> str | None:
        row = self.db.execute("SELECT ref FROM locations WHERE account=? AND folder_role=? AND message_id=?",
                              (account, role.value, message_id)).fetchone()
        return row[0] if row else None

    # -- messages --------------------------------------------------------------------------

    def known_message_ids(self, account: str, message_ids: Iterable[str]) -> set[str]:
        """Which of ``message_ids`` are stored for ``account`` (one query per 500 ids)."""
        return self._present("SELECT message_id FROM messages WHERE account=? AND message_id IN", account,
                             message_ids)

    def named_message_ids(self, account: str, message_ids: Iterable[str]) -> set[str]:
        """Which of ``message_ids`` a stored message of ``account`` names in In-Reply-To or
        References (its ``message_refs`` rows; one query per 500 ids)."""
        return self._present("SELECT DISTINCT ref_id FROM message_refs WHERE account=? AND ref_id IN", account,
                             message_ids)

    def _present(self, select: str, account: str, values: Iterable[str]) -> set[str]:
        """The values among ``values`` that ``select … IN (…)`` (account, then the values) returns."""
        values = list(dict.fromkeys(values))
        found: set[str] = set()
        for start in range(0, len(values), 500):
            chunk = values[start:start + 500]
            found.update(r[0] for r in self.db.execute(f"{select} ({','.join('?' * len(chunk))})",
                                                       (account, *chunk)))
        return found

    def insert_message(self, **columns: object) -> int:
        """Insert a message (keys = column names; ``evidence`` and ``facts`` may be given as
        JSON-able values) and its ``message_refs`` rows (see :func:`named_ids`); return its row
        id. The caller checked it is new."""
        cur = self.db.execute(_insert_message_sql(tuple(columns)), _message_values(columns))
        self._insert_refs([columns])
        return int(cur.lastrowid or 0)

    def insert_messages(self, messages: Sequence[dict[str, object]]) -> None:
        """Insert new messages (each a dict as :meth:`insert_message` takes) in order, as one
        :meth:`insert_message` call each would: the same rows, row ids in the same order. One
        statement per run of messages with the same columns, one for all their references."""
        for names, run in groupby(messages, key=tuple):  # tuple(a dict): its column names
            self.db.executemany(_insert_message_sql(names), [_message_values(m) for m in run])
        self._insert_refs(messages)

    def _insert_refs(self, messages: Iterable[dict[str, object]]) -> None:
        rows = [(m["account"], ref, m["message_id"])
                for m in messages for ref in named_ids(m.get("in_reply_to"), m.get("refs"))]  # type: ignore[arg-type]
        if rows:  # most mail names no other message
            self.db.executemany("INSERT INTO message_refs (account, ref_id, message_id) VALUES (?,?,?)", rows)

    def update_message(self, account: str, message_id: str, **columns: object) -> None:
        columns = _json_encoded(columns)
        sets = ", ".join(f"{k}=?" for k in columns)
        self.db.execute(f"UPDATE messages SET {sets} WHERE account=? AND message_id=?",
                        (*columns.values(), account, message_id))

    def confirm_label(self, account: str, message_id: str, label: str) -> None:
        """Record the label the user confirmed for a message; its application is decided again
        by the next cycle (the caller holds the transaction)."""
        self.update_message(account, message_id, confirmed_label=label)
        self.db.execute(
            "UPDATE applications SET decided_at=NULL WHERE id IN (SELECT t.application_id FROM threads t "
            "JOIN messages m ON m.account=t.account AND m.thread_key=t.thread_key "
            "WHERE m.account=? AND m.message_id=?)", (account, message_id))

    def awaiting_confirmation(self, account: str, threshold: float) -> list[tuple[str, str, FolderRole, str]]:
        """Inbound mail of an application labelled (not ``other``) below ``threshold`` and not yet
        confirmed, with where it lies: (message_id, label, folder role, ref), oldest first. These are
        the messages the digest asks about; uses the partial index ``messages_unconfirmed``."""
        rows = self.db.execute(
            "SELECT m.message_id, m.label, l.folder_role, l.ref FROM messages m "
            "JOIN threads t ON t.account=m.account AND t.thread_key=m.thread_key AND t.application_id IS NOT NULL "
            "JOIN locations l ON l.account=m.account AND l.message_id=m.message_id "
            "WHERE m.account=? AND m.confidence<? AND m.confirmed_label IS NULL AND m.outbound=0 "
            "AND m.label IS NOT NULL AND m.label<>'other' ORDER BY m.id, l.folder_role, l.ref",
            (account, threshold))
        return [(r[0], r[1], FolderRole(r[2]), r[3]) for r in rows]

    def is_unsent_draft(self, account: str, message_id: str) -> bool:
        """True for a stored outbound message not yet seen sent (a draft, ours or the user's)."""
        row = self.db.execute("SELECT outbound, sent_at FROM messages WHERE account=? AND message_id=?",
                              (account, message_id)).fetchone()
        return row is not None and bool(row[0]) and row[1] is None

    def thread_of(self, account: str, message_ids: Iterable[str]) -> str | None:
        """Return the thread key of the first stored message among ``message_ids``."""
        ids = [m for m in message_ids if m]
        if not ids:
            return None
        marks = ",".join("?" for _ in ids)
        row = self.db.execute(f"SELECT thread_key FROM messages WHERE account=? AND message_id IN ({marks}) "
                              "ORDER BY id LIMIT 1", (account, *ids)).fetchone()
        return row[0] if row else None

    def thread_of_gmail(self, account: str, gm_thrid: str) -> str | None:
        row = self.db.execute("SELECT thread_key FROM messages WHERE account=? AND gm_thrid=? LIMIT 1",
                              (account, gm_thrid)).fetchone()
        return row[0] if row else None

    def threads_replying_to(self, account: str, message_id: str) -> list[str]:
        """Thread keys of stored messages that name ``message_id`` in In-Reply-To or References."""
        rows = self.db.execute(
            "SELECT DISTINCT m.thread_key FROM message_refs r JOIN messages m "
            "ON m.account=r.account AND m.message_id=r.message_id WHERE r.account=? AND r.ref_id=?",
            (account, message_id))
        return [r[0] for r in rows]

    def merge_threads(self, account: str, into: str, others: Iterable[str]) -> None:
        for other in others:
            if other == into:
                continue
            self.db.execute("UPDATE messages SET thread_key=? WHERE account=? AND thread_key=?",
                            (into, account, other))
            row = self.db.execute("SELECT application_id FROM threads WHERE account=? AND thread_key=?",
                                  (account, other)).fetchone()
            self.db.execute("DELETE FROM threads WHERE account=? AND thread_key=?", (account, other))
            if row and row[0]:
                self.db.execute("INSERT OR IGNORE INTO threads VALUES (?,?,?)", (account, into, row[0]))

    def thread_by_subject(self, account: str, subject_key: str, since_iso: str, until_iso: str,
                          counterparts: Iterable[str], unstored: Sequence[dict[str, object]] = ()) -> str | None:
        """A thread with the same normalised subject, dated inside the window, sharing a counterpart
        address (the first such message's). ``unstored``: messages of ``account`` to be inserted
        next, in this order (dicts as :meth:`insert_message` takes): looked at as if they were
        stored already, that is after every stored message."""
        people = {c for c in counterparts if c}
        if not subject_key or not people:
            return None
        rows = self.db.execute(
            "SELECT thread_key, sender, recipients FROM messages WHERE account=? AND subject_key=? "
            "AND date BETWEEN ? AND ? ORDER BY id", (account, subject_key, since_iso, until_iso))
        # The same test in Python (BETWEEN on these TEXT values compares them as strings).
        held = ((m["thread_key"], m.get("sender"), m.get("recipients", "")) for m in unstored
                if m.get("subject_key", "") == subject_key and m.get("date") is not None
                and since_iso <= m["date"] <= until_iso)  # type: ignore[operator]
        for thread_key, sender, recipients in chain(rows, held):
            if sender in people or people & set(recipients.split(",")):  # type: ignore[union-attr]
                return thread_key  # type: ignore[return-value]
        return None

    def thread_has_outbound(self, account: str, thread_key: str) -> bool:
        return self.db.execute("SELECT 1 FROM messages WHERE account=? AND thread_key=? AND outbound=1 LIMIT 1",
                               (account, thread_key)).fetchone() is not None

    def messages_in_thread(self, account: str, thread_key: str) -> list[MessageRow]:
        rows = self.db.execute(f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE account=? AND thread_key=? "
                               "ORDER BY date, id", (account, thread_key))
        return [_message_row(r) for r in rows]

    def message(self, account: str, message_id: str) -> MessageRow | None:
        row = self.db.execute(f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE account=? AND message_id=?",
                              (account, message_id)).fetchone()
        return _message_row(row) if row else None

    def find_message(self, message_id: str) -> MessageRow | None:
        """The message with this Message-ID in any account (the first stored)."""
        row = self.db.execute(f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE message_id=? ORDER BY id LIMIT 1",
                              (message_id,)).fetchone()
        return _message_row(row) if row else None

    def count_messages(self, account: str | None = None) -> int:
        if account is None:
            return self.db.execute("SELECT count(*) FROM messages").fetchone()[0]
        return self.db.execute("SELECT count(*) FROM messages WHERE account=?", (account,)).fetchone()[0]

    # -- threads and applications ----------------------------------------------------------

    def application_of_thread(self, account: str, thread_key: str) -> str | None:
        row = self.db.execute("SELECT application_id FROM threads WHERE account=? AND thread_key=?",
                              (account, thread_key)).fetchone()
        return row[0] if row else None

    def link_thread(self, account: str, thread_key: str, application_id: str) -> None:
        self.db.execute("INSERT INTO threads VALUES (?,?,?) ON CONFLICT (account, thread_key) "
                        "DO UPDATE SET application_id=excluded.application_id",
                        (account, thread_key, application_id))

    def threads_of_application(self, application_id: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT thread_key FROM threads WHERE application_id=?",
                                              (application_id,))]

    def create_application(self, app_id: str, account: str, company: str | None, role: str | None,
                           stage: str, at: datetime) -> None:
        self.db.execute("INSERT INTO applications (id, account, company, role, stage, created_at, updated_at) "
                        "VALUES (?,?,?,?,?,?,?)", (app_id, account, company, role, stage,
                                                   at.isoformat(), at.isoformat()))

    def update_application(self, app_id: str, at: datetime, **columns: object) -> None:
        sets = ", ".join(f"{k}=?" for k in columns)
        self.db.execute(f"UPDATE applications SET {sets}, updated_at=? WHERE id=?",
                        (*columns.values(), at.isoformat(), app_id))

    def applications_to_match(self, account: str) -> list[tuple[str, str | None, str | None, str | None]]:
        """``(id, company, role, contact_email)`` of the account's applications, in the order of
        :meth:`applications`: what the sync matches a new thread against, read for every
        classified message it stores (hence plain tuples of these columns only, and the index
        ``applications_account``)."""
        cursor = self.db.cursor()
        cursor.row_factory = None
        return cursor.execute("SELECT id, company, role, contact_email FROM applications WHERE account=? "
                              "ORDER BY created_at, id", (account,)).fetchall()

    def applications(self, account: str | None = None) -> list[sqlite3.Row]:
        if account is None:
            return list(self.db.execute("SELECT * FROM applications ORDER BY created_at, id"))
        return list(self.db.execute("SELECT * FROM applications WHERE account=? ORDER BY created_at, id",
                                    (account,)))

    def application(self, app_id: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM applications WHERE id=?", (app_id,)).fetchone()

    def changed_since(self, app_id: str, since_iso: str) -> bool:
        """True when the application has mail learned, draft fates, or notes newer than ``since_iso``."""
        row = self.db.execute(
            # julianday() compares ISO times whatever their UTC offset
            "SELECT EXISTS (SELECT 1 FROM threads t JOIN messages m ON m.account=t.account "
            "AND m.thread_key=t.thread_key WHERE t.application_id=:a AND julianday(m.learned_at)>julianday(:s)) "
            "OR EXISTS (SELECT 1 FROM drafts d WHERE d.application_id=:a AND "
            "(julianday(d.journalled_at)>julianday(:s) OR julianday(d.fate_at)>julianday(:s))) "
            "OR EXISTS (SELECT 1 FROM notes n WHERE n.application_id=:a AND julianday(n.at)>julianday(:s))",
            {"a": app_id, "s": since_iso}).fetchone()
        return bool(row[0])

    def record_event(self, app_id: str, at: datetime, stage: str, cause: str, recorded_at: datetime) -> None:
        self.db.execute("INSERT INTO events (application_id, at, stage, cause, recorded_at) VALUES (?,?,?,?,?)",
                        (app_id, at.isoformat(), stage, cause, recorded_at.isoformat()))

    def events(self, app_id: str) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT * FROM events WHERE application_id=? ORDER BY at, id", (app_id,)))

    def add_note(self, app_id: str, at: datetime, text: str) -> None:
        self.db.execute("INSERT INTO notes (application_id, at, text) VALUES (?,?,?)",
                        (app_id, at.isoformat(), text))

    def notes(self, app_id: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT text FROM notes WHERE application_id=? ORDER BY id",
                                              (app_id,))]

    # -- drafts journal --------------------------------------------------------------------

    def draft(self, key: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM drafts WHERE key=?", (key,)).fetchone()

    def drafts(self, *, application_id: str | None = None, account: str | None = None,
               fates: Iterable[str] | None = None) -> list[sqlite3.Row]:
        sql, args = "SELECT * FROM drafts WHERE 1=1", []
        if application_id is not None:
            sql += " AND application_id=?"
            args.append(application_id)
        if account is not None:
            sql += " AND account=?"
            args.append(account)
        if fates is not None:
            fates = list(fates)
            sql += f" AND fate IN ({','.join('?' for _ in fates)})"
            args.extend(fates)
        return list(self.db.execute(sql + " ORDER BY journalled_at, key", args))

    def journal_draft(self, **columns: object) -> None:
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        self.db.execute(f"INSERT INTO drafts ({names}) VALUES ({marks})", tuple(columns.values()))

    def update_draft(self, key: str, **columns: object) -> None:
        sets = ", ".join(f"{k}=?" for k in columns)
        self.db.execute(f"UPDATE drafts SET {sets} WHERE key=?", (*columns.values(), key))

    # -- daily digests ---------------------------------------------------------------------

    def digest_record(self, local_date: str) -> sqlite3.Row | None:
        """The digest row of one local day (``YYYY-MM-DD``), if any."""
        return self.db.execute("SELECT * FROM digests WHERE local_date=?", (local_date,)).fetchone()

    def latest_digest(self, statuses: Iterable[str] | None = None) -> sqlite3.Row | None:
        """The digest row with the latest local day (only those in ``statuses`` when given)."""
        sql, args = "SELECT * FROM digests", []
        if statuses is not None:
            statuses = list(statuses)
            sql += f" WHERE status IN ({','.join('?' for _ in statuses)})"
            args.extend(statuses)
        return self.db.execute(sql + " ORDER BY local_date DESC LIMIT 1", args).fetchone()

    def record_digest(self, local_date: str, *, status: str, delivery: str, claimed_at: datetime,
                      subject: str | None = None, message_id: str | None = None) -> None:
        """Claim (or replace) the digest row of ``local_date``."""
        self.db.execute(
            "INSERT OR REPLACE INTO digests (local_date, status, delivery, subject, message_id, claimed_at) "
            "VALUES (?,?,?,?,?,?)", (local_date, status, delivery, subject, message_id, claimed_at.isoformat()))

    def update_digest(self, local_date: str, **columns: object) -> None:
        sets = ", ".join(f"{k}=?" for k in columns)
        self.db.execute(f"UPDATE digests SET {sets} WHERE local_date=?", (*columns.values(), local_date))

    def forget_digest(self, local_date: str) -> None:
        """Drop a claim whose delivery failed, so a later attempt may send that day's digest."""
        self.db.execute("DELETE FROM digests WHERE local_date=?", (local_date,))


_MESSAGE_COLUMNS = ("id, account, message_id, date, sender, subject, outbound, sent_at, thread_key, followup_key, raw, "
                    "label, confidence, evidence, facts, confirmed_label, learned_at")


def _message_row(row: sqlite3.Row) -> MessageRow:
    return MessageRow(
        id=row["id"], account=row["account"], message_id=row["message_id"], date=row["date"],
        sender=row["sender"], subject=row["subject"], outbound=bool(row["outbound"]), sent_at=row["sent_at"],
        thread_key=row["thread_key"], followup_key=row["followup_key"], raw=row["raw"],
        label=row["label"], confidence=row["confidence"],
        evidence=tuple(json.loads(row["evidence"])) if row["evidence"] else (),
        facts=json.loads(row["facts"]) if row["facts"] else {},
        confirmed_label=row["confirmed_label"], learned_at=row["learned_at"],
    )


def named_ids(in_reply_to: str | None, refs: str | None) -> list[str]:
    """The Message-IDs a message names, as its ``message_refs`` rows hold them: In-Reply-To and
    each of the space-separated ``refs``, without blanks or repeats, sorted."""
    if not refs:  # most mail
        return [str(in_reply_to)] if in_reply_to else []
    named = set(str(refs).split())
    if in_reply_to:
        named.add(str(in_reply_to))
    return sorted(named)


@lru_cache(maxsize=16)
def _insert_message_sql(names: tuple[str, ...]) -> str:
    # The sync always passes the same columns: one SQL text, built once, and one prepared
    # statement in sqlite3's cache.
    return f"INSERT INTO messages ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"


def _message_values(columns: dict[str, object]) -> tuple[object, ...]:
    """The values of a messages row in the order of ``columns``, JSON lists and objects encoded."""
    return tuple(_json_encoded(columns).values())


def _json_encoded(columns: dict[str, object]) -> dict[str, object]:
    """``columns`` with ``evidence`` and ``facts`` given as lists or objects encoded as JSON
    (the same key order)."""
    if isinstance(columns.get("evidence"), str | None) and isinstance(columns.get("facts"), str | None):
        return columns  # most mail: nothing to encode
    encoded = {key: json.dumps(columns[key], default=str)
               for key in ("evidence", "facts") if not isinstance(columns.get(key), str | None)}
    return {**columns, **encoded}


def _statements(script: str) -> list[str]:
    return [s for s in script.split(";") if s.strip()]
