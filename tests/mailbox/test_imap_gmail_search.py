"""``ImapMailbox.search_text``: Gmail's X-GM-RAW search on servers that offer X-GM-EXT-1 (here
the FAKE Gmail IMAP client of tests/gmail_imap_fake.py, which records the criteria), and no
search at all on a plain IMAP server (a real Dovecot)."""

from __future__ import annotations

import pytest
from gmail_imap_fake import FakeGmailImap
from imapclient.imapclient import _normalise_search_criteria

from followup.core.model import FolderRole
from followup.core.prefilter import gmail_query
from followup.mailbox.imap import ImapMailbox, ImapSettings, _uid_set


def gmail_box() -> tuple[FakeGmailImap, ImapMailbox]:
    server = FakeGmailImap()
    box = ImapMailbox("gmail-imap", ImapSettings(host="imap.gmail.com", port=993, security="tls",
                                                 username="dana@gmail.com", password="app-password"),
                      client_factory=server.client)
    box.connect()
    return server, box


def test_gmail_imap_is_searched_with_x_gm_raw_over_the_given_uids_only():
    server, box = gmail_box()
    server.search_hits = {3, 7, 8, 40}
    found = box.search_text(FolderRole.INBOX, ["1", "2", "3", "4", "5", "7", "9"], gmail_query())
    assert found == {"3", "7"}
    (criteria, charset), = server.searches
    assert charset == "UTF-8"
    assert criteria[:2] == [b"X-GM-RAW", gmail_query()] and criteria[2:] == [b"UID", b"1:5,7,9"]


def test_the_x_gm_raw_query_goes_on_the_wire_as_one_quoted_string():
    wire = b" ".join(_normalise_search_criteria([b"X-GM-RAW", gmail_query(), b"UID", b"1:3"], "UTF-8"))
    assert wire.startswith(b'X-GM-RAW "{') and wire.endswith(b'}" UID 1:3')
    assert b'\\"offer letter\\"' in wire  # the phrase quotes are escaped inside the quoted string


def test_no_refs_means_no_search():
    server, box = gmail_box()
    assert box.search_text(FolderRole.INBOX, [], gmail_query()) == set()
    assert server.searches == []


@pytest.mark.parametrize(("uids", "expected"), [
    ([1], b"1"), ([1, 2, 3], b"1:3"), ([5, 1, 2, 9, 10, 11, 3], b"1:3,5,9:11"), ([4, 4, 6], b"4,6"),
])
def test_uid_sets_are_written_compactly(uids, expected):
    assert _uid_set(uids) == expected


@pytest.mark.dovecot
def test_a_server_without_gmail_extensions_does_no_server_side_search(dovecot_server):
    user, password = dovecot_server.new_user()
    box = ImapMailbox("school", ImapSettings(host=dovecot_server.host, port=dovecot_server.port,
                                             security="plain", username=user, password=password, timeout=10))
    box.connect()
    try:
        before = box.commands_issued
        assert box.search_text(FolderRole.INBOX, ["1", "2"], gmail_query()) is None
        assert box.commands_issued == before
    finally:
        box.close()
