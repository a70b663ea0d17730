"""One contract for every mailbox backend: the same tests against a Maildir, a real Dovecot
(tests/dovecot.py) and the Gmail API backend talking to tests/gmail_fake.py, which is a FAKE
Gmail REST server (127.0.0.1, in the test process) following the published API shapes, not
Google itself.

Each backend comes with a ``put`` that places mail the way the world does (delivery into INBOX,
a message the user sent from another client into Sent), never through the backend under test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sync_support import NOW, context, mail

from followup.core.model import FolderRole
from followup.mailbox.base import Mailbox
from followup.store.db import Store
from followup.sync import sync_account

INBOX, SENT, DRAFTS = FolderRole.INBOX, FolderRole.SENT, FolderRole.DRAFTS
ME = "dana@example.net"
RECENT = NOW - timedelta(days=2)


@dataclass
class Backend:
    name: str
    mailbox: Mailbox
    put: Callable[[FolderRole, bytes, datetime], None]


def _maildir(tmp_path, request) -> Backend:
    from followup.mailbox.maildir import MaildirMailbox

    for sub in ("cur", "new", "tmp"):
        (tmp_path / "mail" / sub).mkdir(parents=True)
    box = MaildirMailbox("contract", tmp_path / "mail")
    world = MaildirMailbox("contract", tmp_path / "mail")  # another process delivering

    def put(role: FolderRole, raw: bytes, when: datetime) -> None:
        world.append(role, raw, flags=("\\Seen",) if role is SENT else (), when=when)

    return Backend("maildir", box, put)


def _dovecot(tmp_path, request) -> Backend:
    from followup.mailbox.imap import ImapMailbox, ImapSettings

    server = request.getfixturevalue("dovecot_server")
    user, password = server.new_user()
    box = ImapMailbox("contract", ImapSettings(host=server.host, port=server.port, security="plain",
                                               username=user, password=password, timeout=10))

    def put(role: FolderRole, raw: bytes, when: datetime) -> None:
        folder = {INBOX: "INBOX", SENT: "Sent", DRAFTS: "Drafts"}[role]
        server.append_messages(user, folder, [raw], flags=("\\Seen",) if role is SENT else (), when=when)

    return Backend("dovecot", box, put)


def _gmail(tmp_path, request) -> Backend:
    from gmail_fake import FakeGmail, mailbox_for

    fake = FakeGmail(email=ME, now=NOW).start()
    request.addfinalizer(fake.stop)

    def put(role: FolderRole, raw: bytes, when: datetime) -> None:
        fake.deliver(raw, labels={INBOX: ("INBOX", "UNREAD"), SENT: ("SENT",), DRAFTS: ("DRAFT",)}[role], when=when)

    return Backend("gmail", mailbox_for(fake, "contract"), put)


@pytest.fixture(params=["maildir", pytest.param("dovecot", marks=pytest.mark.dovecot), "gmail"])
def backend(request, tmp_path):
    made = {"maildir": _maildir, "dovecot": _dovecot, "gmail": _gmail}[request.param](tmp_path, request)
    made.mailbox.connect()
    yield made
    made.mailbox.close()


def a_draft(key: str) -> bytes:
    return (f"From: Dana <{ME}>\r\nTo: Ann <ann@acme.example>\r\nSubject: Re: Interview 1\r\n"
            f"Date: Tue, 10 Mar 2026 12:00:00 +0000\r\nMessage-ID: <followup.{key}@example.net>\r\n"
            f"X-Followup-Key: {key}\r\nIn-Reply-To: <m1@example>\r\nReferences: <m1@example>\r\n"
            "\r\nThank you for your time today.\r\n").encode()


def test_the_backend_speaks_the_mailbox_protocol(backend):
    assert isinstance(backend.mailbox, Mailbox)


def test_a_draft_appended_is_found_by_its_key(backend):
    box = backend.mailbox
    backend.put(INBOX, mail(1, "Interview 1", to=ME), RECENT)
    ref = box.append(DRAFTS, a_draft("key-1"), flags=("\\Draft", "\\Seen"), when=NOW)
    found = box.find_by_header(DRAFTS, "X-Followup-Key", "key-1")
    assert len(found) == 1 and (ref is None or found == [ref])
    assert box.find_by_header(DRAFTS, "X-Followup-Key", "key-2") == []
    assert found[0] in box.list_refs(DRAFTS)
    (record,) = box.fetch_headers(DRAFTS, found)
    assert b"X-Followup-Key: key-1" in record.raw_headers


def test_headers_and_bodies_are_read_without_marking_anything_read(backend):
    box = backend.mailbox
    backend.put(INBOX, mail(1, "Interview 1", to=ME), RECENT)
    (ref,) = box.list_refs(INBOX)
    (record,) = box.fetch_headers(INBOX, [ref])
    assert "\\Seen" not in record.flags
    assert b"Subject: Interview 1" in record.raw_headers and b"Hello." not in record.raw_headers
    raw = box.fetch_raw(INBOX, [ref])[ref]
    assert raw.startswith(b"From: Ann") and b"Hello." in raw
    box.close()
    box.connect()
    (again,) = box.fetch_headers(INBOX, [ref])
    assert "\\Seen" not in again.flags


def test_folder_state_changes_when_mail_arrives(backend):
    box = backend.mailbox
    before = box.folder_state(INBOX)
    assert box.folder_state(INBOX) == before  # asking changes nothing
    backend.put(INBOX, mail(1, "Interview 1", to=ME), RECENT)
    after = box.folder_state(INBOX)
    assert after != before and after.messages == before.messages + 1
    assert after.validity == before.validity


def test_list_refs_is_oldest_first_and_since_leaves_out_older_mail(backend):
    box = backend.mailbox
    backend.put(INBOX, mail(1, "Old", to=ME), datetime(2025, 6, 1, tzinfo=UTC))
    backend.put(INBOX, mail(2, "Newer", to=ME), RECENT - timedelta(days=1))
    backend.put(INBOX, mail(3, "Newest", to=ME), RECENT)
    refs = box.list_refs(INBOX)
    subjects = [r.raw_headers.split(b"Subject: ")[1].split(b"\r\n")[0] for r in box.fetch_headers(INBOX, refs)]
    assert subjects == [b"Old", b"Newer", b"Newest"]
    assert box.list_refs(INBOX, since=(RECENT - timedelta(days=3)).date()) == refs[1:]
    backend.put(SENT, mail(4, "My application", sender=ME, to="hr@acme.example"), RECENT)
    assert len(box.list_refs(SENT)) == 1


def test_a_message_is_found_by_its_message_id(backend):
    box = backend.mailbox
    backend.put(INBOX, mail(1, "Interview 1", to=ME), RECENT)
    backend.put(INBOX, mail(2, "Interview 2", to=ME), RECENT)
    (ref,) = box.find_by_header(INBOX, "Message-ID", "<m2@example>")
    (record,) = box.fetch_headers(INBOX, [ref])
    assert b"Subject: Interview 2" in record.raw_headers


def test_a_second_sync_fetches_no_body_and_a_third_only_the_new_one(backend, tmp_path):
    box = backend.mailbox
    store = Store.open(tmp_path / "contract.sqlite3")
    ctx = context(user_addresses=frozenset({ME}))
    backend.put(INBOX, mail(1, "Interview with Acme", to=ME), RECENT)
    backend.put(SENT, mail(2, "My application", sender=ME, to="hr@acme.example"), RECENT)
    first = sync_account(box, store, ctx, NOW)
    assert first.stored == 2 and first.bodies_fetched == 2
    second = sync_account(box, store, ctx, NOW)
    assert second.bodies_fetched == 0 and sum(f.headers_fetched for f in second.folders) == 0
    backend.put(INBOX, mail(3, "Re: Interview with Acme", to=ME, reply_to="<m1@example>"), NOW)
    third = sync_account(box, store, ctx, NOW)
    assert (third.stored, third.bodies_fetched) == (1, 1)
    assert store.message("contract", "<m3@example>").thread_key == store.message("contract", "<m1@example>").thread_key
    store.close()
