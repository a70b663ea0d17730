"""Which messages are worth their bodies: decided from the headers, then from a cheap look at
the first bytes. Pure functions; the sync (``followup.sync``) acts on the answers.

A cold sync reads the headers of every message in the window; reading every body would cost
ten times more (most of a job seeker's mail is newsletters and personal mail). Three answers:

================  =====================================================================  ==========
 header signal     examples                                                               need
================  =====================================================================  ==========
 recruiting        ATS / hiring mailbox / job board / scheduling tool sender, calendar      ``FULL``
                   content type, auto-reply or out-of-office headers, a job word in the
                   subject, "recruiting" in the sender's name
 list mail         List-Id or Precedence: bulk/list/junk and none of the above: the         ``NONE``
                   classifier labels it "other" whatever the body says (its rule 3)
 everything else   personal mail, notifications, marketing with only List-Unsubscribe,     ``PROBE``
                   the user's own mail
================  =====================================================================  ==========

``PROBE`` messages are looked at cheaply before anything is parsed: :func:`mentions_job`
scans the first :data:`PROBE_BYTES` of the raw message for the classifier's own job
vocabulary (``_JOB_WORDS`` / ``_STRONG_INTERVIEW``, without which it labels any message from a
non-recruiting sender "other", its "no job-application vocabulary" gate). Only messages that
pass are parsed and classified; the rest are kept as headers, like list mail. Where the server
can search text itself (Gmail's X-GM-RAW, the Gmail API's ``q``), :func:`gmail_query` asks it
instead and no probe bytes travel at all.
"""

from __future__ import annotations

import binascii
import re
from enum import Enum

from followup.core.classify import _VOCABULARY as _CLASSIFIER_VOCABULARY
from followup.core.classify import _bulk_header, _is_auto_reply
from followup.core.model import Message
from followup.core.senders import is_recruiting_sender, job_board_name, scheduler_name

__all__ = ["PROBE_BYTES", "BodyNeed", "body_need", "could_matter", "gmail_query", "mentions_job"]

#: How much of a ``PROBE`` message is looked at: the whole of nearly all personal mail, and of
#: larger mail the part that holds the text (the classifier itself reads only the first 6,000
#: characters of the text).
PROBE_BYTES = 64 * 1024


class BodyNeed(Enum):
    """What the sync fetches of a message, decided from its headers."""

    NONE = "none"    # headers are enough: list mail the classifier ignores
    PROBE = "probe"  # the first PROBE_BYTES, parsed only when mentions_job() says so
    FULL = "full"    # the body (up to the sync's candidate cap), parsed and classified


_HIRING_NAME = re.compile(r"\b(recruit\w*|talent|careers?|hiring|hr|human\s+resources|people\s+(?:team|ops))\b",
                          re.IGNORECASE)
_REPLY_SUBJECT = re.compile(r"\s*(re|aw|sv|fwd?)\s*:", re.IGNORECASE)
# The classifier's vocabulary gate (``_JOB_WORDS`` or ``_STRONG_INTERVIEW``, as one pattern with
# its alternatives grouped by first letter) run on lower-cased text: the words are written in
# lower case, and one case-sensitive pass is several times faster than IGNORECASE ones.
_VOCABULARY = re.compile(_CLASSIFIER_VOCABULARY.pattern)
# The same in ASCII mode, for ASCII text: ~1.5x faster again (\w and \b are a table lookup). On
# ASCII text the two match alike except that Unicode's \s also takes the separators \x1c-\x1f,
# so text holding one of those gets the Unicode pattern (test_prefilter.py checks both claims).
_VOCABULARY_ASCII = re.compile(_CLASSIFIER_VOCABULARY.pattern, re.ASCII)
_ASCII_SEPARATORS = (b"\x1c", b"\x1d", b"\x1e", b"\x1f")


def body_need(message: Message) -> BodyNeed:
    """Given a HEADERS-ONLY message (``text`` empty), return how much of its body the sync needs
    (the table in the module docstring). Recall first: anything the headers cannot rule out is
    at least probed."""
    sender = message.sender
    if is_recruiting_sender(sender) or job_board_name(sender) or scheduler_name(sender):
        return BodyNeed.FULL
    if message.calendar or "text/calendar" in message.header("content-type").lower():
        return BodyNeed.FULL
    # The classifier's own tests: auto-replies (out-of-office; "auto-generated" notifications
    # are just mail) and list mail.
    if _is_auto_reply(message):
        return BodyNeed.FULL
    if sender is not None and _HIRING_NAME.search(sender.name):
        return BodyNeed.FULL
    subject = message.subject or ""
    if _bulk_header(message):
        # The classifier's rule 3: list mail from a sender that does not recruit is "other"
        # whatever its body says. A reply sent with Precedence: bulk but no List-Id is still a
        # conversation.
        if not message.header("list-id") and _REPLY_SUBJECT.match(subject):
            return BodyNeed.PROBE
        return BodyNeed.NONE
    if _VOCABULARY.search(subject.lower()):
        return BodyNeed.FULL
    return BodyNeed.PROBE


def could_matter(message: Message) -> bool:
    """Given a HEADERS-ONLY message, return False only when its headers rule it out entirely."""
    return body_need(message) is not BodyNeed.NONE


_BASE64_PART = re.compile(rb"content-transfer-encoding:[ \t]*base64")
_SPACE = re.compile(rb"\s+")
_CALENDAR = (b"text/calendar", b"begin:vcalendar")  # both hold "calendar", looked for first
_LOWER = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")  # bytes.lower()
_LONE_CR = re.compile(rb"\r(?!\n)")
# Charsets whose text is not ASCII bytes. One search: "u" is rare enough for `re` to skip to,
# where three `in` tests would scan the probe three times (2x slower).
_WIDE_CHARSET = re.compile(rb"utf-(?:16|32)|ucs-2")
_PART_TYPE = re.compile(rb"content-type:\s*([a-z0-9.+-]+/[a-z0-9.+-]+)")
_HEADER_END = re.compile(rb"\r?\n\r?\n")


def mentions_job(raw: bytes) -> bool:
    """Given the first bytes of a raw message (headers and all; cut anywhere), return False only
    when nothing in its body could be job vocabulary the classifier needs (its ``_JOB_WORDS`` /
    ``_STRONG_INTERVIEW`` words): the body is searched as it is, with quoted-printable decoded,
    and inside base64 runs of text parts decoded; MIME part headers are left out. A calendar
    part always counts. The subject is the header prefilter's business. Never raises.

    False positives only cost a parse; a false negative hides a message from the classifier,
    so when in doubt (a charset that is not ASCII-compatible) the answer is True.
    """
    head = raw[:PROBE_BYTES]
    # Lines end in LF below (CRLF -> LF), and the text is looked at lower-cased. When every CR
    # ends a line (the norm), dropping all CRs is that replacement, done in the lower-casing pass
    # (twice as fast as the two); the original spelling (``data``) is only needed for base64.
    if _LONE_CR.search(head) is None:
        lowered = head.translate(_LOWER, b"\r")
    else:
        lowered = head.replace(b"\r\n", b"\n").lower()
    if (b"calendar" in lowered and any(marker in lowered for marker in _CALENDAR)) or b"application/ics" in lowered:
        return True
    if _WIDE_CHARSET.search(lowered):
        return True  # words are not ASCII bytes there
    end = lowered.find(b"\n\n")
    # Base64 parts are read decoded below (text) or not at all (attachments: 60 KB of base64
    # would cost more than the rest); MIME types say "application/pdf", not "application for".
    parts = lowered[end + 2 if end >= 0 else 0:].split(b"\n--")
    body = b"\n".join(p for n, p in enumerate(parts) if n == 0 or b"base64" not in p[:p.find(b"\n\n") + 1])
    body = body.replace(b"application/", b"mime/")
    if _says_job(body):
        return True
    if b"quoted-printable" in lowered and b"=" in body and _says_job(binascii.a2b_qp(body)):
        return True  # "inter=\nview", "R=C3=A9sum=C3=A9"
    data: bytes | None = None  # the probe with LF line ends, not lower-cased: made when needed
    # (a quick look for "base64" first spares most probes the pattern's slower scan)
    for found in (_BASE64_PART.finditer(lowered) if b"base64" in lowered else ()):
        # The header block around this Content-Transfer-Encoding, then the part's body up to the
        # next boundary line (or the end of the probe).
        head_start = lowered.rfind(b"\n\n", 0, found.start()) + 2 if found.start() > end else 0
        head_end = lowered.find(b"\n\n", found.end())
        if head_end < 0:
            continue
        types = _PART_TYPE.findall(lowered, head_start, head_end)
        if types and not types[-1].startswith(b"text/"):
            continue  # an attachment, an image
        if data is None:
            data = head.replace(b"\r\n", b"\n")
        body_end = data.find(b"\n--", head_end + 2)
        chunk = _SPACE.sub(b"", data[head_end + 2:body_end if body_end >= 0 else len(data)])
        chunk = chunk[: len(chunk) // 4 * 4]  # the probe may end inside the part
        try:
            decoded = binascii.a2b_base64(chunk)
        except (binascii.Error, ValueError):
            continue
        if _says_job(decoded.lower()):
            return True
    return False


def _says_job(lowered: bytes) -> bool:
    if lowered.isascii() and not any(separator in lowered for separator in _ASCII_SEPARATORS):
        return _VOCABULARY_ASCII.search(lowered.decode("ascii").lower()) is not None
    return _VOCABULARY.search(lowered.decode("utf-8", "replace").lower()) is not None


# Gmail's search matches whole words (no substrings), so the forms are spelled out; the list
# covers the same ground as the classifier's vocabulary.
GMAIL_WORDS = (
    "application", "applications", "applied", "applying", "candidacy", "candidate", "candidates",
    "position", "positions", "role", "roles", "opening", "vacancy", "recruiter", "recruiting",
    "recruitment", "recruiters", "hiring", "interview", "interviews", "interviewing", "interviewed",
    "interviewer", "interviewers", "resume", "résumé", "cv", "requisition", '"offer letter"',
    '"job offer"', '"offer of employment"', "internship", "internships", "onsite", "on-site",
    '"phone screen"', '"technical screen"', '"tech screen"', '"take-home"', "takehome", '"next round"',
    '"final round"', '"next stage"', '"second round"', '"hiring manager"', "superday", '"talent acquisition"',
    '"graduate scheme"', '"graduate program"', '"assessment center"', '"assessment centre"',
    '"portfolio review"', '"coding exercise"', '"screening call"', "recruit", "recruited",
    '"graduate programme"', '"final stage"', '"second stage"', '"third stage"', '"third round"',
    '"phone screening"', '"coding session"', '"coding interview"', '"technical conversation"',
    '"technical discussion"', '"technical call"', '"technical chat"', '"technical round"',
)


def gmail_query() -> str:
    """The Gmail search (X-GM-RAW / the API's ``q``) that finds the ``PROBE`` messages
    :func:`mentions_job` would pass: any of :data:`GMAIL_WORDS`, or a calendar invitation."""
    return "{" + " ".join(GMAIL_WORDS) + " filename:ics}"
