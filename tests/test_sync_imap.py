"""Incremental sync against a real Dovecot on 127.0.0.1 (started by tests/dovecot.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sync_support import NOW, USER, context, mail

from followup.core.model import FolderRole
from followup.errors import TransientError
from followup.mailbox.imap import ImapMailbox, ImapSettings
from followup.store.db import Store
from followup.sync import sync_account

pytestmark = pytest.mark.dovecot


def mailbox_for(server, user: str, password: str) -> ImapMailbox:
    return ImapMailbox("school", ImapSettings(host=server.host, port=server.port, security="plain",
                                              username=user, password=password, timeout=10))


def newsletter(n: int) -> bytes:
    raw = mail(n, f"Weekly newsletter #{n}", sender="news@list.example")
    return raw.replace(b"\r\n\r\n", b"\r\nList-Unsubscribe: <mailto:u@list.example>\r\n\r\n", 1)


@pytest.fixture
def store(tmp_path) -> Store:
    return Store.open(tmp_path / "state.sqlite3")


@pytest.fixture
def account(dovecot_server):
    user, password = dovecot_server.new_user()
    box = mailbox_for(dovecot_server, user, password)
    box.connect()
    yield dovecot_server, user, box
    box.close()


def test_a_first_sync_reads_the_window_and_fetches_bodies_only_of_candidates(account, store):
    server, user, box = account
    server.append_messages(user, "INBOX", [mail(1, "Interview with Acme"), newsletter(2), newsletter(3)],
                           when=NOW - timedelta(days=1))
    server.append_messages(user, "INBOX", [mail(4, "Interview at Hooli")], when=NOW - timedelta(days=200))
    report = sync_account(box, store, context(), NOW)
    inbox = report.folders[1]
    assert (inbox.new_refs, inbox.stored, inbox.bodies_fetched) == (3, 3, 1)
    assert [r["company"] for r in store.applications()] == ["Acme"]


def test_a_second_sync_with_nothing_new_costs_one_status_per_folder(account, store):
    server, user, box = account
    server.append_messages(user, "INBOX", [mail(1, "Interview with Acme")], when=NOW)
    sync_account(box, store, context(), NOW)
    box.close()
    box.connect()
    before = box.commands_issued
    again = sync_account(box, store, context(), NOW)
    assert all(f.unchanged for f in again.folders)
    assert box.commands_issued - before == 3


def test_only_new_messages_are_fetched_on_the_next_sync(account, store):
    server, user, box = account
    server.append_messages(user, "INBOX", [mail(1, "Interview with Acme"), newsletter(2)], when=NOW)
    sync_account(box, store, context(), NOW)
    server.append_messages(user, "INBOX", [mail(3, "Re: Interview with Acme", reply_to="<m1@example>")], when=NOW)
    report = sync_account(box, store, context(), NOW)
    inbox = report.folders[1]
    assert (inbox.new_refs, inbox.headers_fetched, inbox.bodies_fetched) == (1, 1, 1)
    assert store.message("school", "<m3@example>").thread_key == store.message("school", "<m1@example>").thread_key


def test_a_uidvalidity_change_rescans_without_duplicating(account, store):
    server, user, box = account
    server.append_messages(user, "Sent", [mail(1, "My application", sender=USER, to="hr@acme.example")], when=NOW)
    sync_account(box, store, context(), NOW)
    server.recreate_folder(user, "Sent")
    server.append_messages(user, "Sent", [mail(1, "My application", sender=USER, to="hr@acme.example"),
                                          mail(2, "Another application", sender=USER, to="hr@globex.example")],
                           when=NOW)
    report = sync_account(box, store, context(), NOW)
    sent = report.folders[0]
    assert sent.role is FolderRole.SENT and sent.rescanned
    assert (sent.stored, sent.already_known) == (1, 1)
    assert store.count_messages("school") == 2
    assert len(store.known_refs("school", FolderRole.SENT)) == 2


def test_the_server_dying_mid_sync_keeps_the_store_consistent_and_the_next_run_completes(dovecot_factory, store):
    server = dovecot_factory("killable")
    user, password = server.new_user()
    server.append_messages(user, "INBOX", [mail(n, f"Interview {n}", sender=f"hr{n}@c{n}.example")
                                           for n in range(1, 31)], when=NOW)
    box = mailbox_for(server, user, password)
    box.connect()
    batches = []

    def kill_after_two_batches(label, done, total):
        batches.append(done)
        if label.endswith("inbox") and done == 20:
            server.kill()

    with pytest.raises(TransientError):
        sync_account(box, store, context(batch_size=10, progress=kill_after_two_batches), NOW)
    # Two whole batches were committed with their cursor; nothing half-stored.
    assert store.count_messages("school") == 20
    cursor = store.cursor("school", FolderRole.INBOX)
    assert cursor.last_ref == 20 and cursor.next_ref is None
    server.restart()
    report = sync_account(box, store, context(batch_size=10), NOW)
    inbox = report.folders[1]
    assert (inbox.new_refs, inbox.stored) == (10, 10)
    assert store.count_messages("school") == 30
    assert sync_account(box, store, context(), NOW).folders[1].unchanged
    box.close()


def test_two_thousand_messages_sync_once_and_the_second_run_fetches_no_body(account, store):
    server, user, box = account
    messages = [newsletter(n) if n % 10 else mail(n, f"Interview {n}", sender=f"hr@c{n}.example")
                for n in range(1, 2001)]
    server.append_messages(user, "INBOX", messages, when=NOW - timedelta(days=3))
    first = sync_account(box, store, context(), NOW)
    assert first.folders[1].stored == 2000 and first.folders[1].bodies_fetched == 200
    second = sync_account(box, store, context(), NOW)
    assert second.bodies_fetched == 0 and second.stored == 0


def test_a_candidate_with_a_big_attachment_is_read_without_downloading_the_attachment(account, store):
    server, user, box = account
    text = mail(7, "Interview with Acme").split(b"\r\n\r\n", 1)
    attachment = b"A" * (3 * 1024 * 1024)
    raw = (text[0].replace(b"Subject:", b"Content-Type: multipart/mixed; boundary=zz\r\nSubject:")
           + b"\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\n" + text[1]
           + b"\r\n--zz\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment\r\n\r\n"
           + attachment + b"\r\n--zz--\r\n")
    server.append_messages(user, "INBOX", [raw], when=NOW)
    report = sync_account(box, store, context(), NOW)
    assert report.folders[1].bodies_fetched == 1
    stored = store.message("school", "<m7@example>")
    assert len(stored.raw) <= 256 * 1024 + 64 and stored.label == "interview_invitation"


def _personal(n: int, subject: str, body: bytes, *, attachment: int = 0) -> bytes:
    head = mail(n, subject, sender=f"friend{n}@gmail.example").split(b"\r\n\r\n", 1)[0]
    if not attachment:
        return head + b"\r\n\r\n" + body
    return (head + b"\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\n"
            + body + b"\r\n--zz\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + (b"QUFB" * 19 + b"\r\n") * (attachment // 78) + b"--zz--\r\n")


def test_the_real_prefilter_probes_personal_mail_and_parses_only_what_mentions_a_job(account, store):
    """body_need + mentions_job as `followup once` uses them: list mail stays headers, personal
    mail is probed (its first 64 KB), and only the probes that mention job vocabulary are parsed;
    a probe holding the whole message is not fetched twice."""
    from followup.core.prefilter import body_need

    server, user, box = account
    server.append_messages(user, "INBOX", [
        newsletter(1).replace(b"List-Unsubscribe:", b"List-Id: <news.list.example>\r\nList-Unsubscribe:"),
        _personal(2, "dinner on friday?", b"Bring the photos.\r\n"),
        _personal(3, "quick question", b"How did the interview with Acme go yesterday?\r\n"),
        _personal(4, "photos", b"Here they are.\r\n", attachment=300_000),
        _personal(5, "long news", b"Guess what: they sent me the offer letter for the analyst role!\r\n",
                  attachment=300_000),
    ], when=NOW - timedelta(days=1))
    ctx = context(could_matter=body_need)
    report = sync_account(box, store, ctx, NOW)
    inbox = report.folders[1]
    assert inbox.stored == 5 and inbox.probed == 4
    # 3 whole in its probe; 5 is larger than a probe, so its body is fetched once more (up to the cap)
    assert inbox.bodies_fetched == 2
    read = {m: store.message("school", f"<m{m}@example>").label is not None for m in range(1, 6)}
    assert read == {1: False, 2: False, 3: True, 4: False, 5: True}
    assert sync_account(box, store, ctx, NOW).bodies_fetched == 0
