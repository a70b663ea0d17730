"""ImapMailbox against a real Dovecot (tests/dovecot.py), plus a few seams a real server can't show.

Each Dovecot test takes a fresh user on the shared session server, so tests never see each
other's mail. Tests that kill a server use their own instance ("killable"), never the shared one.
"""

from __future__ import annotations

import socket
import ssl
import sys
import time
from datetime import date, datetime, timedelta, timezone
from email.utils import make_msgid

import pytest

from followup.core.model import FolderRole
from followup.errors import AuthError, ConfigError, FolderNotFound, TransientError
from followup.mailbox import imap as imap_module
from followup.mailbox.base import Mailbox
from followup.mailbox.imap import ImapMailbox, ImapSettings, default_client_factory, is_loopback

if "dovecot" not in getattr(sys.modules.get("conftest"), "pytest_plugins", ()):
    # Until tests/conftest.py lists the plugin in pytest_plugins, take its fixtures directly.
    from dovecot import dovecot_factory, dovecot_server  # noqa: F401

dovecot = pytest.mark.dovecot

INBOX, SENT, DRAFTS = FolderRole.INBOX, FolderRole.SENT, FolderRole.DRAFTS


def make_message(n: int, *, key: str | None = None, extra: str = "") -> bytes:
    lines = [
        "Received: from mx.example.org by mail.example.com; Mon, 3 Mar 2025 09:00:00 +0000",
        "From: Recruiter <jobs@example.org>",
        "To: Seeker <me@example.com>",
        f"Subject: Application {n}",
        "Date: Mon, 3 Mar 2025 09:00:00 +0000",
        f"Message-ID: {make_msgid(str(n), 'example.org')}",
        "Content-Type: text/plain; charset=utf-8",
    ]
    if key:
        lines.append(f"X-Followup-Key: {key}")
    if extra:
        lines.append(extra)
    return ("\r\n".join(lines) + f"\r\n\r\nBody of message {n}.\r\n").encode()


def open_mailbox(server, user: str, password: str, *, client_factory=None, **overrides) -> ImapMailbox:
    settings = ImapSettings(
        host=server.host,
        port=server.port,
        security="plain",
        username=user,
        password=password,
        timeout=5,
        **overrides,
    )
    return ImapMailbox(f"test-{user}", settings, client_factory=client_factory)


@pytest.fixture
def account(dovecot_server):
    """(server, user, password, ImapMailbox) for a fresh user; the mailbox is closed afterwards."""
    user, password = dovecot_server.new_user()
    mailbox = open_mailbox(dovecot_server, user, password)
    yield dovecot_server, user, password, mailbox
    mailbox.close()


def flags_seen_by_other_client(server, user: str, folder: str, uids: list[int]) -> dict[int, tuple]:
    client = server.client(user)
    try:
        client.select_folder(folder, readonly=True)
        return {uid: data[b"FLAGS"] for uid, data in client.fetch(uids, ["FLAGS"]).items()}
    finally:
        client.logout()


# -- connecting ----------------------------------------------------------------------------


@dovecot
def test_connect_logs_in_and_enables_condstore(account):
    server, _, _, mailbox = account
    assert isinstance(mailbox, Mailbox)
    assert not mailbox.connected  # the constructor does no IO
    mailbox.connect()
    mailbox.connect()  # idempotent
    assert mailbox.connected
    assert {"CONDSTORE", "UIDPLUS", "SPECIAL-USE"} <= mailbox.capabilities
    assert mailbox.has_gmail_extensions is False
    assert mailbox.commands_issued == 3  # CAPABILITY, LOGIN, ENABLE CONDSTORE


@dovecot
def test_wrong_password_raises_auth_error(dovecot_server):
    user, _ = dovecot_server.new_user()
    mailbox = open_mailbox(dovecot_server, user, "not-the-password")
    with pytest.raises(AuthError, match="AUTHENTICATIONFAILED") as info:
        mailbox.connect()
    assert info.value.__cause__ is not None  # mapped with raise … from
    assert not mailbox.connected
    mailbox.close()  # never raises, even unconnected


def test_plain_to_a_remote_host_is_refused_before_any_connection():
    opened = []
    settings = ImapSettings(host="imap.example.com", port=143, security="plain",
                            username="u", password="p")
    mailbox = ImapMailbox("remote", settings, client_factory=lambda s: opened.append(s))
    with pytest.raises(ConfigError, match="clear text"):
        mailbox.connect()
    assert opened == []


def test_missing_credentials_are_a_config_error():
    settings = ImapSettings(host="127.0.0.1", security="plain", username="u")
    with pytest.raises(ConfigError, match="no IMAP password"):
        ImapMailbox("nocreds", settings, client_factory=lambda s: pytest.fail("connected")).connect()


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True),
        ("localhost", True), ("LOCALHOST.", True), ("::ffff:127.0.0.1", True),
        ("10.0.0.1", False), ("imap.example.com", False), ("localhost.example.com", False),
        ("0.0.0.0", False),
    ],
)
def test_is_loopback(host, expected):
    assert is_loopback(host) is expected


def test_connecting_to_a_closed_port_is_transient():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends
    mailbox = ImapMailbox("closed", ImapSettings(host="127.0.0.1", port=port, security="plain",
                                                 username="u", password="p", timeout=2))
    with pytest.raises(TransientError) as info:
        mailbox.connect()
    assert isinstance(info.value.__cause__, OSError)


def test_a_server_that_never_answers_times_out_as_transient():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # accepts into the backlog, never greets
        port = listener.getsockname()[1]
        mailbox = ImapMailbox("silent", ImapSettings(host="127.0.0.1", port=port, security="plain",
                                                     username="u", password="p", timeout=0.3))
        started = time.monotonic()
        with pytest.raises(TransientError, match="no answer within 0.3 s"):
            mailbox.connect()
        assert time.monotonic() - started < 3


# -- folders -------------------------------------------------------------------------------


@dovecot
def test_special_use_finds_drafts_and_sent(account):
    _, _, _, mailbox = account
    assert mailbox.folder_name(INBOX) == "INBOX"
    assert mailbox.folder_name(DRAFTS) == "Drafts"
    assert mailbox.folder_name(SENT) == "Sent"


@pytest.fixture(scope="module")
def french_server(dovecot_factory):
    """A server whose only special folder is a French "Brouillons" flagged \\Drafts; no \\Sent."""
    return dovecot_factory("french", mailboxes={"Brouillons": "\\Drafts"})


@dovecot
def test_renamed_drafts_is_found_by_its_special_use_flag(french_server):
    user, password = french_server.new_user()
    with open_mailbox(french_server, user, password) as mailbox:
        assert mailbox.folder_name(DRAFTS) == "Brouillons"
        uid = mailbox.append(DRAFTS, make_message(1), flags=["\\Draft"], when=datetime.now(timezone.utc))
        assert mailbox.list_refs(DRAFTS) == [uid]


@dovecot
@pytest.mark.parametrize("name", ["Sent Items", "INBOX/Sent", "Éléments envoyés", "[Gmail]/Sent Mail"])
def test_sent_without_special_use_is_found_by_name(french_server, name):
    user, password = french_server.new_user()
    client = french_server.client(user)
    client.create_folder(name)
    client.create_folder("Archive")
    client.logout()
    with open_mailbox(french_server, user, password) as mailbox:
        assert mailbox.folder_name(SENT) == name
        assert mailbox.folder_state(SENT).messages == 0


@dovecot
def test_a_missing_role_raises_folder_not_found_naming_what_was_tried(french_server):
    user, password = french_server.new_user()
    with open_mailbox(french_server, user, password) as mailbox:
        with pytest.raises(FolderNotFound) as info:
            mailbox.folder_state(SENT)
    message = str(info.value)
    assert "\\Sent" in message and "Sent Items" in message and "folders.sent" in message


@dovecot
def test_configured_folder_names_win_over_discovery(account):
    server, user, password, _ = account
    client = server.client(user)
    client.create_folder("Job/Outgoing drafts")
    client.logout()
    with open_mailbox(server, user, password, folders={"drafts": "Job/Outgoing drafts"}) as mailbox:
        assert mailbox.folder_name(DRAFTS) == "Job/Outgoing drafts"
        assert mailbox.folder_name(SENT) == "Sent"
    with open_mailbox(server, user, password, folders={"sent": "Nope"}) as mailbox:
        with pytest.raises(FolderNotFound, match="Nope"):
            mailbox.folder_state(SENT)


# -- reading ---------------------------------------------------------------------------------


@dovecot
def test_folder_state_reports_validity_next_uid_count_and_modseq(account):
    server, user, _, mailbox = account
    before = mailbox.folder_state(INBOX)
    assert before.messages == 0 and before.next_ref == 1 and before.validity > 0
    assert before.modseq is not None
    server.append_messages(user, "INBOX", [make_message(i) for i in range(3)])
    after = mailbox.folder_state(INBOX)
    assert (after.validity, after.next_ref, after.messages) == (before.validity, 4, 3)
    assert after.modseq > before.modseq


@dovecot
def test_an_unchanged_poll_costs_one_status_per_folder(account):
    server, user, _, mailbox = account
    server.append_messages(user, "INBOX", [make_message(i) for i in range(5)])
    first = {role: mailbox.folder_state(role) for role in FolderRole}  # connects, LISTs once
    mailbox.list_refs(INBOX)  # leaves INBOX open; the next STATUS of it closes it first
    assert {role: mailbox.folder_state(role) for role in FolderRole} == first
    start = mailbox.commands_issued
    again = {role: mailbox.folder_state(role) for role in FolderRole}
    assert mailbox.commands_issued - start == len(FolderRole)
    assert again == first


@dovecot
def test_folder_state_sees_new_mail_in_the_open_folder(account):
    server, user, _, mailbox = account
    assert mailbox.list_refs(INBOX) == []  # INBOX open on the mailbox's connection
    server.append_messages(user, "INBOX", [make_message(1)])
    assert mailbox.folder_state(INBOX).messages == 1
    assert mailbox.list_refs(INBOX) == ["1"]


@dovecot
def test_list_refs_after_and_since(account):
    server, user, _, mailbox = account
    old = datetime(2020, 1, 10, 12, 0, tzinfo=timezone.utc)
    new = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
    old_uids = server.append_messages(user, "INBOX", [make_message(i) for i in range(3)], when=old)
    new_uids = server.append_messages(user, "INBOX", [make_message(i) for i in range(3, 6)], when=new)
    everything = [str(u) for u in old_uids + new_uids]
    assert mailbox.list_refs(INBOX) == everything
    assert mailbox.list_refs(INBOX, after=0) == everything
    assert mailbox.list_refs(INBOX, after=old_uids[-1]) == [str(u) for u in new_uids]
    # "UID n:*" matches the highest UID even when n is past it: must come back empty.
    assert mailbox.list_refs(INBOX, after=new_uids[-1]) == []
    assert mailbox.list_refs(INBOX, after=new_uids[-1] + 100) == []
    assert mailbox.list_refs(INBOX, since=date(2024, 1, 1)) == [str(u) for u in new_uids]
    assert mailbox.list_refs(INBOX, after=new_uids[0], since=date(2024, 1, 1)) == [str(u) for u in new_uids[1:]]
    assert mailbox.list_refs(INBOX, since=date(2026, 1, 1) + timedelta(days=3650)) == []


@dovecot
def test_list_refs_sees_mail_that_arrived_while_the_folder_was_open(account):
    server, user, _, mailbox = account
    assert mailbox.list_refs(INBOX) == []  # INBOX is now open on the mailbox's connection
    uids = server.append_messages(user, "INBOX", [make_message(1)])  # another session delivers
    assert mailbox.list_refs(INBOX, after=0) == [str(uids[0])]


@dovecot
def test_fetch_headers_returns_sync_fields_size_and_date_without_marking_read(account):
    server, user, _, mailbox = account
    when = datetime(2025, 3, 3, 9, 0, 5, tzinfo=timezone(timedelta(hours=2)))
    raws = [make_message(i, key=f"k{i}") for i in range(3)]
    uids = server.append_messages(user, "INBOX", raws, when=when)
    server.append_messages(user, "INBOX", [make_message(9)], flags=["\\Seen", "\\Flagged"])

    records = mailbox.fetch_headers(INBOX, [str(u) for u in uids] + ["4", "999"])

    assert [r.ref for r in records] == [str(u) for u in uids] + ["4"]  # 999 does not exist
    first = records[0]
    assert first.raw_headers.startswith(b"From: Recruiter <jobs@example.org>\r\n")
    assert b"X-Followup-Key: k0\r\n" in first.raw_headers
    assert b"Received:" not in first.raw_headers  # only SYNC_HEADER_FIELDS
    assert first.size == len(raws[0])
    assert first.received_at == when and first.received_at.tzinfo is not None
    assert first.flags == frozenset()
    assert records[-1].flags == {"\\Seen", "\\Flagged"}
    assert first.gm_msgid is None and first.gm_thrid is None
    flags = flags_seen_by_other_client(server, user, "INBOX", uids)
    assert all(b"\\Seen" not in f for f in flags.values())


@dovecot
def test_fetch_headers_of_1000_messages_in_two_commands(account):
    server, user, _, mailbox = account
    uids = server.append_messages(user, "INBOX", [make_message(i) for i in range(1000)])
    refs = mailbox.list_refs(INBOX)
    start = mailbox.commands_issued
    records = mailbox.fetch_headers(INBOX, refs)
    assert len(records) == 1000 and records[-1].ref == str(uids[-1])
    assert mailbox.commands_issued - start == 1000 // imap_module.HEADER_CHUNK  # FETCHes, nothing else


@dovecot
def test_fetch_raw_returns_whole_messages_without_marking_read(account, monkeypatch):
    monkeypatch.setattr(imap_module, "RAW_CHUNK", 2)
    server, user, _, mailbox = account
    raws = [make_message(i, extra="X-Note: " + "é" * i) for i in range(5)]
    uids = server.append_messages(user, "INBOX", raws)
    got = mailbox.fetch_raw(INBOX, [str(u) for u in uids] + ["77"])
    assert got == {str(u): raw for u, raw in zip(uids, raws)}
    assert all(not r.flags for r in mailbox.fetch_headers(INBOX, list(got)))
    flags = flags_seen_by_other_client(server, user, "INBOX", uids)
    assert all(b"\\Seen" not in f for f in flags.values())


# -- writing ---------------------------------------------------------------------------------


@dovecot
def test_append_draft_returns_its_uid_and_find_by_header_finds_it(account):
    server, user, _, mailbox = account
    assert mailbox.list_refs(DRAFTS) == []  # Drafts open before the append, as in a real cycle
    when = datetime(2025, 4, 1, 8, 30, tzinfo=timezone.utc)
    raw = make_message(1, key="app-7:followup_1:1")
    uid = mailbox.append(DRAFTS, raw, flags=["\\Draft"], when=when)
    assert uid == "1"
    assert mailbox.find_by_header(DRAFTS, "X-Followup-Key", "app-7:followup_1:1") == [uid]
    assert mailbox.find_by_header(DRAFTS, "X-Followup-Key", "app-7:followup_2:1") == []
    assert mailbox.list_refs(DRAFTS) == [uid]
    (record,) = mailbox.fetch_headers(DRAFTS, [uid])
    assert record.flags == {"\\Draft"} and record.received_at == when
    assert mailbox.fetch_raw(DRAFTS, [uid]) == {uid: raw}
    assert set(flags_seen_by_other_client(server, user, "Drafts", [1])[1]) - {b"\\Recent"} == {b"\\Draft"}
    second = mailbox.append(DRAFTS, make_message(2), flags=["\\Draft", "\\Seen"], when=when)
    assert second == "2"


# -- resets and failures -----------------------------------------------------------------------


@dovecot
def test_recreated_folder_shows_a_new_uidvalidity_and_its_new_uids(account):
    server, user, _, mailbox = account
    server.append_messages(user, "Drafts", [make_message(i) for i in range(3)])
    before = mailbox.folder_state(DRAFTS)
    assert mailbox.list_refs(DRAFTS) == ["1", "2", "3"]  # open while it is recreated
    server.recreate_folder(user, "Drafts")
    server.append_messages(user, "Drafts", [make_message(10)])
    after = mailbox.folder_state(DRAFTS)
    assert after.validity != before.validity
    assert (after.messages, after.next_ref) == (1, 2)
    assert mailbox.list_refs(DRAFTS) == ["1"]
    (record,) = mailbox.fetch_headers(DRAFTS, ["1"])
    assert b"Subject: Application 10\r\n" in record.raw_headers


@dovecot
def test_recreated_folder_is_noticed_without_a_status_call(account):
    server, user, _, mailbox = account
    server.append_messages(user, "Drafts", [make_message(i) for i in range(3)])
    assert mailbox.list_refs(DRAFTS) == ["1", "2", "3"]
    server.recreate_folder(user, "Drafts")
    server.append_messages(user, "Drafts", [make_message(10)])
    assert mailbox.list_refs(DRAFTS) == ["1"]


@pytest.fixture
def killable(dovecot_factory):
    """A server of its own that a test may kill; restarted for the next test if left dead."""
    server = dovecot_factory("killable")
    yield server
    if not server.running:
        server.restart()


@dovecot
def test_server_killed_between_calls_is_transient_and_the_next_call_reconnects(killable):
    user, password = killable.new_user()
    killable.append_messages(user, "INBOX", [make_message(i) for i in range(3)])
    mailbox = open_mailbox(killable, user, password)
    assert mailbox.list_refs(INBOX) == ["1", "2", "3"]

    killable.kill()
    with pytest.raises(TransientError) as info:
        mailbox.folder_state(INBOX)
    assert info.value.__cause__ is not None
    assert not mailbox.connected
    with pytest.raises(TransientError, match="connect"):
        mailbox.list_refs(INBOX)  # server still down: connection refused
    mailbox.close()  # never raises

    killable.restart()
    assert mailbox.list_refs(INBOX) == ["1", "2", "3"]
    assert mailbox.folder_state(INBOX).messages == 3
    mailbox.close()


@dovecot
def test_server_killed_in_the_middle_of_a_fetch_is_transient(killable, monkeypatch):
    monkeypatch.setattr(imap_module, "HEADER_CHUNK", 2)
    user, password = killable.new_user()
    killable.append_messages(user, "INBOX", [make_message(i) for i in range(5)])
    fetches = []
    killed = []

    def client_that_sees_the_server_die(settings):
        client = default_client_factory(settings)
        imap = client._imap  # fetches go through imaplib's UID command (the lean FETCH reader)
        real_uid = imap.uid

        def uid(command, *args):
            if command.upper() == "FETCH":
                if fetches and not killed:  # the second chunk: the server dies with the command under way
                    killed.append(True)
                    killable.kill()
                fetches.append(args)
            return real_uid(command, *args)

        imap.uid = uid
        return client

    mailbox = open_mailbox(killable, user, password, client_factory=client_that_sees_the_server_die)
    with pytest.raises(TransientError, match="UID FETCH headers") as info:
        mailbox.fetch_headers(INBOX, ["1", "2", "3", "4", "5"])
    assert len(fetches) == 2
    assert isinstance(info.value.__cause__, (OSError, EOFError)) or "abort" in type(info.value.__cause__).__name__
    mailbox.close()
    killable.restart()
    fetches.clear()
    assert [r.ref for r in mailbox.fetch_headers(INBOX, ["1", "2", "3", "4", "5"])] == ["1", "2", "3", "4", "5"]
    mailbox.close()


# -- seams a Dovecot cannot show: STARTTLS order, XOAUTH2, Gmail's extensions -------------------


class FakeClient:
    """Just enough of imapclient.IMAPClient to watch what the mailbox asks for."""

    def __init__(self, capabilities=(b"IMAP4REV1", b"ENABLE", b"CONDSTORE")):
        self.calls: list[tuple] = []
        self._capabilities = tuple(capabilities)
        self.fetch_answer: dict = {}

    def __getattr__(self, name):
        def record(*args, **kwargs):
            self.calls.append((name, *args))
            return None
        return record

    def capabilities(self):
        return self._capabilities

    def fetch(self, uids, items):
        self.calls.append(("fetch", list(uids), list(items)))
        return {uid: self.fetch_answer[uid] for uid in uids if uid in self.fetch_answer}

    def select_folder(self, name, readonly=False):
        self.calls.append(("select_folder", name, readonly))
        return {b"UIDVALIDITY": 7}


def test_starttls_happens_before_an_xoauth2_login():
    fake = FakeClient()
    settings = ImapSettings(host="imap.example.com", security="starttls", username="me@example.com",
                            oauth2_token="ya29.token")
    mailbox = ImapMailbox("oauth", settings, client_factory=lambda s: fake)
    mailbox.connect()
    names = [c[0] for c in fake.calls]
    assert names[:3] == ["starttls", "oauth2_login", "enable"]
    assert fake.calls[1] == ("oauth2_login", "me@example.com", "ya29.token")
    assert "login" not in names


def test_gmail_extensions_add_message_and_thread_ids():
    fake = FakeClient(capabilities=(b"IMAP4REV1", b"X-GM-EXT-1", b"UIDPLUS"))
    fake.fetch_answer = {
        42: {
            b"SEQ": 1,
            b"BODY[HEADER.FIELDS (FROM SUBJECT)]": b"From: a@example.org\r\n\r\n",
            b"RFC822.SIZE": 1234,
            b"FLAGS": (b"\\Seen",),
            b"INTERNALDATE": datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
            b"X-GM-MSGID": 1278455344230334865,
            b"X-GM-THRID": 1266894439832287888,
        }
    }
    settings = ImapSettings(host="imap.gmail.com", username="me@gmail.com", password="app-password")
    mailbox = ImapMailbox("gmail", settings, client_factory=lambda s: fake)
    mailbox.connect()
    assert mailbox.has_gmail_extensions
    (record,) = mailbox.fetch_headers(INBOX, ["42"])
    items = next(c for c in fake.calls if c[0] == "fetch")[2]
    assert "X-GM-MSGID" in items and "X-GM-THRID" in items
    assert all("BODY[" not in item or "BODY.PEEK[" in item for item in items)
    assert (record.gm_msgid, record.gm_thrid) == ("1278455344230334865", "1266894439832287888")
    assert record.size == 1234 and record.flags == {"\\Seen"}
    assert not any(c[0] == "enable" for c in fake.calls)  # no CONDSTORE offered


def test_close_never_raises_when_logout_fails():
    class Broken(FakeClient):
        def logout(self):
            raise OSError("broken pipe")

    mailbox = ImapMailbox("broken", ImapSettings(host="localhost", security="plain", username="u",
                                                 password="p"), client_factory=lambda s: Broken())
    mailbox.connect()
    mailbox.close()
    assert not mailbox.connected



# -- TLS -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_server(dovecot_factory):
    """A server with a self-signed certificate: implicit TLS on ``tls_port``, STARTTLS on ``port``."""
    return dovecot_factory("tls", tls=True)


def trusting(server) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.cert_path))


@dovecot
@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_tls_and_starttls_log_in_with_a_trusted_certificate(tls_server, security):
    user, password = tls_server.new_user()
    port = tls_server.tls_port if security == "tls" else tls_server.port
    settings = ImapSettings(host="localhost", port=port, security=security, username=user,
                            password=password, timeout=5, ssl_context=trusting(tls_server))
    with ImapMailbox("tls", settings) as mailbox:
        assert mailbox.folder_state(INBOX).messages == 0
        assert "STARTTLS" not in mailbox.capabilities  # the login happened inside TLS


@dovecot
@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_an_untrusted_certificate_is_a_config_error(tls_server, security):
    user, password = tls_server.new_user()
    port = tls_server.tls_port if security == "tls" else tls_server.port
    settings = ImapSettings(host="localhost", port=port, security=security, username=user,
                            password=password, timeout=5)  # system CAs: self-signed is refused
    mailbox = ImapMailbox("tls", settings)
    with pytest.raises(ConfigError, match="certificate"):
        mailbox.connect()
    assert not mailbox.connected


@dovecot
def test_dovecot_answers_to_the_sync_fetches_are_read_without_imapclients_parser(dovecot_server, monkeypatch):
    """The lean reader (mailbox/fetch_response.py) takes Dovecot's answers whole: with
    imapclient's parser made to fail, headers, partial and whole bodies still come through."""
    import imapclient.response_parser

    user, password = dovecot_server.new_user()
    messages = [make_message(i) for i in range(3)]
    dovecot_server.append_messages(user, "INBOX", messages)
    mailbox = open_mailbox(dovecot_server, user, password)

    def refuse(*args, **kwargs):
        raise AssertionError("imapclient's FETCH parser was used")

    monkeypatch.setattr(imapclient.response_parser, "parse_fetch_response", refuse)
    records = mailbox.fetch_headers(INBOX, ["1", "2", "3"])
    assert [r.ref for r in records] == ["1", "2", "3"]
    assert records[0].raw_headers.startswith(b"From: Recruiter <jobs@example.org>\r\n")
    assert records[0].received_at is not None and records[0].received_at.tzinfo is not None
    assert records[0].size == len(messages[0])
    assert mailbox.fetch_raw(INBOX, ["2"], limit=20) == {"2": messages[1][:20]}
    assert mailbox.fetch_raw(INBOX, ["3"]) == {"3": messages[2]}
    mailbox.close()


@dovecot
def test_imaplib_formats_no_debug_text_unless_its_logger_would_print_it(dovecot_server):
    """imapclient sets imaplib's debug level to 5, which formats every response (literals and
    all) for a logger that usually drops it; the mailbox turns that off, unless asked to log."""
    import logging

    user, password = dovecot_server.new_user()
    mailbox = open_mailbox(dovecot_server, user, password)
    mailbox.connect()
    assert mailbox._client._imap.debug == 0
    mailbox.close()
    logger = logging.getLogger("imapclient.imaplib")
    old = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        mailbox.connect()
        assert mailbox._client._imap.debug == 5
    finally:
        logger.setLevel(old)
        mailbox.close()
