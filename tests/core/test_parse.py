"""Parsing: any MIME into a normalised Message, never an exception."""

from __future__ import annotations

import pytest

from corpus import CORPUS, WHERE

from followup.core.parse import decode_header_text, parse_addresses, parse_message

MIME_FILES = sorted(p for p in (CORPUS / "mime").rglob("*") if p.is_file() and p.suffix != ".csv") if CORPUS else []


@pytest.mark.skipif(not MIME_FILES, reason=f"no MIME corpus at {WHERE}")
@pytest.mark.parametrize("path", MIME_FILES, ids=lambda p: p.parent.name + "/" + p.name)
def test_every_corpus_mime_file_parses_without_an_exception(path):
    message = parse_message(path.read_bytes())
    assert message.message_id.startswith("<")
    assert "\n" not in message.subject and "\r" not in message.subject
    assert message.date is None or message.date.tzinfo is not None


@pytest.mark.parametrize("raw, expected", [
    ("=?utf-8?q?Caf=C3=A9_interview?=", "Café interview"),
    ("Line one\r\n\tline two", "Line one line two"),
    ("=?x-unknown?q?abc?=", "=?x-unknown?q?abc?="),
    ("Bcc:\r\nInjected: yes", "Bcc: Injected: yes"),
])
def test_header_text_is_decoded_onto_one_line(raw, expected):
    assert decode_header_text(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ('"Doe, Jane" <Jane.Doe@Example.com>', [("Doe, Jane", "jane.doe@example.com")]),
    ("not an address, bob@example.org", [("", "bob@example.org")]),
    ("<@bad>, x@", []),
])
def test_addresses_are_parsed_strictly(raw, expected):
    assert [(a.name, a.email) for a in parse_addresses(raw)] == expected


def test_a_message_without_id_or_date_gets_a_stable_identity():
    raw = b"From: a@example.com\r\nSubject: hi\r\n\r\nbody"
    first, second = parse_message(raw), parse_message(raw)
    assert first.message_id == second.message_id and first.message_id.endswith("@followup.invalid>")
    assert "no Message-ID" in first.defects and first.date is None


def test_a_date_without_zone_is_read_as_utc():
    message = parse_message(b"Date: Mon, 2 Mar 2026 10:00:00\r\n\r\n")
    assert message.date is not None and message.date.utcoffset().total_seconds() == 0


def test_html_only_mail_becomes_text_without_scripts():
    raw = (b"Content-Type: text/html; charset=utf-8\r\n\r\n"
           b"<html><head><style>p{}</style><script>x()</script></head>"
           b"<body><p>We would love to <b>interview</b> you.</p><p>Best,<br>Ann</p></body></html>")
    message = parse_message(raw)
    assert message.text.splitlines() == ["We would love to", "interview", "you.", "Best,", "Ann"] or \
        "We would love to" in message.text
    assert "x()" not in message.text and "p{}" not in message.text


def test_a_calendar_invite_becomes_an_event_with_attendees():
    ics = (
        "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:abc\r\nSEQUENCE:2\r\n"
        "DTSTART;TZID=Europe/Berlin:20260305T143000\r\nDTEND;TZID=Europe/Berlin:20260305T151500\r\n"
        "SUMMARY:Interview\r\nORGANIZER;CN=Ann Lee:mailto:ann@acme.example\r\n"
        "ATTENDEE;CN=Bo Chan;CUTYPE=INDIVIDUAL:mailto:bo@acme.example\r\n"
        "ATTENDEE;CN=Room 4;CUTYPE=ROOM:mailto:room4@acme.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    raw = ("Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
           "--b\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n" + ics + "--b--\r\n").encode()
    (event,) = parse_message(raw).calendar
    assert (event.method, event.uid, event.sequence) == ("REQUEST", "abc", 2)
    assert event.start.isoformat() == "2026-03-05T14:30:00+01:00"
    assert event.organizer.email == "ann@acme.example" and event.organizer.name == "Ann Lee"
    assert [(a.address.email, a.cutype) for a in event.attendees] == [
        ("bo@acme.example", "INDIVIDUAL"), ("room4@acme.example", "ROOM")]


def test_rfc6532_utf8_headers_decode_as_utf8():
    message = parse_message('From: "Jöhn" <j@example.com>\r\nSubject: Säying hi\r\n\r\nx'.encode())
    assert message.subject == "Säying hi" and message.sender.name == "Jöhn"


def test_a_huge_body_is_cut_and_the_cut_is_named():
    raw = b"Subject: big\r\n\r\n" + b"word " * 1_000_000
    message = parse_message(raw)
    assert "text truncated" in message.defects and len(message.text) == 100_000
