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
            store.add_locations("a", FolderRole.INBOX, 1, [("5", "<m@x>")])
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


def database_at_version(path, version: int):
    """A database made by the first ``version`` migrations only (as an older release left it),
    open in autocommit mode."""
    import sqlite3

    from followup.store.db import _statements

    db = sqlite3.connect(path, isolation_level=None)
    for number, script in enumerate(MIGRATIONS[:version], start=1):
        for statement in _statements(script):
            db.execute(statement)
        db.execute(f"PRAGMA user_version={number}")
    return db


def test_the_references_migration_indexes_what_older_rows_named(tmp_path):
    path = tmp_path / "s.sqlite3"
    db = database_at_version(path, 2)
    db.execute("INSERT INTO messages (account, message_id, thread_key, in_reply_to, refs, learned_at) "
               "VALUES ('a', '<r@x>', 't1', '<p@x>', '<g@x> <p@x>', '2026-01-01')")
    db.close()
    store = Store.open(path)
    assert store.threads_replying_to("a", "<p@x>") == ["t1"]
    assert store.threads_replying_to("a", "<g@x>") == ["t1"]
    assert store.threads_replying_to("a", "<other@x>") == []


def _message(n: int, **columns: object) -> dict[str, object]:
    return {"account": "a", "message_id": f"<m{n}@x>", "thread_key": f"<m{n}@x>", "subject": f"s{n}",
            "in_reply_to": None, "refs": "", "evidence": None, "facts": None, "learned_at": NOW.isoformat(),
            **columns}


def _tables(store: Store) -> dict[str, list[tuple]]:
    return {t: [tuple(r) for r in store.db.execute(f"SELECT rowid, * FROM {t} ORDER BY rowid")]
            for t in ("messages", "message_refs")}


def test_insert_messages_writes_what_insert_message_would_one_by_one(tmp_path):
    messages = [
        _message(1),
        _message(2, in_reply_to="<m1@x>", refs="<m0@x> <m1@x>", evidence=["subject: interview"],
                 facts={"company": "Acme"}),
        _message(3, refs="<m2@x> <m2@x>", label="other"),  # other columns: a statement of its own
        _message(4, in_reply_to="<m3@x>"),
    ]
    one, many = Store.open(tmp_path / "one.sqlite3"), Store.open(tmp_path / "many.sqlite3")
    with one.transaction():
        for columns in messages:
            one.insert_message(**dict(columns))
    with many.transaction():
        many.insert_messages(messages)
    assert _tables(many) == _tables(one)
    assert [r[1:] for r in _tables(many)["message_refs"]] == [
        ("a", "<m0@x>", "<m2@x>"), ("a", "<m1@x>", "<m2@x>"), ("a", "<m2@x>", "<m3@x>"), ("a", "<m3@x>", "<m4@x>")]
    assert many.message("a", "<m2@x>").facts == {"company": "Acme"}


def test_which_ids_are_stored_or_named_is_asked_for_any_number_of_ids(tmp_path):
    store = Store.open(tmp_path / "s.sqlite3")
    with store.transaction():
        store.insert_messages([_message(n, refs=f"<r{n}@x>") for n in range(0, 1200, 2)])
    ids = [f"<m{n}@x>" for n in range(1200)] + [f"<r{n}@x>" for n in range(1200)]
    assert store.known_message_ids("a", ids) == {f"<m{n}@x>" for n in range(0, 1200, 2)}
    assert store.named_message_ids("a", ids) == {f"<r{n}@x>" for n in range(0, 1200, 2)}
    assert store.named_message_ids("b", ids) == set() and store.named_message_ids("a", []) == set()


def test_locations_added_together_replace_in_order(tmp_path):
    store = Store.open(tmp_path / "s.sqlite3")
    with store.transaction():
        store.add_locations("a", FolderRole.INBOX, 7, [("5", "<old@x>"), ("6", "<m@x>"), ("5", "<new@x>")])
    assert store.location_of("a", FolderRole.INBOX, "<new@x>") == "5"
    assert store.location_of("a", FolderRole.INBOX, "<old@x>") is None
    assert store.known_refs("a", FolderRole.INBOX) == {"5", "6"}


def test_subject_threading_looks_at_unstored_messages_after_the_stored_ones(tmp_path):
    store = Store.open(tmp_path / "s.sqlite3")
    day = "2026-03-01T09:00:00+00:00"
    with store.transaction():
        store.insert_message(**_message(1, thread_key="stored", subject_key="lunch", date=day,
                                        sender="ann@x", recipients="dana@x"))
    window = ("2026-02-01T00:00:00+00:00", "2026-04-01T00:00:00+00:00")
    held = [_message(2, thread_key="held-bob", subject_key="lunch", date=day, sender="bob@x", recipients="dana@x"),
            _message(3, thread_key="held-late", subject_key="lunch", date="2026-05-01T00:00:00+00:00",
                     sender="eve@x", recipients=""),
            _message(4, thread_key="held-eve", subject_key="lunch", date=day, sender="carl@x", recipients="x@x,eve@x")]
    assert store.thread_by_subject("a", "lunch", *window, ["ann@x"], unstored=held) == "stored"
    assert store.thread_by_subject("a", "lunch", *window, ["dana@x"], unstored=held) == "stored"
    assert store.thread_by_subject("a", "lunch", *window, ["bob@x"], unstored=held) == "held-bob"
    assert store.thread_by_subject("a", "lunch", *window, ["eve@x"], unstored=held) == "held-eve"  # not the late one
    assert store.thread_by_subject("a", "lunch", *window, ["zed@x"], unstored=held) is None
    assert store.thread_by_subject("a", "lunch", *window, [""], unstored=held) is None
    assert store.thread_by_subject("a", "", *window, ["bob@x"], unstored=held) is None


def test_applications_to_match_come_in_the_order_of_applications(tmp_path):
    store = Store.open(tmp_path / "s.sqlite3")
    with store.transaction():
        for app_id, day in (("b", 3), ("c", 1), ("a", 3)):
            store.create_application(app_id, "acct", f"Co {app_id}", None, "applied", NOW.replace(day=day))
        store.create_application("other", "elsewhere", "Co", None, "applied", NOW)
    assert [r[0] for r in store.applications_to_match("acct")] == [r["id"] for r in store.applications("acct")]
    assert store.applications_to_match("acct")[0] == ("c", "Co c", None, None)


def test_the_index_migration_keeps_rows_and_the_lookups_stay_indexed(tmp_path):
    path = tmp_path / "s.sqlite3"
    db = database_at_version(path, 6)
    db.execute("INSERT INTO messages (account, message_id, thread_key, in_reply_to, gm_thrid, followup_key, "
               "learned_at) VALUES ('a', '<r@x>', 't1', '<p@x>', '17', 'k1', '2026-01-01')")
    db.close()
    store = Store.open(path)
    assert store.thread_of_gmail("a", "17") == "t1"
    assert store.db.execute("SELECT message_id FROM messages WHERE account='a' AND followup_key='k1' "
                            "AND in_reply_to='<p@x>'").fetchone()[0] == "<r@x>"
    for column, index in (("gm_thrid", "messages_gm_thrid"), ("followup_key", "messages_followup_key"),
                          ("in_reply_to", "messages_in_reply_to")):
        plan = " ".join(r[3] for r in store.db.execute(
            f"EXPLAIN QUERY PLAN SELECT thread_key FROM messages WHERE account=? AND {column}=?", ("a", "x")))
        assert f"USING INDEX {index} " in plan
    plan = " ".join(r[3] for r in store.db.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM applications WHERE account=? ORDER BY created_at, id", ("a",)))
    assert "applications_account" in plan and "TEMP B-TREE" not in plan
