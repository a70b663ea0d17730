"""GmailMailbox against tests/gmail_fake.py: a FAKE Gmail REST server on 127.0.0.1 in the test
process that follows the published API shapes (the discovery document shipped in
google-api-python-client). It is not Google: what these tests show is that the backend asks for
the right things in the published shapes and maps the published error answers correctly."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from gmail_fake import FakeGmail, credentials_for, mailbox_for
from sync_support import mail

from followup.core.model import FolderRole
from followup.errors import AuthError, CursorExpired, FolderNotFound, ProtocolError, TransientError
from followup.mailbox.base import Mailbox
from followup.mailbox.gmail import GmailMailbox

INBOX, SENT, DRAFTS = FolderRole.INBOX, FolderRole.SENT, FolderRole.DRAFTS
ME = "dana@gmail.example"


@pytest.fixture
def fake():
    server = FakeGmail(email=ME).start()
    yield server
    server.stop()


@pytest.fixture
def box(fake):
    mailbox = mailbox_for(fake)
    mailbox.connect()
    yield mailbox
    mailbox.close()


def draft(key: str, *, reply_to: str | None = "<m1@example>", subject: str = "Re: Interview 1") -> bytes:
    lines = [f"From: Dana <{ME}>", "To: Ann <ann@acme.example>", f"Subject: {subject}",
             "Date: Tue, 10 Mar 2026 12:00:00 +0000", f"Message-ID: <followup.{key}@gmail.example>",
             f"X-Followup-Key: {key}"]
    if reply_to:
        lines += [f"In-Reply-To: {reply_to}", f"References: {reply_to}"]
    return ("\r\n".join(lines) + "\r\n\r\nThank you for your time today.\r\n").encode()


def test_the_constructor_does_no_io_and_connect_checks_the_token(fake):
    called = []
    mailbox = GmailMailbox("g", lambda: called.append(1))
    assert called == [] and fake.log == []
    real = mailbox_for(fake)
    assert isinstance(real, Mailbox)
    real.connect()
    real.connect()  # idempotent
    assert [e["path"] for e in fake.log] == ["/gmail/v1/users/me/profile"]
    assert real.email_address == ME and real.has_gmail_extensions


def test_an_expired_access_token_is_refreshed_on_the_fly(fake):
    mailbox = mailbox_for(fake, credentials=credentials_for(fake, token="stale"))
    mailbox.connect()
    assert mailbox.folder_state(INBOX).messages == 0
    assert any(e["path"] == "/token" for e in fake.log)


def test_a_revoked_refresh_token_is_one_line_saying_to_run_auth_again(fake):
    fake.refresh_tokens["refresh-1"] = False
    mailbox = mailbox_for(fake, "work", credentials=credentials_for(fake, token="stale"))
    with pytest.raises(AuthError) as caught:
        mailbox.connect()
    message = str(caught.value)
    assert "\n" not in message and "invalid_grant" in message
    assert "run `followup auth gmail --account work` again" in message and "7 days" in message


def test_a_missing_scope_is_an_auth_error(fake, box):
    fake.fail(403, reason="insufficientPermissions")
    with pytest.raises(AuthError, match="insufficientPermissions"):
        box.folder_state(INBOX)


def test_folder_state_is_the_history_id_and_the_label_count(fake, box):
    before = box.folder_state(INBOX)
    assert (before.next_ref, before.messages) == (None, 0) and before.modseq == fake.history_id
    fake.deliver(mail(1, "Interview 1"))
    after = box.folder_state(INBOX)
    assert after.messages == 1 and after.modseq > before.modseq and after.validity == before.validity
    assert box.folder_state(SENT).messages == 0


def test_list_refs_is_oldest_first_and_since_limits_it(fake, box):
    old = fake.deliver(mail(1, "Old"), when=datetime(2026, 1, 1, tzinfo=UTC))
    new = [fake.deliver(mail(n, f"New {n}"), when=datetime(2026, 3, n, tzinfo=UTC)) for n in (2, 3)]
    fake.deliver(mail(9, "Sent by me"), labels=("SENT",))
    assert box.list_refs(INBOX) == [old, *new]
    assert box.list_refs(INBOX, since=date(2026, 2, 1)) == new
    assert len(box.list_refs(SENT)) == 1


def test_headers_come_in_batches_of_at_most_50_without_marking_anything_read(fake, box):
    ids = [fake.deliver(mail(n, f"Message {n}"), when=datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=n))
           for n in range(1, 121)]
    records = box.fetch_headers(INBOX, ids)
    assert fake.batch_sizes == [50, 50, 20]
    assert [r.ref for r in records] == ids
    first = records[0]
    assert b"Subject: Message 1\r\n" in first.raw_headers and first.raw_headers.endswith(b"\r\n\r\n")
    assert first.gm_msgid == str(int(ids[0], 16)) and first.gm_thrid == str(int(fake.messages[ids[0]].thread_id, 16))
    assert first.received_at == datetime(2026, 3, 1, 0, 1, tzinfo=UTC) and "\\Seen" not in first.flags
    asked = fake.calls(r"/messages/[0-9a-f]+$")[0]["query"]
    assert asked["format"] == ["metadata"] and "X-Followup-Key" in asked["metadataHeaders"]
    raw = box.fetch_raw(INBOX, ids[:3])
    assert raw[ids[0]].startswith(b"From: Ann") and b"Hello." in raw[ids[0]]
    assert all("UNREAD" in fake.messages[i].labels for i in ids)


def test_a_message_deleted_meanwhile_is_left_out(fake, box):
    keep = fake.deliver(mail(1, "Keep"))
    gone = fake.deliver(mail(2, "Gone"))
    fake._delete_message(gone)
    assert [r.ref for r in box.fetch_headers(INBOX, [keep, gone])] == [keep]
    assert list(box.fetch_raw(INBOX, [gone, keep])) == [keep]


@pytest.mark.parametrize(("status", "reason"), [(429, None), (403, "rateLimitExceeded"),
                                                (403, "userRateLimitExceeded"), (500, None), (503, None)])
def test_rate_limits_and_server_errors_are_retried_with_backoff(fake, status, reason):
    sleeps: list[float] = []
    mailbox = mailbox_for(fake, sleeps=sleeps)
    mailbox.connect()
    fake.fail(status, reason=reason, path_contains="/labels/", times=3)
    assert mailbox.folder_state(INBOX).messages == 0
    assert len(sleeps) == 3 and sleeps[0] < sleeps[1] < sleeps[2]


def test_a_call_that_keeps_failing_is_transient_after_the_retries(fake):
    mailbox = mailbox_for(fake, max_retries=2)
    mailbox.connect()
    fake.fail(503, path_contains="/profile", times=10)
    with pytest.raises(TransientError, match="503"):
        mailbox.folder_state(INBOX)


def test_only_the_failed_calls_of_a_batch_are_asked_again(fake, box):
    ids = [fake.deliver(mail(n, f"M {n}")) for n in range(1, 6)]
    fake.fail(429, path_contains=f"/messages/{ids[2]}", times=1)
    records = box.fetch_headers(INBOX, ids)
    assert [r.ref for r in records] == ids
    assert fake.batch_sizes == [5, 1]


def test_an_unreachable_server_is_transient(fake, box):
    fake.stop()
    with pytest.raises(TransientError):
        box.folder_state(INBOX)


def test_history_lists_what_was_added_and_removed_and_404_is_cursor_expired(fake, box):
    token = box.folder_state(INBOX).modseq
    a = fake.deliver(mail(1, "A"))
    b = fake.deliver(mail(2, "B"))
    fake.mark_read(a)  # a label change that does not concern the INBOX label
    fake._change_labels(b, remove={"INBOX"})  # archived
    added, removed, new_token = box.changes_since(INBOX, token)
    assert (added, removed, new_token) == ([a], [b], fake.history_id)
    assert box.changes_since(INBOX, new_token) == ([], [], new_token)
    fake.expire_history()
    with pytest.raises(CursorExpired):
        box.changes_since(INBOX, new_token)


def test_a_draft_is_created_in_the_thread_it_answers(fake, box):
    first = fake.deliver(mail(1, "Interview 1"))
    ref = box.append(DRAFTS, draft("k1"), flags=("\\Draft",), when=datetime.now(UTC))
    created = fake.messages[ref]
    assert created.thread_id == fake.messages[first].thread_id and created.labels == {"DRAFT"}
    body = fake.calls("/drafts$")[-1]
    assert body["method"] == "POST"
    assert box.draft_id(ref) == fake.draft_of(ref)
    lonely = box.append(DRAFTS, draft("k2", reply_to=None, subject="Hello"), flags=(), when=datetime.now(UTC))
    assert fake.messages[lonely].thread_id == lonely


def test_a_failed_draft_create_is_not_repeated_blindly(fake, box):
    fake.deliver(mail(1, "Interview 1"))
    fake.fail(500, path_contains="/drafts", times=1)
    with pytest.raises(TransientError):
        box.append(DRAFTS, draft("k1"), flags=(), when=datetime.now(UTC))
    assert len([c for c in fake.calls("/drafts$") if c["method"] == "POST"]) == 1


def test_only_drafts_can_be_written(box):
    with pytest.raises(ProtocolError, match="only writes drafts"):
        box.append(INBOX, mail(1, "x"), flags=(), when=datetime.now(UTC))


def test_find_by_header_finds_drafts_by_key_and_a_sent_one_by_its_message_id(fake, box):
    fake.deliver(mail(1, "Interview 1"))
    ref = box.append(DRAFTS, draft("key-123"), flags=(), when=datetime.now(UTC))
    assert box.find_by_header(DRAFTS, "X-Followup-Key", "key-123") == [ref]
    assert box.find_by_header(DRAFTS, "X-Followup-Key", "other") == []
    fake.user_sends_draft(fake.draft_of(ref))
    assert box.find_by_header(DRAFTS, "X-Followup-Key", "key-123") == []
    assert box.find_by_header(SENT, "X-Followup-Key", "key-123") == [ref]
    assert any("rfc822msgid:followup.key-123@gmail.example" in c["query"].get("q", [""])[0]
               for c in fake.calls("/messages$"))


def test_an_edited_draft_has_a_new_ref_but_the_same_draft_id(fake, box):
    fake.deliver(mail(1, "Interview 1"))
    ref = box.append(DRAFTS, draft("k1"), flags=(), when=datetime.now(UTC))
    draft_id = box.draft_id(ref)
    token = box.folder_state(DRAFTS).modseq
    new_ref = fake.user_edits_draft(draft_id)
    assert box.list_refs(DRAFTS) == [new_ref]
    assert box.changes_since(DRAFTS, token)[:2] == ([new_ref], [ref])
    assert box.draft_id(new_ref) == draft_id


def test_an_unknown_label_is_folder_not_found(fake, box, monkeypatch):
    from followup.mailbox import gmail

    monkeypatch.setitem(gmail.LABELS, SENT, "NO_SUCH_LABEL")
    with pytest.raises(FolderNotFound):
        box.folder_state(SENT)


def test_nothing_is_logged_about_message_contents(fake, box, caplog):
    caplog.set_level(logging.DEBUG, logger="followup")
    ref = fake.deliver(mail(1, "Secret interview"))
    box.fetch_raw(INBOX, [ref])
    assert "Secret" not in caplog.text and "Hello" not in caplog.text


def test_stage_labels_are_created_once_and_replace_each_other(fake):
    box = mailbox_for(fake, labels=True)
    first = fake.deliver(mail(1, "Interview 1"))
    other = fake.deliver(mail(2, "Interview 2", sender="hr@globex.example"))
    thread = str(int(fake.messages[first].thread_id, 16))
    assert box.apply_stage_labels({thread: "scheduled", str(int(fake.messages[other].thread_id, 16)): "waiting"}) == 2
    names = {v: k for k, v in fake.user_labels.items()}
    assert fake.messages[first].labels >= {"INBOX", names["Jobs/Interview"]}
    assert names["Jobs/Waiting"] in fake.messages[other].labels
    assert box.apply_stage_labels({thread: "interviewed"}) == 0  # same label: nothing to do
    assert box.apply_stage_labels({thread: "rejected"}) == 1
    names = {v: k for k, v in fake.user_labels.items()}
    assert names["Jobs/Rejected"] in fake.messages[first].labels
    assert names["Jobs/Interview"] not in fake.messages[first].labels
    assert len(fake.calls("/labels$")) == 4  # one list, one create per label used; none again
    assert mailbox_for(fake).apply_stage_labels({thread: "applied"}) == 0  # labels: false does nothing
