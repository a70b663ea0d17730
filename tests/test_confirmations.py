"""Confirming an unsure label by tagging the message ``followup/<label>`` in the mail program
(followup.confirmations): on a real Dovecot over IMAP (keywords), a Maildir with Dovecot's
``dovecot-keywords`` (also one written by a real Dovecot), the FAKE Gmail REST server of
tests/gmail_fake.py (labels) and the FAKE Gmail IMAP client of tests/gmail_imap_fake.py
(X-GM-LABELS). The classifier, the engine and the policy are the real ones.

How a message becomes "unsure" with the real classifier: it reads Acme's "the position has been
filled" as a rejection with confidence 0.90 and the calendar invitation as a confirmed interview
with 0.95, so a threshold of 0.93 leaves exactly the rejection waiting for the user."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from gmail_fake import FakeGmail, mailbox_for as gmail_mailbox_for
from gmail_imap_fake import FakeGmailImap
from sync_support import USER, invite

from followup.config import Config, parse_config
from followup.confirmations import confirm_from_tags, label_from_tags
from followup.core.digest import NoteIn
from followup.core.model import FolderRole, Label
from followup.mailbox.imap import ImapMailbox, ImapSettings
from followup.mailbox.maildir import MaildirMailbox
from followup.runner import run_cycle
from followup.store.db import Store

# Thursday 5 March 2026, 14:00-14:45 in New York (19:00 UTC).
INTERVIEW = datetime(2026, 3, 5, 19, 0, tzinfo=UTC)
AFTER = INTERVIEW + timedelta(minutes=50)
REJECTED_AT = INTERVIEW + timedelta(days=2)
THRESHOLD = 0.93
REJECTION_ID = "<r1@acme.example>"


def rejection(user: str = USER) -> bytes:
    """Acme's answer in the interview's thread: a rejection the classifier gives 0.90."""
    return (f"From: Rita Recruiter <rita@acme.example>\r\nTo: Dana <{user}>\r\n"
            "Subject: Re: Invitation: Interview for Data Engineer at Acme\r\n"
            f"Date: {format_datetime(REJECTED_AT)}\r\nMessage-ID: {REJECTION_ID}\r\n"
            "In-Reply-To: <invite1@acme.example>\r\nReferences: <invite1@acme.example>\r\n\r\n"
            "Hi Dana,\r\n\r\nThank you for your time last week. The position has been filled.\r\n\r\n"
            "Rita\r\n").encode()


def make_config(tmp_path: Path, account: str, user: str = USER) -> Config:
    return parse_config(f"""
timezone: America/New_York
state_dir: {tmp_path / 'state'}
user: {{name: Dana Reyes, addresses: [{user}]}}
schedule: {{confidence_threshold: {THRESHOLD}}}
accounts: [{account}]
""")


def assert_waiting_unsure(store: Store, account: str, report) -> None:
    """After the cycle that read the rejection: stored as an unsure rejection, nothing done."""
    row = store.message(account, REJECTION_ID)
    assert (row.label, row.confirmed_label) == ("rejection", None) and row.confidence < THRESHOLD
    assert report.confirmed == {account: []}
    assert [p.kind for p in report.engines[0].placed] == []
    (app,) = store.applications(account)
    assert app["stage"] != "rejected"


def assert_confirmed_and_acted_on(store: Store, account: str, report) -> None:
    """The cycle after the tag: confirmed, and the engine of the same cycle acted on it."""
    assert report.confirmed == {account: [(REJECTION_ID, "rejection")]}
    assert store.message(account, REJECTION_ID).confirmed_label == "rejection"
    (app,) = store.applications(account)
    assert app["stage"] == "rejected"
    assert [p.kind for p in report.engines[0].placed] == ["rejection_reply"]


# -- the convention ----------------------------------------------------------------------------


def test_a_followup_tag_names_a_label_whatever_its_case_and_separators():
    assert label_from_tags({"followup/rejection"}) is Label.REJECTION
    assert label_from_tags({"$Forwarded", "FollowUp/Interview_Scheduled"}) is Label.INTERVIEW_SCHEDULED
    assert label_from_tags({"followup/interview-invitation"}) is Label.INTERVIEW_INVITATION
    assert label_from_tags({"followup/other"}) is Label.OTHER
    assert label_from_tags({"followup/rejection", "FOLLOWUP/REJECTION"}) is Label.REJECTION


def test_unknown_and_contradicting_tags_name_no_label_and_unknown_ones_log_one_debug_line(caplog):
    caplog.set_level(logging.DEBUG, logger="followup.confirmations")
    assert label_from_tags({"followup/maybe", "followup", "rejection", "$label1"}, where="home: inbox 7") is None
    (line,) = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert "followup/maybe" in line.getMessage() and "home: inbox 7" in line.getMessage()
    assert label_from_tags({"followup/rejection", "followup/positive"}) is None


# -- Maildir with Dovecot's keywords ----------------------------------------------------------


@pytest.fixture
def maildir_world(tmp_path):
    root = tmp_path / "mail"
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    config = make_config(tmp_path, f"{{name: home, type: maildir, path: {root}, address: {USER}}}")
    box = MaildirMailbox("home", root)
    store = Store.open(config.database_path)
    yield config, box, store, root
    store.close()


def tag_file(root: Path, message_id: str, letters: str) -> None:
    """What Dovecot does when a client sets keywords: the letters go into the file name's info."""
    (path,) = [p for p in (root / "cur").iterdir() if f"Message-ID: {message_id}".encode() in p.read_bytes()]
    key, _, info = path.name.partition(":2,")
    path.rename(path.with_name(f"{key}:2,{''.join(sorted(set(info + letters)))}"))


def test_a_maildir_message_tagged_followup_rejection_is_confirmed_and_the_engine_replies(maildir_world):
    config, box, store, root = maildir_world
    (root / "dovecot-keywords").write_text("0 $Forwarded\n1 followup/rejection\n")
    box.append(FolderRole.INBOX, invite(1, company="Acme", start=INTERVIEW), flags=(),
               when=INTERVIEW - timedelta(days=3))
    first = run_cycle(config, store, AFTER, mailboxes={"home": box})
    assert [p.kind for p in first.engines[0].placed] == ["thank_you"]
    box.append(FolderRole.INBOX, rejection(), flags=(), when=REJECTED_AT)
    waiting = run_cycle(config, store, REJECTED_AT + timedelta(minutes=5), mailboxes={"home": box})
    assert_waiting_unsure(store, "home", waiting)

    tag_file(root, REJECTION_ID, "Sb")  # read, and keyword 1: followup/rejection
    tagged = run_cycle(config, store, REJECTED_AT + timedelta(minutes=10), mailboxes={"home": box})
    assert_confirmed_and_acted_on(store, "home", tagged)
    again = run_cycle(config, store, REJECTED_AT + timedelta(minutes=15), mailboxes={"home": box})
    assert again.confirmed == {"home": []} and again.engines[0].placed == []


def test_an_unrelated_tag_leaves_the_message_waiting(maildir_world):
    config, box, store, root = maildir_world
    (root / "dovecot-keywords").write_text("0 $label1\n1 followup/maybe\n2 followup\n3 Junk\n")
    box.append(FolderRole.INBOX, invite(1, company="Acme", start=INTERVIEW), flags=(),
               when=INTERVIEW - timedelta(days=3))
    box.append(FolderRole.INBOX, rejection(), flags=(), when=REJECTED_AT)
    run_cycle(config, store, REJECTED_AT + timedelta(minutes=5), mailboxes={"home": box})
    tag_file(root, REJECTION_ID, "abcd")
    report = run_cycle(config, store, REJECTED_AT + timedelta(minutes=10), mailboxes={"home": box})
    assert report.confirmed == {"home": []}
    assert store.message("home", REJECTION_ID).confirmed_label is None
    assert [m for m, *_ in store.awaiting_confirmation("home", THRESHOLD)] == [REJECTION_ID]


def test_maildir_keywords_need_the_dovecot_keywords_file(maildir_world):
    _, box, _, root = maildir_world
    ref = box.append(FolderRole.INBOX, rejection(), flags=(), when=REJECTED_AT)
    tag_file(root, REJECTION_ID, "aS")
    assert box.tags_of(FolderRole.INBOX, [ref, "gone"]) == {ref: frozenset()}
    (root / "dovecot-keywords").write_text("0 FollowUp/Rejection\n")
    assert box.tags_of(FolderRole.INBOX, [ref, "gone"]) == {ref: frozenset({"followup/rejection"})}


def test_a_failure_to_read_tags_is_logged_and_the_cycle_goes_on(maildir_world, caplog):
    config, box, store, root = maildir_world
    (root / "dovecot-keywords").mkdir()  # unreadable as a file: a real OSError from the backend
    box.append(FolderRole.INBOX, invite(1, company="Acme", start=INTERVIEW), flags=(),
               when=INTERVIEW - timedelta(days=3))
    box.append(FolderRole.INBOX, rejection(), flags=(), when=REJECTED_AT)
    report = run_cycle(config, store, REJECTED_AT + timedelta(minutes=5), mailboxes={"home": box})
    assert not report.errors and report.confirmed == {"home": []}
    assert report.engines and store.applications("home")  # the engine ran
    assert any("tags not read" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


def test_a_maildir_without_tags_support_or_waiting_mail_is_not_read(maildir_world):
    config, box, store, root = maildir_world
    box.append(FolderRole.INBOX, invite(1, company="Acme", start=INTERVIEW), flags=(),
               when=INTERVIEW - timedelta(days=3))
    run_cycle(config, store, AFTER, mailboxes={"home": box})
    (root / "dovecot-keywords").mkdir()  # reading it would fail: it must not be read at all
    assert store.awaiting_confirmation("home", THRESHOLD) == []
    assert confirm_from_tags(box, store, "home", THRESHOLD) == []


# -- IMAP keywords on a real Dovecot -----------------------------------------------------------


def imap_config(tmp_path: Path, server, user: str) -> Config:
    return make_config(tmp_path, f"{{name: school, type: imap, host: {server.host}, port: {server.port}, "
                                 f"security: plain, username: {user}, password_env: UNUSED_IN_THIS_TEST}}")


@pytest.fixture
def imap_world(dovecot_server, tmp_path):
    user, password = dovecot_server.new_user()
    box = ImapMailbox("school", ImapSettings(host=dovecot_server.host, port=dovecot_server.port, security="plain",
                                             username=user, password=password, timeout=10))
    store = Store.open(tmp_path / "state.sqlite3")
    config = imap_config(tmp_path, dovecot_server, user)
    yield dovecot_server, user, config, box, store
    box.close()
    store.close()


def set_keyword(server, user: str, uid: int, keyword: bytes) -> None:
    client = server.client(user)
    try:
        client.select_folder("INBOX")
        client.add_flags([uid], [keyword])
    finally:
        client.logout()


def test_an_imap_message_tagged_followup_rejection_is_confirmed_and_the_engine_replies(imap_world):
    server, user, config, box, store = imap_world
    server.append_messages(user, "INBOX", [invite(1, company="Acme", start=INTERVIEW)],
                           when=INTERVIEW - timedelta(days=3))
    first = run_cycle(config, store, AFTER, mailboxes={"school": box})
    assert not first.errors and [p.kind for p in first.engines[0].placed] == ["thank_you"]
    (uid,) = server.append_messages(user, "INBOX", [rejection()], when=REJECTED_AT)
    waiting = run_cycle(config, store, REJECTED_AT + timedelta(minutes=5), mailboxes={"school": box})
    assert_waiting_unsure(store, "school", waiting)

    set_keyword(server, user, uid, b"followup/rejection")
    tagged = run_cycle(config, store, REJECTED_AT + timedelta(minutes=10), mailboxes={"school": box})
    assert not tagged.errors
    assert_confirmed_and_acted_on(store, "school", tagged)
    assert server.draft_keys(user).most_common(1)[0][1] == 1  # each draft once


def test_imap_tags_are_read_only_while_something_waits_and_only_after_its_folder_changed(imap_world):
    server, user, config, box, store = imap_world
    server.append_messages(user, "INBOX", [invite(1, company="Acme", start=INTERVIEW)],
                           when=INTERVIEW - timedelta(days=3))
    run_cycle(config, store, AFTER, mailboxes={"school": box})
    # Nothing waits for confirmation: not one command more than the sync and the engine need.
    before = box.commands_issued
    assert confirm_from_tags(box, store, "school", THRESHOLD) == []
    assert box.commands_issued == before

    (uid,) = server.append_messages(user, "INBOX", [rejection()], when=REJECTED_AT)
    run_cycle(config, store, REJECTED_AT + timedelta(minutes=5), mailboxes={"school": box})
    set_keyword(server, user, uid, b"$Important")  # unrelated: read, ignored
    idle = run_cycle(config, store, REJECTED_AT + timedelta(minutes=10), mailboxes={"school": box})
    assert idle.confirmed == {"school": []}
    # Its folder has not changed since: the waiting message costs the poll nothing.
    before = box.commands_issued
    assert confirm_from_tags(box, store, "school", THRESHOLD) == []
    assert box.commands_issued == before

    set_keyword(server, user, uid, b"FollowUp/Rejection")  # HIGHESTMODSEQ moves: the sync sees it
    report = run_cycle(config, store, REJECTED_AT + timedelta(minutes=15), mailboxes={"school": box})
    assert report.confirmed == {"school": [(REJECTION_ID, "rejection")]}


def test_imap_tags_of_reports_keywords_without_system_flags_and_leaves_vanished_uids_out(imap_world):
    server, user, _, box, _ = imap_world
    uids = server.append_messages(user, "INBOX", [rejection(), invite(1, company="Acme", start=INTERVIEW)],
                                  flags=[b"\\Seen"])
    set_keyword(server, user, uids[0], b"followup/rejection")
    box.connect()
    tags = box.tags_of(FolderRole.INBOX, [str(uids[0]), str(uids[1]), "999"])
    assert tags == {str(uids[0]): frozenset({"followup/rejection"}), str(uids[1]): frozenset()}


def test_keywords_a_real_dovecot_wrote_to_its_maildir_are_read_by_the_maildir_backend(imap_world):
    server, user, _, _, _ = imap_world
    (uid,) = server.append_messages(user, "INBOX", [rejection()])
    set_keyword(server, user, uid, b"$label1")
    set_keyword(server, user, uid, b"followup/rejection")
    box = MaildirMailbox("home", server.maildir(user))
    (ref,) = box.list_refs(FolderRole.INBOX)
    assert box.tags_of(FolderRole.INBOX, [ref]) == {ref: frozenset({"$label1", "followup/rejection"})}


# -- Gmail over IMAP: labels in X-GM-LABELS ----------------------------------------------------


def test_gmail_over_imap_reads_labels_from_x_gm_labels_and_drops_system_labels():
    server = FakeGmailImap()
    box = ImapMailbox("gmail-imap", ImapSettings(host="imap.gmail.com", port=993, security="tls",
                                                 username="dana@gmail.com", password="app-password"),
                      client_factory=server.client)
    box.connect()
    server.flags = {3: (b"\\Seen",), 4: ()}
    server.labels = {3: (b"\\Inbox", b"\\Important", b"followup/rejection"), 4: (b"Bewerbungen/M&APw-nchen",)}
    tags = box.tags_of(FolderRole.INBOX, ["3", "4", "5"])
    assert tags == {"3": frozenset({"followup/rejection"}), "4": frozenset({"bewerbungen/münchen"})}
    (uids, items), = server.fetches
    assert uids == [3, 4, 5] and items == ["FLAGS", "X-GM-LABELS"]


# -- the Gmail API: labels ----------------------------------------------------------------------


ME = "dana@gmail.example"


@pytest.fixture
def gmail_world(tmp_path):
    fake = FakeGmail(email=ME, now=AFTER).start()
    config = make_config(tmp_path, f"{{name: personal, type: gmail, address: {ME}}}", user=ME)
    box = gmail_mailbox_for(fake, "personal")
    store = Store.open(config.database_path)
    yield fake, config, box, store
    box.close()
    store.close()
    fake.stop()


def test_a_gmail_message_labelled_followup_rejection_is_confirmed_and_the_engine_replies(gmail_world):
    fake, config, box, store = gmail_world
    fake.deliver(invite(1, company="Acme", start=INTERVIEW, user=ME), when=INTERVIEW - timedelta(days=3))
    first = run_cycle(config, store, AFTER, mailboxes={"personal": box})
    assert not first.errors and [p.kind for p in first.engines[0].placed] == ["thank_you"]
    message = fake.deliver(rejection(ME), when=REJECTED_AT)
    waiting = run_cycle(config, store, REJECTED_AT + timedelta(minutes=5), mailboxes={"personal": box})
    assert_waiting_unsure(store, "personal", waiting)
    assert len(fake.calls("labels$")) == 1  # listed once for this connection

    fake.user_adds_label(message, "Jobs/Acme")  # unrelated: ignored
    fake.user_adds_label(message, "followup/rejection")  # a label created after the list above
    tagged = run_cycle(config, store, REJECTED_AT + timedelta(minutes=10), mailboxes={"personal": box})
    assert not tagged.errors
    assert_confirmed_and_acted_on(store, "personal", tagged)
    assert fake.calls(f"messages/{message}$", format="minimal")
    assert len(fake.drafts) == 2


def test_gmail_tags_of_leaves_system_labels_and_vanished_messages_out(gmail_world):
    fake, _, box, _ = gmail_world
    message = fake.deliver(rejection(ME), labels=("INBOX", "UNREAD", "IMPORTANT", "CATEGORY_PERSONAL"))
    fake.user_adds_label(message, "FollowUp/Positive")
    assert box.tags_of(FolderRole.INBOX, [message, "18c2a0000000dead"]) == {message: frozenset({"followup/positive"})}


# -- the digest says the tag way where the mailbox takes tags ----------------------------------


def test_the_digest_offers_the_tag_where_the_account_takes_tags(tmp_path):
    from digest_support import MORNING, enrich, pipeline

    from followup.core.digest import build_digest
    from followup.digest_job import gather, render_digest

    world = pipeline(tmp_path)
    enrich(world)
    try:
        _, text, html = render_digest(world.config, world.store, MORNING)
        assert "followup/interview_invitation" not in text  # a Maildir no Dovecot serves: no tags
        (world.root / "dovecot-uidlist").write_text("3 V1 N1\n")
        _, text, html = render_digest(world.config, world.store, MORNING)
        assert "$ followup confirm '<g1@globex.example>' interview_invitation\n" \
               "  or tag the message followup/interview_invitation in your mail\n" in text
        assert "followup/interview_invitation</span> in your mail" in html
        (note,) = [n for n in gather(world.config, world.store, MORNING).notes if n.kind == "please_confirm"]
        assert note.tags and build_digest(gather(world.config, world.store, MORNING)).confirm[0].tag == \
            "followup/interview_invitation"
    finally:
        world.store.close()


def test_a_note_without_tags_support_has_no_tag_in_its_confirm_line():
    from digest_support import MORNING

    from followup.core.digest import DigestInput, build_digest

    note = NoteIn("acme", "please_confirm", "t", "<m1@x>", MORNING, label="rejection", subject="s")
    data = DigestInput(now=MORNING, tz=UTC, notes=(note,))
    assert build_digest(data).confirm[0].tag is None
    assert build_digest(DigestInput(now=MORNING, tz=UTC, notes=(replace(note, tags=True),))
                        ).confirm[0].tag == "followup/rejection"
