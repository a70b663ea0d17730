"""``parse_headers`` (the sync's fast path for header blocks) gives exactly what ``parse_message``
gives for the same bytes, minus the body: over every corpus and fixture message, whole and cut
at the header block, and over hostile generated header blocks."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from corpus import CORPUS
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.core.parse import parse_addresses, parse_headers, parse_message

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mail"


def _files() -> list[Path]:
    files = sorted(FIXTURES.rglob("*.eml"))
    if CORPUS is not None:
        files += sorted(p for p in CORPUS.rglob("*.eml") if p.is_file())
    return files


def _same(blob: bytes) -> tuple[object, object]:
    slow = dataclasses.replace(parse_message(blob), text="", html="", calendar=(), defects=())
    fast = dataclasses.replace(parse_headers(blob), defects=())
    return slow, fast


def test_parse_headers_agrees_with_parse_message_on_every_real_message():
    files = _files()
    differing = []
    for path in files:
        raw = path.read_bytes()
        found = re.search(rb"\r?\n\r?\n", raw)
        for blob in (raw, raw[: found.end()] if found else raw):
            slow, fast = _same(blob)
            if slow != fast:
                differing.append(path.name)
    assert len(files) > 100
    assert differing == []


HOSTILE = [
    b"",
    b"\r\n",
    b"no colon line\r\nFrom: a@b.example\r\n\r\n",
    b" leading continuation\r\nSubject: x\r\n\r\n",
    b"From sender@example Mon Jan  1 00:00:00 2026\r\nSubject: mbox\r\n\r\n",
    b"Subject: a\r\nFrom looks like a body line\r\n",
    b"Subject: a\r\nFrom x\r\nTo: b@c.example\r\n\r\n",
    b":no name\r\nSubject: s\r\n\r\n",
    b"Subject: folded\r\n\tacross\r\n  lines\r\nMessage-ID: <a@b>\r\n\r\n",
    b"Subject: =?utf-8?q?caf=C3=A9?=\rFrom: x@y.example\r\rbody",
    b"Subject: raw \xc3\xa9 utf-8\nFrom: \"R\xc3\xa9my\" <r@x.example>\n\n",
    b"To: a@b.example, , \"Last, First\" <c@d.example>, undisclosed-recipients:;\n\n",
    b"Date: not a date\nMessage-ID: bare@id.example\nIn-Reply-To: <x@y> (comment)\n\n",
]


@pytest.mark.parametrize("blob", HOSTILE, ids=range(len(HOSTILE)))
def test_parse_headers_agrees_with_parse_message_on_odd_header_blocks(blob):
    slow, fast = _same(blob)
    assert slow == fast


_LINES = st.lists(st.one_of(
    st.sampled_from([b"From: Ana <ana@acme.example>", b"To: a@b.example, c@d.example", b"Subject: hello",
                     b"Subject: =?utf-8?b?w6k=?=", b"Message-ID: <m@x>", b"References: <a@b> <c@d>",
                     b"\tcontinued", b" ", b"From nobody", b":", b"X: \xff\xfe", b"Date: Mon, 2 Mar 2026 10:00:00 +0100",
                     b"Cc: \"Doe, J\" <j@d.example>", b"Reply-To: <r@x.example>", b"List-Id: <l.example>"]),
    st.binary(max_size=30)), max_size=12)


@settings(max_examples=300, deadline=None)
@given(_LINES, st.sampled_from([b"\r\n", b"\n", b"\r"]))
def test_parse_headers_agrees_with_parse_message_on_generated_header_blocks(lines, newline):
    blob = newline.join(lines) + newline + newline + b"body"
    slow, fast = _same(blob)
    assert slow == fast


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab .,<>@\"'()[]:;\\\tx-é")), max_size=60))
def test_the_address_fast_path_reads_like_email_utils(raw):
    import email.utils

    from followup.core.parse import _EMAIL, Address, clean_header_text

    expected = []
    for name, addr in email.utils.getaddresses([raw]):
        addr = addr.strip().strip("<>").lower()
        if _EMAIL.match(addr):
            expected.append(Address(name=clean_header_text(name).strip("'\" "), email=addr))
    assert list(parse_addresses(raw)) == expected
