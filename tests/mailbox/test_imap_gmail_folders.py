"""Gmail over IMAP: the special folders of a localised Gmail (``[Google Mail]/Entw&APw-rfe`` on the
wire, modified UTF-7 for "Entwürfe") are found through their SPECIAL-USE flags, against a real
Dovecot (tests/dovecot.py) laid out the way Gmail lays out a German account, and against a
LIST answer as Gmail gives it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from followup.core.model import FolderRole
from followup.mailbox.imap import ImapMailbox, ImapSettings

GOOGLE_DE = {"[Google Mail]/Entwürfe": "\\Drafts", "[Google Mail]/Gesendet": "\\Sent",
             "[Google Mail]/Papierkorb": "\\Trash"}


@pytest.fixture
def google_de(dovecot_factory):
    return dovecot_factory("google-de", mailboxes=GOOGLE_DE)


def draft(n: int) -> bytes:
    return (f"From: dana@gmail.example\r\nTo: ann@acme.example\r\nSubject: Draft {n}\r\n"
            f"Message-ID: <d{n}@gmail.example>\r\nX-Followup-Key: k{n}\r\n\r\nHi.\r\n").encode()


def test_localised_gmail_folders_are_found_by_special_use_and_usable(google_de):
    user, password = google_de.new_user()
    raw_names = [name for _, _, name in google_de.client(user).list_folders()]
    wire = google_de.client(user)
    wire.folder_encode = False
    assert b"[Google Mail]/Entw&APw-rfe" in [n if isinstance(n, bytes) else n.encode() for _, _, n in wire.list_folders()]
    assert "[Google Mail]/Entwürfe" in raw_names
    box = ImapMailbox("gmail-imap", ImapSettings(host=google_de.host, port=google_de.port, security="plain",
                                                 username=user, password=password, timeout=10))
    with box:
        assert box.folder_name(FolderRole.DRAFTS) == "[Google Mail]/Entwürfe"
        assert box.folder_name(FolderRole.SENT) == "[Google Mail]/Gesendet"
        uid = box.append(FolderRole.DRAFTS, draft(1), flags=["\\Draft"], when=datetime.now(UTC))
        assert box.list_refs(FolderRole.DRAFTS) == [uid]
        assert box.find_by_header(FolderRole.DRAFTS, "X-Followup-Key", "k1") == [uid]
        assert box.folder_state(FolderRole.DRAFTS).messages == 1


class GmailListClient:
    """An imapclient stand-in answering LIST as Gmail does for a German account (names decoded
    from modified UTF-7 by imapclient, flags as bytes, "/" as the separator)."""

    def __init__(self) -> None:
        self.selected: list[str] = []

    def login(self, *_):
        return b"OK"

    def capabilities(self):
        return (b"IMAP4REV1", b"X-GM-EXT-1", b"SPECIAL-USE", b"UIDPLUS")

    def list_folders(self):
        from imapclient.imap_utf7 import decode

        rows = [((b"\\HasNoChildren",), b"/", b"INBOX"),
                ((b"\\HasChildren", b"\\Noselect"), b"/", b"[Google Mail]"),
                ((b"\\All", b"\\HasNoChildren"), b"/", b"[Google Mail]/Alle Nachrichten"),
                ((b"\\Drafts", b"\\HasNoChildren"), b"/", b"[Google Mail]/Entw&APw-rfe"),
                ((b"\\HasNoChildren", b"\\Sent"), b"/", b"[Google Mail]/Gesendet")]
        return [(flags, sep, decode(name)) for flags, sep, name in rows]

    def folder_status(self, name, items):
        self.selected.append(name)
        return {b"UIDVALIDITY": 11, b"UIDNEXT": 5, b"MESSAGES": 4}


def test_a_gmail_list_answer_gives_the_localised_drafts_folder():
    client = GmailListClient()
    box = ImapMailbox("gmail-imap", ImapSettings(host="imap.gmail.com", username="dana@gmail.example",
                                                 password="app-password"), client_factory=lambda s: client)
    box.connect()
    assert box.has_gmail_extensions
    assert box.folder_name(FolderRole.DRAFTS) == "[Google Mail]/Entwürfe"
    assert box.folder_name(FolderRole.SENT) == "[Google Mail]/Gesendet"
    assert box.folder_state(FolderRole.DRAFTS).messages == 4
    assert client.selected == ["[Google Mail]/Entwürfe"]


class GmailSearchClient(GmailListClient):
    """Gmail's IMAP search misses a draft appended a moment ago (its index lags); FETCH sees it."""

    def __init__(self) -> None:
        super().__init__()
        self.searches: list = []

    def select_folder(self, name, readonly=False):
        return {b"UIDVALIDITY": 11}

    def noop(self):
        return b"OK", []

    def search(self, criteria, charset=None):
        self.searches.append(list(criteria))
        return [] if criteria[0] == "HEADER" else [7, 9]

    def fetch(self, uids, items):
        assert items == ["BODY.PEEK[HEADER.FIELDS (X-Followup-Key)]"]
        headers = {7: b"X-Followup-Key: other\r\n\r\n", 9: b"X-Followup-Key:\r\n key-1\r\n\r\n"}
        return {uid: {b"BODY[HEADER.FIELDS (X-FOLLOWUP-KEY)]": headers[uid]} for uid in uids}


def test_on_gmail_a_draft_the_search_index_misses_is_found_by_reading_its_header():
    client = GmailSearchClient()
    box = ImapMailbox("gmail-imap", ImapSettings(host="imap.gmail.com", username="dana@gmail.example",
                                                 password="app-password"), client_factory=lambda s: client)
    assert box.find_by_header(FolderRole.DRAFTS, "X-Followup-Key", "key-1") == ["9"]
    assert client.searches == [["HEADER", "X-Followup-Key", "key-1"], ["ALL"]]
    assert box.find_by_header(FolderRole.INBOX, "X-Followup-Key", "key-1") == []  # only Drafts is read
