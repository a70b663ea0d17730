"""Incremental sync of a Maildir account into the store (a real directory, real SQLite).

The classifier is replaced by a small table-driven reader so these tests pin the sync, not
the classifier's wording rules.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from corpus import CORPUS, WHERE
from sync_support import NOW, USER, context, mail

from followup.core.model import Address, FolderRole
from followup.core.prefilter import BodyNeed
from followup.mailbox.maildir import MaildirMailbox
from followup.store.db import Store
from followup.sync import sync_account

CORPUS_MIME = CORPUS / "mime" if CORPUS else None


@pytest.fixture
def maildir(tmp_path) -> MaildirMailbox:
    for sub in ("cur", "new", "tmp"):
        (tmp_path / "mail" / sub).mkdir(parents=True)
    return MaildirMailbox("home", tmp_path / "mail")


@pytest.fixture
def store(tmp_path) -> Store:
    return Store.open(tmp_path / "state.sqlite3")


def deliver(box: MaildirMailbox, raw: bytes, role=FolderRole.INBOX) -> str:
    return box.append(role, raw, flags=(), when=NOW)


def test_a_first_sync_stores_every_message_and_opens_applications(maildir, store):
    deliver(maildir, mail(1, "Interview with Acme"))
    deliver(maildir, mail(2, "Weekly newsletter", sender="news@list.example"))
    deliver(maildir, mail(3, "We received your application", sender="jobs@globex.example"))
    report = sync_account(maildir, store, context(), NOW)
    inbox = report.folders[1]
    assert (inbox.role, inbox.stored, inbox.bodies_fetched) == (FolderRole.INBOX, 3, 2)
    assert report.applications_opened == 2
    stages = sorted((r["company"], r["stage"]) for r in store.applications())
    assert stages == [("Acme", "invited"), ("Globex", "applied")]
    newsletter = store.message("home", "<m2@example>")
    assert newsletter.raw.rstrip().endswith(b"Message-ID: <m2@example>")  # headers only: no body fetched
    assert newsletter.label is None


def test_a_second_sync_with_nothing_new_fetches_nothing(maildir, store):
    deliver(maildir, mail(1, "Interview with Acme"))
    sync_account(maildir, store, context(), NOW)
    again = sync_account(maildir, store, context(), NOW)
    assert all(f.unchanged for f in again.folders)
    assert again.bodies_fetched == 0 and again.stored == 0


def test_only_new_messages_are_fetched_on_the_next_sync(maildir, store):
    deliver(maildir, mail(1, "Interview with Acme"))
    sync_account(maildir, store, context(), NOW)
    deliver(maildir, mail(2, "Re: Interview with Acme", reply_to="<m1@example>"))
    report = sync_account(maildir, store, context(), NOW)
    assert report.stored == 1 and report.new_message_ids == ["<m2@example>"]
    first, second = store.message("home", "<m1@example>"), store.message("home", "<m2@example>")
    assert first.thread_key == second.thread_key


def test_sent_mail_is_outbound_and_joins_the_thread_it_answers(maildir, store):
    deliver(maildir, mail(1, "Interview with Acme"))
    deliver(maildir, mail(2, "Re: Interview with Acme", sender=USER, to="ann@acme.example",
                          reply_to="<m1@example>"), FolderRole.SENT)
    sync_account(maildir, store, context(), NOW)
    sent = store.message("home", "<m2@example>")
    assert sent.outbound and sent.thread_key == store.message("home", "<m1@example>").thread_key


def test_a_reply_that_arrives_before_its_parent_is_threaded_when_the_parent_comes(maildir, store):
    deliver(maildir, mail(2, "Re: Interview with Acme", reply_to="<m1@example>"))
    sync_account(maildir, store, context(), NOW)
    deliver(maildir, mail(1, "Interview with Acme"))
    sync_account(maildir, store, context(), NOW)
    assert store.message("home", "<m1@example>").thread_key == store.message("home", "<m2@example>").thread_key


def test_a_rejection_in_a_new_thread_joins_the_application_of_the_same_company(maildir, store):
    deliver(maildir, mail(1, "Interview with Acme"))
    deliver(maildir, mail(2, "Unfortunately", sender="no-reply@acme.example"))
    sync_account(maildir, store, context(), NOW)
    (application,) = store.applications()
    assert len(store.threads_of_application(application["id"])) == 2


def test_the_same_message_in_two_folders_is_stored_once(maildir, store):
    deliver(maildir, mail(1, "Interview with Acme"))
    deliver(maildir, mail(1, "Interview with Acme"), FolderRole.SENT)
    report = sync_account(maildir, store, context(), NOW)
    assert report.stored == 1 and store.count_messages() == 1
    assert store.location_of("home", FolderRole.SENT, "<m1@example>") is not None


def test_a_recreated_folder_is_rescanned_without_duplicating_anything(maildir, store, tmp_path):
    deliver(maildir, mail(1, "Interview with Acme"))
    sync_account(maildir, store, context(), NOW)
    shutil.rmtree(tmp_path / "mail")
    for sub in ("cur", "new", "tmp"):
        (tmp_path / "mail" / sub).mkdir(parents=True)
    deliver(maildir, mail(1, "Interview with Acme"))
    deliver(maildir, mail(2, "Interview with Initech", sender="hr@initech.example"))
    report = sync_account(maildir, store, context(), NOW)
    inbox = report.folders[1]
    # Maildir lists the whole folder each time, so a recreated folder needs no special case.
    assert inbox.stored == 1 and inbox.already_known == 1
    assert store.count_messages() == 2


def test_a_deleted_draft_is_noticed(maildir, store, tmp_path):
    ref = deliver(maildir, mail(9, "Draft", sender=USER), FolderRole.DRAFTS)
    sync_account(maildir, store, context(), NOW)
    assert store.known_refs("home", FolderRole.DRAFTS) == {ref}
    for path in (tmp_path / "mail" / ".Drafts" / "cur").iterdir():
        path.unlink()
    report = sync_account(maildir, store, context(), NOW)
    assert report.folders[2].vanished == 1 and store.known_refs("home", FolderRole.DRAFTS) == set()


def test_messages_older_than_the_window_are_not_read_on_the_first_run(maildir, store, tmp_path):
    deliver(maildir, mail(1, "Interview with Acme"))
    old = maildir.append(FolderRole.INBOX, mail(2, "Interview at Hooli"), flags=(),
                         when=datetime(2025, 1, 1, tzinfo=UTC))
    report = sync_account(maildir, store, context(window_days=30), NOW)
    assert report.stored == 1 and old not in store.known_refs("home", FolderRole.INBOX)


def test_a_classifier_crash_keeps_the_message_and_the_batch(maildir, store):
    def broken(message):
        raise ValueError("bug")

    deliver(maildir, mail(1, "Interview with Acme"))
    deliver(maildir, mail(2, "Interview with Initech"))
    report = sync_account(maildir, store, context(reader=broken), NOW)
    assert report.stored == 2 and store.message("home", "<m1@example>").label is None


@pytest.mark.skipif(CORPUS_MIME is None, reason=f"no MIME corpus at {WHERE}")
def test_every_corpus_mime_file_is_ingested_in_one_batch_without_stopping(maildir, store):
    files = sorted(p for p in CORPUS_MIME.rglob("*") if p.is_file() and p.suffix != ".csv")
    for path in files:
        deliver(maildir, path.read_bytes())
    report = sync_account(maildir, store, context(could_matter=lambda m: BodyNeed.FULL), NOW)
    inbox = report.folders[1]
    assert inbox.new_refs == len(files)
    assert inbox.stored + inbox.already_known == len(files)  # a few corpus files share a Message-ID
    assert sync_account(maildir, store, context(), NOW).stored == 0


def test_addresses_of_the_user_mark_inbox_mail_as_outbound(maildir, store):
    deliver(maildir, mail(1, "Interview notes to self", sender=USER))
    sync_account(maildir, store, context(), NOW)
    assert store.message("home", "<m1@example>").outbound
    assert Address("", USER).email == USER
