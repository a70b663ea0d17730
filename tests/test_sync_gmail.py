"""Incremental sync of a Gmail API account, against tests/gmail_fake.py: a FAKE Gmail REST server
(127.0.0.1, in the test process) that follows the published API shapes; not Google itself.

First run: ``messages.list`` over the window, the historyId read before listing becomes the
cursor. Later runs: ``history.list`` from it, moved only with the batch that covers it; a 404
(history expired) rescans the window, counted, with an error after repeated rescans."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from gmail_fake import FakeGmail, mailbox_for
from sync_support import NOW, context, mail

from followup.core.model import FolderRole
from followup.errors import TransientError
from followup.store.db import Store
from followup.sync import RESYNC_ALERT, sync_account

ME = "dana@gmail.example"


def newsletter(n: int) -> bytes:
    raw = mail(n, f"Weekly newsletter #{n}", sender="news@list.example", to=ME)
    return raw.replace(b"\r\n\r\n", b"\r\nList-Unsubscribe: <mailto:u@list.example>\r\n\r\n", 1)


@pytest.fixture
def fake():
    server = FakeGmail(email=ME, now=NOW).start()
    yield server
    server.stop()


@pytest.fixture
def box(fake):
    mailbox = mailbox_for(fake, "gmail")
    mailbox.connect()
    yield mailbox
    mailbox.close()


@pytest.fixture
def store(tmp_path):
    return Store.open(tmp_path / "state.sqlite3")


def ctx(**overrides):
    return context(user_addresses=frozenset({ME}), **overrides)


def test_the_first_sync_lists_the_window_and_keeps_the_history_id_read_before(fake, box, store):
    fake.deliver(mail(1, "Interview with Acme", to=ME), when=NOW - timedelta(days=1))
    fake.deliver(newsletter(2), when=NOW - timedelta(days=1))
    fake.deliver(mail(3, "Interview at Hooli", to=ME), when=NOW - timedelta(days=200))
    before = fake.history_id
    report = sync_account(box, store, ctx(), NOW)
    inbox = report.folders[1]
    assert (inbox.new_refs, inbox.stored, inbox.bodies_fetched) == (2, 2, 1)
    assert [r["company"] for r in store.applications()] == ["Acme"]
    cursor = store.cursor("gmail", FolderRole.INBOX)
    assert cursor.modseq == before and cursor.messages == 3
    assert not fake.calls("/history")
    assert store.message("gmail", "<m1@example>").thread_key.startswith("gm:")


def test_a_sync_with_nothing_new_costs_two_cheap_calls_per_folder(fake, box, store):
    fake.deliver(mail(1, "Interview with Acme", to=ME), when=NOW)
    sync_account(box, store, ctx(), NOW)
    fake.log.clear()
    again = sync_account(box, store, ctx(), NOW)
    assert all(f.unchanged for f in again.folders)
    assert sorted(e["path"].rsplit("/", 1)[1] for e in fake.log) == ["DRAFT", "INBOX", "SENT"] + ["profile"] * 3


def test_new_mail_is_found_through_history_and_only_it_is_fetched(fake, box, store):
    fake.deliver(mail(1, "Interview with Acme", to=ME), when=NOW)
    sync_account(box, store, ctx(), NOW)
    fake.log.clear()
    reply = fake.deliver(mail(3, "Re: Interview with Acme", to=ME, reply_to="<m1@example>"), when=NOW)
    fake.deliver(newsletter(4), when=NOW)
    report = sync_account(box, store, ctx(), NOW)
    inbox = report.folders[1]
    assert (inbox.new_refs, inbox.headers_fetched, inbox.bodies_fetched) == (2, 2, 1)
    assert not fake.calls("/messages$")  # no listing: history said what is new
    assert fake.calls(r"/messages/" + reply, format="raw")
    assert store.cursor("gmail", FolderRole.INBOX).modseq == fake.history_id
    assert store.message("gmail", "<m3@example>").thread_key == store.message("gmail", "<m1@example>").thread_key
    # A change elsewhere in the mailbox moves the historyId: one history call, nothing fetched.
    fake.mark_read(reply)
    fake.log.clear()
    quiet = sync_account(box, store, ctx(), NOW)
    assert sum(f.headers_fetched for f in quiet.folders) == 0 and len(fake.calls("/history")) == 3


def test_a_failure_mid_sync_keeps_the_old_history_id_and_the_next_run_completes(fake, box, store):
    fake.deliver(mail(1, "Interview 1", sender="hr1@c1.example", to=ME), when=NOW)
    sync_account(box, store, ctx(), NOW)
    token = store.cursor("gmail", FolderRole.INBOX).modseq
    for n in range(2, 32):
        fake.deliver(mail(n, f"Interview {n}", sender=f"hr{n}@c{n}.example", to=ME), when=NOW)

    def fail_after_two_batches(label, done, total):
        if label.endswith("inbox") and done == 20:
            fake.fail(503, path_contains="/messages/", times=100)

    with pytest.raises(TransientError):
        sync_account(box, store, ctx(batch_size=10, progress=fail_after_two_batches), NOW)
    assert store.count_messages("gmail") == 21
    cursor = store.cursor("gmail", FolderRole.INBOX)
    assert cursor.modseq == token and cursor.messages == -1  # not moved past what is stored
    fake.faults.clear()
    report = sync_account(box, store, ctx(batch_size=10), NOW)
    inbox = report.folders[1]
    assert (inbox.new_refs, inbox.stored) == (10, 10)
    assert store.count_messages("gmail") == 31
    assert store.cursor("gmail", FolderRole.INBOX).modseq == fake.history_id
    assert sync_account(box, store, ctx(), NOW).folders[1].unchanged


def test_an_expired_history_rescans_the_window_without_duplicates_and_counts(fake, box, store, caplog):
    fake.deliver(mail(1, "Interview with Acme", to=ME), when=NOW)
    sync_account(box, store, ctx(), NOW)
    for n in range(RESYNC_ALERT):
        fake.expire_history()
        fake.deliver(mail(10 + n, f"Interview {n} at Initech", sender=f"hr@i{n}.example", to=ME), when=NOW)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="followup.sync"):
            report = sync_account(box, store, ctx(), NOW)
        inbox = report.folders[1]
        assert inbox.rescanned and inbox.resyncs == n + 1
        assert (inbox.stored, inbox.headers_fetched) == (1, 1)  # known messages are not fetched again
        levels = {r.levelname for r in caplog.records if "rescanning" in r.getMessage()}
        assert levels == ({"ERROR"} if n + 1 >= RESYNC_ALERT else {"WARNING"})
    assert store.count_messages("gmail") == 1 + RESYNC_ALERT
    # History works again: the count starts over.
    fake.deliver(mail(50, "Re: Interview with Acme", to=ME, reply_to="<m1@example>"), when=NOW)
    report = sync_account(box, store, ctx(), NOW)
    assert not report.folders[1].rescanned and report.folders[1].resyncs == 0
    assert store.cursor("gmail", FolderRole.INBOX).last_ref == 0


def test_drafts_that_were_sent_or_deleted_leave_the_drafts_folder(fake, box, store):
    original = fake.deliver(mail(1, "Interview with Acme", to=ME), when=NOW)
    sync_account(box, store, ctx(), NOW)
    raw = mail(2, "Re: Interview with Acme", sender=ME, to="ann@acme.example", reply_to="<m1@example>")
    raw = raw.replace(b"\r\n\r\n", b"\r\nX-Followup-Key: k1\r\n\r\n", 1)
    kept = mail(3, "Re: Interview with Acme", sender=ME, to="ann@acme.example", reply_to="<m1@example>")
    sent_ref = box.append(FolderRole.DRAFTS, raw, flags=(), when=NOW)
    gone_ref = box.append(FolderRole.DRAFTS, kept, flags=(), when=NOW)
    sync_account(box, store, ctx(), NOW)
    assert store.known_refs("gmail", FolderRole.DRAFTS) == {sent_ref, gone_ref}
    assert fake.messages[sent_ref].thread_id == fake.messages[original].thread_id
    fake.user_sends_draft(fake.draft_of(sent_ref))
    fake.user_deletes_draft(fake.draft_of(gone_ref))
    report = sync_account(box, store, ctx(), NOW)
    sent, _, drafts = report.folders
    assert drafts.vanished == 2 and store.known_refs("gmail", FolderRole.DRAFTS) == set()
    assert sent.new_refs == 1 and sent.already_known == 1
    assert store.message("gmail", "<m2@example>").sent_at is not None
