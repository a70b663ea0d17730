"""The lean FETCH reader: input/output tables (imaplib's shapes), refusals, and agreement with
imapclient's parser on everything it accepts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from imapclient.response_parser import parse_fetch_response

from followup.mailbox.fetch_response import internal_date, parse_fetch_lean

HEADER = b"From: a@example.org\r\nSubject: Hi\r\n\r\n"
SECTION = b"BODY[HEADER.FIELDS (FROM TO SUBJECT)]"
UTC = timezone.utc


def imapclient_answer(data):
    return {uid: dict(fields) for uid, fields in parse_fetch_response(data, False, True).items()}


READS = [
    pytest.param(
        [(b'7 (UID 45 RFC822.SIZE 2301 FLAGS (\\Seen \\Recent) INTERNALDATE "24-Aug-2026 00:39:30 +0000" '
          + SECTION + b" {%d}" % len(HEADER), HEADER), b")"],
        {45: {b"SEQ": 7, b"RFC822.SIZE": 2301, b"FLAGS": (b"\\Seen", b"\\Recent"),
              b"INTERNALDATE": datetime(2026, 8, 24, 0, 39, 30, tzinfo=UTC), SECTION: HEADER}},
        id="Dovecot's answer to the sync's header fetch"),
    pytest.param(
        [(b"3 (FLAGS () " + SECTION + b" {%d}" % len(HEADER), HEADER), b" UID 12 MODSEQ (881))"],
        {12: {b"SEQ": 3, b"FLAGS": (), SECTION: HEADER, b"MODSEQ": (881,)}},
        id="items after the literal and a CONDSTORE MODSEQ"),
    pytest.param(
        [(b"1 (UID 9 BODY[]<0> {5}", b"Hello"), b")", (b"2 (UID 10 BODY[]<0> {3}", b"Bye"), b")"],
        {9: {b"SEQ": 1, b"BODY[]<0>": b"Hello"}, 10: {b"SEQ": 2, b"BODY[]<0>": b"Bye"}},
        id="two partial body fetches"),
    pytest.param(
        [b"4 (UID 20 " + SECTION + b" NIL X-GM-MSGID 1278455344230334865 X-GM-THRID 1266894439832287888)"],
        {20: {b"SEQ": 4, SECTION: None, b"X-GM-MSGID": 1278455344230334865, b"X-GM-THRID": 1266894439832287888}},
        id="NIL for a section and Gmail's 64-bit ids"),
    pytest.param(
        [b'5 (UID 21 INTERNALDATE " 7-Jul-2026 02:44:25 -0700" BODY[]<0> "quoted \\"text\\"")'],
        {21: {b"SEQ": 5, b"INTERNALDATE": datetime(2026, 7, 7, 2, 44, 25, tzinfo=timezone(timedelta(hours=-7))),
              b"BODY[]<0>": b'quoted "text"'}},
        id="a space-padded day, a negative zone and a quoted string with escapes"),
    pytest.param(
        [b"6 (FLAGS (\\Seen))", (b"7 (UID 30 BODY[]<0> {2}", b"ok"), b")"],
        {30: {b"SEQ": 7, b"BODY[]<0>": b"ok"}},
        id="an unsolicited flag update without a UID is left out"),
    pytest.param(
        [b"8 (UID 31 FLAGS (\\Seen))", b"8 (UID 31 RFC822.SIZE 99)"],
        {31: {b"SEQ": 8, b"FLAGS": (b"\\Seen",), b"RFC822.SIZE": 99}},
        id="two answers for one UID are merged"),
    pytest.param([None], {}, id="no answer at all"),
]


@pytest.mark.parametrize(("data", "expected"), READS)
def test_the_lean_reader_reads_the_shapes_the_sync_asks_for(data, expected):
    assert parse_fetch_lean(data) == expected


# imapclient keys an answer without a UID by its sequence number, which a caller asking by UID can
# mistake for a UID; the lean reader leaves such answers out (that row differs on purpose).
@pytest.mark.parametrize(("data", "expected"), [r for r in READS if "without a UID" not in r.id])
def test_the_lean_reader_agrees_with_imapclient_on_every_table_row(data, expected):
    assert parse_fetch_lean(data) == imapclient_answer(data)


REFUSED = [
    pytest.param([b'1 (UID 2 BODYSTRUCTURE ("text" "plain" NIL NIL NIL "7bit" 5 1))'], id="nested lists"),
    pytest.param([b'1 (UID 2 X-GM-LABELS ("\\\\Inbox" "job (2026)"))'], id="quoted strings in a list"),
    pytest.param([(b"1 (UID 2 BODY[]<0> {9}", b"too short"[:5]), b")"], id="a literal of the wrong length"),
    pytest.param([b"1 (UID 2 RFC822.SIZE 10"], id="no closing parenthesis"),
    pytest.param([b"1 (UID 2 RFC822.SIZE 10) trailing"], id="bytes after the closing parenthesis"),
    pytest.param([b"garbage"], id="not a FETCH answer"),
    pytest.param([(b"1 (UID 2 BODY[]<0> {2}", b"ok")], id="a literal with nothing after it"),
    pytest.param([b"1 (UID 2 ENVELOPE NIL)"], id="an ENVELOPE (imapclient builds an object)"),
    pytest.param([b"1 (UID abc)"], id="a UID that is not a number"),
    pytest.param([12], id="an item imaplib would never give"),
]


@pytest.mark.parametrize("data", REFUSED)
def test_the_lean_reader_refuses_other_shapes_so_imapclient_reads_them(data):
    assert parse_fetch_lean(data) is None


@pytest.mark.parametrize(("text", "expected"), [
    (b"24-Aug-2026 00:39:30 +0000", datetime(2026, 8, 24, 0, 39, 30, tzinfo=UTC)),
    (b" 1-Jan-2027 23:59:59 +0530", datetime(2027, 1, 1, 23, 59, 59, tzinfo=timezone(timedelta(hours=5, minutes=30)))),
    (b"31-Feb-2026 00:00:00 +0000", None),
    (b"24-Foo-2026 00:39:30 +0000", None),
    (b"24-Aug-2026 00:39:30 0000", None),
    (b"yesterday", None),
])
def test_internal_dates_are_read_as_aware_datetimes_or_none(text, expected):
    assert internal_date(text) == expected


# Hypothesis: answers built from the items the sync fetches, in any order, with literals at any
# position; whenever the lean reader accepts one, imapclient reads the same.
_atoms = st.sampled_from([b"\\Seen", b"\\Answered", b"\\Recent", b"$Forwarded", b"followup/rejection", b"NIL", b"42"])
_literal_bytes = st.binary(max_size=40)


@st.composite
def fetch_answers(draw):
    data = []
    for seq in range(1, draw(st.integers(1, 4)) + 1):
        items = [b"UID %d" % draw(st.integers(1, 2**32 - 1))]
        items.append(b"RFC822.SIZE %d" % draw(st.integers(0, 10**9)))
        items.append(b"FLAGS (" + b" ".join(draw(st.lists(_atoms, max_size=3))) + b")")
        day = draw(st.dates(min_value=datetime(1990, 1, 1).date(), max_value=datetime(2090, 1, 1).date()))
        zone = draw(st.sampled_from([b"+0000", b"-0700", b"+0530", b"+1400"]))
        items.append(b'INTERNALDATE "%s 12:34:56 %s"' % (day.strftime("%d-%b-%Y").encode(), zone))
        items.append(b"X-GM-THRID %d" % draw(st.integers(0, 2**63)))
        literals = [(b"BODY[]<0>", draw(_literal_bytes)), (SECTION, draw(_literal_bytes))]
        texts = draw(st.permutations(items + [None, None]))
        # Build imaplib's list: every literal ends a piece; the rest of the line follows.
        pieces, current = [], b"%d (" % seq
        first = True
        for text in texts:
            if text is None:
                name, body = literals.pop()
                current += (b"" if first else b" ") + name + b" {%d}" % len(body)
                pieces.append((current, body))
                current = b""
            else:
                current += (b"" if first else b" ") + text
            first = False
        pieces.append(current + b")")
        data.extend(pieces)
    return data


@settings(max_examples=300, deadline=None)
@given(fetch_answers())
def test_the_lean_reader_accepts_and_agrees_with_imapclient_on_generated_answers(data):
    lean = parse_fetch_lean(data)
    assert lean is not None
    assert lean == imapclient_answer(data)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=60), st.tuples(st.binary(max_size=40), st.binary(max_size=20))),
                max_size=4))
def test_the_lean_reader_never_raises_and_when_it_accepts_agrees_with_imapclient(data):
    lean = parse_fetch_lean(data)
    if lean is None:
        return
    try:
        expected = imapclient_answer(data)
    except Exception:  # noqa: BLE001 - imapclient refused what the lean reader took: a difference
        pytest.fail(f"the lean reader accepted what imapclient refuses: {data!r}")
    assert lean == expected
