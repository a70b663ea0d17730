"""The body prefilter: how much of each message the sync fetches (input/output tables), and the
probe that decides from the first bytes whether a message is parsed at all."""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.core.classify import _JOB_WORDS, _STRONG_INTERVIEW, classify
from followup.core.model import Address, Label, Message
from followup.core.parse import parse_message
from followup.core.prefilter import (
    _ASCII_SEPARATORS,
    GMAIL_WORDS,
    PROBE_BYTES,
    BodyNeed,
    _says_job,
    body_need,
    could_matter,
    gmail_query,
    mentions_job,
)

SENT = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)
FULL, PROBE, NONE = BodyNeed.FULL, BodyNeed.PROBE, BodyNeed.NONE

HEADERS_ONLY = [
    ({"list-id": "<users.lists.example.org>"}, "someone@example.org", "Re: patch for kernel", NONE),
    ({"list-id": "<news.shop.example.com>"}, "news@shop.example.com", "Your application is waiting!", NONE),
    ({"list-unsubscribe": "<mailto:u@news.example.com>"}, "news@shop.example.com", "Spring sale", PROBE),
    ({"list-unsubscribe": "<mailto:u@li.com>"}, "jobs-noreply@linkedin.com", "Your application", FULL),
    ({"list-unsubscribe": "<mailto:u@x.com>"}, "hello@startup.example", "Your interview next week", FULL),
    ({"precedence": "bulk"}, "no-reply@greenhouse.io", "Thank you for applying", FULL),
    ({"precedence": "bulk"}, "ana@acme.example", "Re: our chat", PROBE),
    ({"precedence": "bulk"}, "news@acme.example", "Monthly digest", NONE),
    ({}, "friend@gmail.com", "hey", PROBE),
    ({}, "orders@shop.example.com", "Your order has shipped", PROBE),
    ({}, "jane@acme.example", "Interview on Thursday", FULL),
    ({}, "jane@acme.example", "Data Engineer position", FULL),
    ({"auto-submitted": "auto-replied", "precedence": "bulk"}, "ana@acme.com", "Away", FULL),
    ({}, "ana@acme.com", "Out of Office: back Monday", FULL),
    ({"auto-submitted": "auto-generated"}, "receipts@ride.example", "Your trip receipt", PROBE),
    # a calendar invitation is multipart: its text/calendar part shows in the probe
    ({"content-type": "multipart/mixed; boundary=x"}, "calendar-notification@google.com", "Invitation: chat", PROBE),
    ({"content-type": "text/calendar; method=REQUEST"}, "ana@acme.example", "Catch-up", FULL),
]


@pytest.mark.parametrize(("headers", "sender", "subject", "expected"), HEADERS_ONLY,
                         ids=[f"{h[2]} ({h[1]})" for h in HEADERS_ONLY])
def test_the_headers_decide_how_much_body_is_fetched(headers, sender, subject, expected):
    message = Message(message_id="<h@t>", date=SENT, sender=Address("", sender), subject=subject, headers=headers)
    assert body_need(message) is expected
    assert could_matter(message) is (expected is not NONE)


def test_a_recruiting_display_name_on_list_mail_still_gets_the_body():
    message = Message(message_id="<h@t>", date=SENT, sender=Address("Acme Recruiting", "news@acme.example"),
                      subject="Newsletter", headers={"list-id": "<x.acme.example>"})
    assert body_need(message) is FULL


def _mail(body: bytes, *, headers: bytes = b"", subject: bytes = b"hello") -> bytes:
    return (b"From: Sam <sam@gmail.example>\r\nTo: dana@example.net\r\nSubject: " + subject
            + b"\r\nMessage-ID: <p@x>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000\r\n" + headers + b"\r\n" + body)


PROBES = [
    ("plain personal note", _mail(b"Dinner on Friday? Bring the photos.\r\n"), False),
    ("plain job mention", _mail(b"Good luck with the interview tomorrow!\r\n"), True),
    ("a job word only in the subject is the header prefilter's business",
     _mail(b"see below\r\n", subject=b"my application"), False),
    ("a job word in the first paragraph of a one-part mail that mentions base64",
     _mail(b"the base64 thing\r\n\r\nabout the interview\r\n"), True),
    ("quoted-printable soft break inside the word",
     _mail(b"We would like to invite you to an inter=\r\nview next week.\r\n",
           headers=b"Content-Transfer-Encoding: quoted-printable\r\n"), True),
    ("quoted-printable accented resume",
     _mail(b"Please send your updated R=C3=A9sum=C3=A9 =\r\nsoon.\r\n",
           headers=b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n"),
     True),
    ("base64 text part",
     _mail(base64.encodebytes(b"Thank you for your application to the analyst role. " * 3),
           headers=b"Content-Transfer-Encoding: base64\r\n"), True),
    ("base64 text part without job words",
     _mail(base64.encodebytes(b"The photos from the trip are attached, see you soon. " * 3),
           headers=b"Content-Transfer-Encoding: base64\r\n"), False),
    ("calendar part", _mail(b"--b\r\nContent-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\n"), True),
    ("utf-16 text (words are not ASCII bytes)",
     _mail("see you at the office".encode("utf-16"), headers=b"Content-Type: text/plain; charset=utf-16\r\n"), True),
    ("generic words alone (job, career, opportunity)", _mail(b"A great opportunity for your career!\r\n"), False),
]


@pytest.mark.parametrize(("raw", "expected"), [p[1:] for p in PROBES], ids=[p[0] for p in PROBES])
def test_the_probe_passes_every_spelling_of_job_vocabulary(raw, expected):
    assert mentions_job(raw) is expected


def test_a_probe_cut_inside_a_base64_run_still_reads_what_it_holds():
    encoded = base64.encodebytes(b"We would like to schedule your interview for next week. " * 20)
    raw = _mail(encoded, headers=b"Content-Transfer-Encoding: base64\r\n")
    assert mentions_job(raw[: len(raw) - 101])


def test_the_probe_looks_only_at_the_first_probe_bytes():
    raw = _mail(b"x" * PROBE_BYTES + b" interview ")
    assert mentions_job(raw) is False
    assert mentions_job(raw[:200] + b" interview ") is True


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from([
    "interview", "unfortunately", "we", "will", "not", "move", "forward", "candidates", "offer", "tomorrow",
    "at", "10", "your", "application", "received", "schedule", "availability", "position", "the", "role",
    "photos", "dinner", "thanks", "\n", ">", "Best,", "résumé", "calendly.com/x", "next", "round",
]), max_size=40), st.sampled_from(["7bit", "quoted-printable", "base64"]))
def test_whatever_the_classifier_labels_as_job_mail_passes_the_probe(words, encoding):
    text = " ".join(words).encode("utf-8")
    if encoding == "quoted-printable":
        body = quopri.encodestring(text)
    elif encoding == "base64":
        body = base64.encodebytes(text)
    else:
        body = text
    raw = _mail(body, headers=f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: {encoding}\r\n"
                .encode())
    label = classify(parse_message(raw)).label
    if label is not Label.OTHER:
        assert mentions_job(raw), (label, words)


def test_the_gmail_query_spells_out_the_word_forms_and_asks_for_invitations():
    query = gmail_query()
    assert query.startswith("{") and query.endswith("}")
    for word in ("interview", "interviews", "application", "applied", "candidate", '"offer letter"', "filename:ics"):
        assert word in query
    assert len(set(GMAIL_WORDS)) == len(GMAIL_WORDS)


# Phrases the classifier's vocabulary gate passes (one per alternative of _JOB_WORDS and
# _STRONG_INTERVIEW), each of which the Gmail query must find with Gmail's whole-word matching.
VOCABULARY_PHRASES = [
    "applications", "application", "applied", "applying", "candidacy", "candidate", "candidates",
    "position", "positions", "role", "roles", "opening", "vacancy", "recruit", "recruiter", "recruiters",
    "recruiting", "recruitment", "recruited", "hiring", "talent acquisition", "interview", "interviews",
    "interviewing", "interviewed", "interviewer", "resume", "résumé", "cv", "requisition", "offer letter",
    "job offer", "offer of employment", "internship", "internships", "graduate scheme", "graduate program",
    "graduate programme", "assessment centre", "assessment center", "take-home", "takehome", "next stage",
    "final stage", "second stage", "third stage", "next round", "final round", "second round", "third round",
    "phone screen", "phone screening", "tech screen", "technical screen", "onsite", "on-site", "screening call",
    "hiring manager", "coding interview", "coding exercise", "coding session", "superday",
    "technical conversation", "technical discussion", "technical call", "technical chat", "technical round",
    "portfolio review",
]


def _gmail_finds(text: str) -> bool:
    words = text.lower().split()
    for term in GMAIL_WORDS:
        wanted = term.strip('"').lower().split()
        if any(words[i:i + len(wanted)] == wanted for i in range(len(words))):
            return True
    return False


@pytest.mark.parametrize("phrase", VOCABULARY_PHRASES)
def test_the_gmail_query_finds_every_phrase_the_local_probe_finds(phrase):
    text = f"we would like to talk about the {phrase} next week"
    assert mentions_job(_mail(text.encode())), phrase  # the phrase is in the classifier's vocabulary
    assert _gmail_finds(text), phrase


# --- the probe's shortcuts give the answers of the plain reading ----------------------------------
#
# mentions_job lower-cases and drops CRs in one pass when no CR stands alone, looks for the
# charset and calendar markers with fewer scans, and searches ASCII text with an ASCII-mode
# pattern whose alternatives are grouped by first letter. The plain reading it stands for:

_REFERENCE_VOCABULARY = re.compile(f"{_JOB_WORDS.pattern}|{_STRONG_INTERVIEW.pattern}")


def _reference_says_job(lowered: bytes) -> bool:
    return _REFERENCE_VOCABULARY.search(lowered.decode("utf-8", "replace").lower()) is not None


def _reference_mentions_job(raw: bytes) -> bool:
    data = raw[:PROBE_BYTES].replace(b"\r\n", b"\n")
    lowered = data.lower()
    if any(marker in lowered for marker in (b"text/calendar", b"application/ics", b"begin:vcalendar")):
        return True
    if b"utf-16" in lowered or b"utf-32" in lowered or b"ucs-2" in lowered:
        return True
    end = lowered.find(b"\n\n")
    parts = lowered[end + 2 if end >= 0 else 0:].split(b"\n--")
    body = b"\n".join(p for n, p in enumerate(parts) if n == 0 or b"base64" not in p[:p.find(b"\n\n") + 1])
    body = body.replace(b"application/", b"mime/")
    if _reference_says_job(body):
        return True
    if b"quoted-printable" in lowered and b"=" in body and _reference_says_job(binascii.a2b_qp(body)):
        return True
    for found in re.finditer(rb"content-transfer-encoding:[ \t]*base64", lowered):
        head_start = lowered.rfind(b"\n\n", 0, found.start()) + 2 if found.start() > end else 0
        head_end = lowered.find(b"\n\n", found.end())
        if head_end < 0:
            continue
        types = re.compile(rb"content-type:\s*([a-z0-9.+-]+/[a-z0-9.+-]+)").findall(lowered, head_start, head_end)
        if types and not types[-1].startswith(b"text/"):
            continue
        body_end = data.find(b"\n--", head_end + 2)
        chunk = re.sub(rb"\s+", b"", data[head_end + 2:body_end if body_end >= 0 else len(data)])
        chunk = chunk[: len(chunk) // 4 * 4]
        try:
            decoded = binascii.a2b_base64(chunk)
        except (binascii.Error, ValueError):
            continue
        if _reference_says_job(decoded.lower()):
            return True
    return False


_WORDS = ["Interview", "INTERVIEW", "interview", "résumé", "RÉSUMÉ", "r\xe9sum\xe9", "cv", "CV", "role", "Roles",
          "phone\u00a0screen", "phone\x1cscreen", "phone screen", "on-site", "take-home", "next round", "next\x1dround",
          "offer letter", "application/pdf", "APPLICATION/ics", "Application for", "text/Calendar", "BEGIN:VCALENDAR",
          "charset=UTF-16", "utf-32", "UCS-2", "ucs-4", "calendar", "hello", "dinner", "photos", "see you", "İnterview",
          "ſuperday", "K", "\u212a", "caf\xe9", "\xff\xfe", "\x1e", "=", "=\r\n", "=C3=A9", "=3D", "-", "--", "x"]
_GAPS = ["", " ", "\r\n", "\n", "\r", "\r\r\n", "\r\n\r\n", "\n\n", "\t", "\x1f"]


def _text(pairs: list[tuple[str, str]]) -> bytes:
    return "".join(w + g for w, g in pairs).encode("utf-8", "surrogatepass")


_NEUTRAL = ["hello", "dinner", "photos", "see you", "caf\xe9", "x", "-", "--", "=", "application/pdf", "\x1e", "K"]
texts = st.lists(st.tuples(st.sampled_from(_WORDS) | st.sampled_from(_NEUTRAL), st.sampled_from(_GAPS)),
                 max_size=12).map(_text)
part_headers = st.sampled_from([
    b"", b"Content-Type: text/plain\r\n", b"Content-Type: text/html; charset=utf-8\r\n",
    b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n",
    b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n",
    b"Content-Transfer-Encoding: BASE64\r\n", b"Content-Transfer-Encoding: quoted-printable\r\n",
    b"Content-Type: text/calendar\r\n", b"Content-Type: image/png\n",
])


@st.composite
def raw_messages(draw):  # type: ignore[no-untyped-def]
    top = draw(part_headers)
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        headers = draw(part_headers)
        body = draw(st.one_of(texts, st.binary(max_size=40)))
        if b"base64" in headers.lower() and draw(st.booleans()):
            body = base64.encodebytes(body).replace(b"\n", draw(st.sampled_from([b"\r\n", b"\n"])))
        parts.append(b"--b\r\n" + headers + draw(st.sampled_from([b"\r\n", b"\n"])) + body)
    eol = draw(st.sampled_from([b"\r\n", b"\n", b""]))
    raw = _mail(draw(texts) + eol + eol.join(parts), headers=top)
    return raw[: draw(st.integers(0, len(raw)))] if draw(st.booleans()) else raw


@settings(max_examples=400, deadline=None)
@given(raw_messages())
def test_the_probe_answers_as_its_plain_reading(raw):
    assert mentions_job(raw) is _reference_mentions_job(raw)


@settings(max_examples=400, deadline=None)
@given(st.one_of(texts, st.binary(max_size=80), texts.map(bytes.lower)))
def test_the_vocabulary_search_answers_as_its_plain_reading(data):
    assert _says_job(data) is _reference_says_job(data)


def test_the_probe_answers_as_its_plain_reading_on_the_fixture_mail():
    for path in sorted((Path(__file__).resolve().parents[1] / "fixtures" / "mail").rglob("*.eml")):
        raw = path.read_bytes()
        for variant in (raw, raw.replace(b"\n", b"\r\n"), raw.upper(), raw[: len(raw) // 2], raw.replace(b"\n", b"\r")):
            assert mentions_job(variant) is _reference_mentions_job(variant), path.name


@pytest.mark.parametrize("marker", [b"text/calendar", b"TEXT/CALENDAR", b"application/ics", b"begin:vcalendar",
                                    b"utf-16", b"UTF-32", b"ucs-2", b"utf-8", b"calendar", b"ucs-4"])
@pytest.mark.parametrize("where", ["headers", "body", "attachment"])
def test_each_marker_alone_answers_as_the_plain_reading(marker, where):
    if where == "headers":
        raw = _mail(b"see you\r\n", headers=b"X-Note: " + marker + b"\r\n")
    elif where == "body":
        raw = _mail(b"see " + marker + b" you\r\n")
    else:
        raw = _mail(b"--b\r\nContent-Transfer-Encoding: base64\r\n\r\n" + marker + b"\r\n")
    assert mentions_job(raw) is _reference_mentions_job(raw)
    assert mentions_job(raw) is (marker.lower() not in (b"utf-8", b"calendar", b"ucs-4"))


@pytest.mark.parametrize("piece", [r"\s", r"\S", r"\w", r"\W", r"\d", r"\D", r"\b", r"\B", "."])
def test_ascii_mode_reads_ascii_text_alike_but_for_the_separators(piece):
    # On ASCII text the ASCII-mode pattern and the Unicode one differ only where \s meets \x1c-\x1f.
    for code in range(128):
        text = f"a{chr(code)}b"
        unicode_mode = [m.span() for m in re.finditer(piece, text)]
        ascii_mode = [m.span() for m in re.finditer(piece, text, re.ASCII)]
        if chr(code) not in "\x1c\x1d\x1e\x1f":
            assert unicode_mode == ascii_mode, (piece, code)
    assert [chr(c) for c in range(128) if re.match(r"\s", chr(c)) and not re.match(r"\s", chr(c), re.ASCII)] \
        == ["\x1c", "\x1d", "\x1e", "\x1f"]
    assert [s.decode() for s in _ASCII_SEPARATORS] == ["\x1c", "\x1d", "\x1e", "\x1f"]
