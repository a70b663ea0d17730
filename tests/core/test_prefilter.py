"""The body prefilter: how much of each message the sync fetches (input/output tables), and the
probe that decides from the first bytes whether a message is parsed at all."""

from __future__ import annotations

import base64
import quopri
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.core.classify import classify
from followup.core.model import Address, Label, Message
from followup.core.parse import parse_message
from followup.core.prefilter import (
    GMAIL_WORDS,
    PROBE_BYTES,
    BodyNeed,
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
