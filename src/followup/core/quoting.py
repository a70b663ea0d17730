"""The sender's own words: quoted history, forwarded blocks, signatures and footers removed.

A reply carries the whole thread below it; a rejection quoted under a friend's "so sorry to
hear that" must not make the friend's mail a rejection. These functions are pure text
transforms and never raise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Lines that open quoted history (everything from there on is someone else's words).
_QUOTE_HEADER = re.compile(
    r"""^\s*(
        -{2,}\s*(original\s+message|forwarded\s+message|weitergeleitete\s+nachricht|message\s+d'origine|mensaje\s+original)\s*-{2,}
      | begin\s+forwarded\s+message\s*:
      | _{10,}\s*$
      | (from|von|de|da)\s*:\s*\S.*\n\s*(sent|date|gesendet|datum|envoy[ée]|enviado)\s*:
    )""",
    re.IGNORECASE | re.VERBOSE | re.MULTILINE,
)
# "On Tue, Mar 3, 2026 at 9:14 AM Jane <jane@x.com> wrote:" (clients wrap it over two lines)
# and its French, German, Spanish, Dutch, Italian forms.
_ON_WROTE = re.compile(
    r"^\s*(on|le|am|el|op|il)\b[^\n]{0,200}?(\n[^\n]{0,200}?)?\b(wrote|a\s+écrit|schrieb|escribió|schreef|ha\s+scritto)\s*:\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_QUOTED_LINE = re.compile(r"^\s*>")
_SIG_DASHES = re.compile(r"^(--|__)\s*$")
_MOBILE_SIG = re.compile(r"^\s*(sent from my \w+|get outlook for \w+|sent from (mail|yahoo mail|outlook))", re.IGNORECASE)
_VALEDICTION = re.compile(
    r"^\s*(best|best regards|kind regards|warm regards|warmest regards|regards|many thanks|thanks|"
    r"thank you|thanks again|thanks so much|cheers|sincerely|yours sincerely|yours truly|"
    r"respectfully|all the best|best wishes|warmly|talk soon|take care|with gratitude|"
    r"mit freundlichen grüßen|viele grüße|cordialement|saludos|un saludo|groeten|"
    r"looking forward|speak soon|see you soon)\b[\s,.!]*$",
    re.IGNORECASE,
)
# Lines that are boilerplate whatever the sender: legal notices, unsubscribe and tracking footers.
_FOOTER_LINE = re.compile(
    r"(?=[uompytdv©(ae])(unsubscribe|opt[- ]out|manage (your )?(email )?preferences|privacy (policy|notice|statement)|"
    r"this (e-?mail|message) (and any attachments )?(is|are|may be) (confidential|intended)|"
    r"you are receiving this|you received this|this (e-?mail|message) was sent (to|by|from)|"
    r"do not reply to this|please do not reply|this (mailbox|inbox|email box|email address) is not monitored|"
    r"©|\(c\) ?\d{4}|all rights reserved|equal opportunity employer|view (this email )?in (your )?browser)",
    re.IGNORECASE,
)


def strip_quoted(text: str) -> str:
    """Given a plain-text body, return it without quoted history or forwarded messages.

    Cuts at the first quote header ("On … wrote:", "-----Original Message-----", an Outlook
    "From:/Sent:" block, "Begin forwarded message:") and drops ``>``-quoted lines.
    """
    if not text:
        return ""
    cut = len(text)
    for pattern in (_QUOTE_HEADER, _ON_WROTE):
        found = pattern.search(text)
        if found and found.start() < cut:
            cut = found.start()
    head = text[:cut]
    return "\n".join(line for line in head.split("\n") if not _QUOTED_LINE.match(line))


def split_signature(text: str) -> tuple[str, str]:
    """Given unquoted text, return ``(body, signature)``.

    The signature starts at a ``--`` line, a "Sent from my phone" line, or a closing line
    ("Best,", "Kind regards,", "Thanks,"…) that follows at least one line of real content.
    When none is found the signature is ''.
    """
    lines = text.split("\n")
    content_seen = 0
    for i, line in enumerate(lines):
        stripped = line.strip()
        if len(stripped) <= 40:
            if _SIG_DASHES.match(stripped) or _MOBILE_SIG.match(stripped):
                return "\n".join(lines[:i]), "\n".join(lines[i + 1 :])
            if content_seen and len(stripped) <= 30 and _VALEDICTION.match(stripped):
                return "\n".join(lines[:i]), "\n".join(lines[i:])
        elif _MOBILE_SIG.match(stripped):
            return "\n".join(lines[:i]), "\n".join(lines[i + 1 :])
        if not content_seen and stripped.count(" ") >= 3:
            content_seen = 1
    return text, ""


def drop_footer_lines(text: str) -> str:
    """Given text, return it without boilerplate footer lines (unsubscribe, legal notices…).

    A long line (a whole message flattened onto one line) is not dropped: it is cut where the
    boilerplate starts, when that is past its first half.
    """
    # One scan of the whole text, then only the lines that matched are looked at.
    matches = list(_FOOTER_LINE.finditer(text))
    if not matches:
        return text
    out: list[str] = []
    position = 0
    index = 0
    for line in text.split("\n"):
        line_end = position + len(line)
        while index < len(matches) and matches[index].start() < position:
            index += 1
        if index < len(matches) and matches[index].start() <= line_end:
            found_at = matches[index].start() - position
            if len(line) > 300:
                out.append(line[:found_at] if found_at > len(line) // 2 else line)
        else:
            out.append(line)
        position = line_end + 1
    return "\n".join(out)


@dataclass(frozen=True, slots=True)
class Reading:
    """One body cut into parts: ``unquoted`` (no quoted history), ``body`` and ``signature``
    (``unquoted`` split at the sign-off) and ``words`` (``body`` without footer lines)."""

    unquoted: str
    body: str
    signature: str
    words: str


@lru_cache(maxsize=32)
def read_parts(text: str) -> Reading:
    """Given a text body, return its :class:`Reading` (cached: classifier and extractor share it)."""
    unquoted = strip_quoted(text or "")
    body, signature = split_signature(unquoted)
    return Reading(unquoted, body, signature, drop_footer_lines(body).strip())


def new_words(text: str) -> str:
    """Given a message's text body, return the sender's own new words.

    Quoted history ("On … wrote:", ``>`` lines, "-----Original Message-----", forwarded blocks),
    the signature (from the closing line or ``--`` on) and footer boilerplate are removed.
    """
    return read_parts(text or "").words
