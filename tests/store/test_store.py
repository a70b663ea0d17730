"""The SQLite store: WAL, migrations, transactions that roll back whole."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from followup.core.model import FolderRole
from followup.errors import StoreError
from followup.store.db import Store, StoredCursor
from followup.store.schema import MIGRATIONS

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_new_database_is_in_wal_mode_at_the_latest_schema_version(tmp_path):
    store = Store.open(tmp_path / "s.sqlite3")
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    store.close()
    assert Store.open(tmp_path / "s.sqlite3").migrate() == len(MIGRATIONS)  # reopening is a no-op


def test_a_database_from_a_newer_program_is_refused(tmp_path):
    store = Store.open(tmp_path / "s.sqlite3")
    store.db.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    store.close()
    with pytest.raises(StoreError, match="newer than this program"):
        Store.open(tmp_path / "s.sqlite3")


def test_a_file_that_is_not_a_database_gives_a_clear_error(tmp_path):
    bad = tmp_path / "s.sqlite3"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open the state database"):
        Store.open(bad)


def test_a_failed_transaction_leaves_nothing_behind(tmp_path):
    store = Store.open(tmp_path / "s.sqlite3")
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.save_cursor("a", FolderRole.INBOX, StoredCursor(1, 5, 6, 5, None), NOW)
            store.add_location("a", FolderRole.INBOX, "5", 1, "<m@x>")
            raise RuntimeError("crash between the two writes")
    assert store.cursor("a", FolderRole.INBOX) is None
    assert store.known_refs("a", FolderRole.INBOX) == set()


def test_cursors_round_trip_per_account_and_folder(tmp_path):
    store = Store.open(tmp_path / "s.sqlite3")
    with store.transaction():
        store.save_cursor("a", FolderRole.INBOX, StoredCursor(7, 10, 11, 10, 99), NOW)
        store.save_cursor("a", FolderRole.SENT, StoredCursor(8, 3, 4, 3, None), NOW)
    assert store.cursor("a", FolderRole.INBOX) == StoredCursor(7, 10, 11, 10, 99)
    assert store.cursor("a", FolderRole.SENT) == StoredCursor(8, 3, 4, 3, None)
    assert store.cursor("b", FolderRole.INBOX) is None


def test_a_message_is_identified_by_account_and_message_id(tmp_path):
    store = Store.open(tmp_path / "s.sqlite3")
    with store.transaction():
        store.insert_message(account="a", message_id="<m@x>", thread_key="<m@x>", learned_at=NOW.isoformat())
    assert store.known_message_ids("a", ["<m@x>"]) == {"<m@x>"}
    assert store.known_message_ids("b", ["<m@x>"]) == set()
    with pytest.raises(Exception):
        with store.transaction():
            store.insert_message(account="a", message_id="<m@x>", thread_key="t", learned_at=NOW.isoformat())


def test_the_references_migration_indexes_what_older_rows_named(tmp_path):
    import sqlite3

    path = tmp_path / "s.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    for number, script in enumerate(MIGRATIONS[:2], start=1):
        for statement in (s for s in script.split(";") if s.strip()):
            db.execute(statement)
        db.execute(f"PRAGMA user_version={number}")
    db.execute("INSERT INTO messages (account, message_id, thread_key, in_reply_to, refs, learned_at) "
               "VALUES ('a', '<r@x>', 't1', '<p@x>', '<g@x> <p@x>', '2026-01-01')")
    db.close()
    store = Store.open(path)
    assert store.threads_replying_to("a", "<p@x>") == ["t1"]
    assert store.threads_replying_to("a", "<g@x>") == ["t1"]
    assert store.threads_replying_to("a", "<other@x>") == []
