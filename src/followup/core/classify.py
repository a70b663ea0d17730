"""What an incoming message means for a job application (SPEC §1): label, confidence, evidence.

Pure rules over a normalised :class:`~followup.core.model.Message`: headers, calendar parts,
the sender's address, and phrases in the sender's own words (quoted history and signatures are
cut first, see :func:`new_words`). Every label is decided by a *job-specific* phrase, header,
calendar method or sender, never by a generic word ("unfortunately", "interview") alone, and
every phrase is read in its sentence: a phrase under "if …" / "should we …" is a condition, not
a decision ("if you are not selected, we will keep your resume on file" is an acknowledgement).

The decision table, first matching row wins (``DECISION_TABLE`` below spells it out for people):

====  ============================================================  ======================
 #    signal                                                         label
====  ============================================================  ======================
 1    sent by the mailbox owner; delivery report / bounce            other
 2    auto-reply header or "Automatic reply" subject + absence text  out_of_office
 3    List-Id / Precedence: bulk|list and no recruiting sender;      other
      no job word anywhere in subject or body
 4    calendar METHOD:CANCEL about an interview                      interview_cancelled
 5    calendar METHOD:REQUEST about an interview                     interview_scheduled
 6    "we need to cancel our interview" (no new time given)          interview_cancelled
 7    rejection phrase (not conditional)                             rejection
 8    confirmation phrase + a date and time ("confirmed for …")      interview_scheduled
 9    asks to schedule: availability, booking link, "invite you to   interview_invitation
      interview" (good news that asks to schedule lands here)
10    offer, next round, reference request, assessment invitation    positive
11    "still interviewing … expect to decide by <date>"              timeline_update
12    "we received your application" / "your application was sent"  acknowledgement
13    anything else (alerts, cold outreach, newsletters, spam)       other
====  ============================================================  ======================

Cold recruiter outreach and job alerts veto rows 8–12 unless the message refers to the user's
own application or interview; non-job context (loans, prizes, marketing) vetoes rows 4–12. An
offer is never turned into an invitation by a "happy to set up a call" line. A phrase inside
quotation marks is reported speech (a newsletter quoting a rejection), not a decision. Mail with
List-Unsubscribe from a sender that does not recruit loses 0.25 confidence: it lands below the
threshold, in the digest's "please confirm" list, rather than producing a draft.

Confidence: each phrase group carries a weight (0.8–0.95, the more specific the higher); a
recruiting sender (ATS, hiring mailbox) adds a little, a second agreeing phrase adds a little,
a missing element (a confirmation without a readable time, a status update without a date)
puts the result below :data:`DEFAULT_CONFIDENCE_THRESHOLD`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timezone

from followup.core.model import Classification, Label, Message
from followup.core.quoting import Reading, new_words, read_parts
from followup.core.senders import (
    ats_name,
    is_hiring_mailbox,
    is_recruiting_sender,
    job_board_name,
    scheduler_name,
)
from followup.core.textdates import find_datetimes, find_timeline_phrase

__all__ = [
    "DEFAULT_CONFIDENCE_THRESHOLD",
    "DECISION_TABLE",
    "classify",
    "new_words",
]

#: Below this confidence nothing is drafted; the message goes to the digest's "please confirm".
DEFAULT_CONFIDENCE_THRESHOLD = 0.6

#: The rows of the module docstring's table, for ``--help`` style listings and tests.
DECISION_TABLE: tuple[tuple[str, Label], ...] = (
    ("sent by the user / delivery report", Label.OTHER),
    ("auto-reply with absence text", Label.OUT_OF_OFFICE),
    ("mailing list or bulk mail from a non-recruiting sender", Label.OTHER),
    ("calendar CANCEL about an interview", Label.INTERVIEW_CANCELLED),
    ("calendar REQUEST about an interview", Label.INTERVIEW_SCHEDULED),
    ("cancellation phrase without a new time", Label.INTERVIEW_CANCELLED),
    ("rejection phrase", Label.REJECTION),
    ("confirmation phrase with a date and time", Label.INTERVIEW_SCHEDULED),
    ("scheduling request: availability, booking link, invitation to interview", Label.INTERVIEW_INVITATION),
    ("offer, next round, references, assessment", Label.POSITIVE),
    ("still deciding, with a new decision date", Label.TIMELINE_UPDATE),
    ("application received", Label.ACKNOWLEDGEMENT),
    ("anything else", Label.OTHER),
)

# Only the start of a long body is read: what decides a label is always near the top, and a
# 100 kB newsletter must not cost more than a short note.
_READ_CHARS = 6000
_MAX_CHARS = 3000

_I = re.IGNORECASE


def _rx(*parts: str) -> re.Pattern[str]:
    # MULTILINE: "^Confirmed:" style cues hold for the subject and for any line of the body.
    return re.compile(_alternation(parts), _I | re.MULTILINE)


def _alternation(parts: tuple[str, ...] | list[str]) -> str:
    r"""``(?:p1)|(?:p2)|…``, except that consecutive parts which all start with ``\b`` share one:
    ``\b(?:(?:p1)|(?:p2))``. The matches are the same (the parts are tried in the same order at
    the same position), but ``re`` tests the word boundary once per position instead of once
    per part, and most positions are not at one; that alone makes a phrase table ~1.5x faster.
    A part that is itself an alternation (``\ba|\bb|c``) counts as its branches, in order."""
    out: list[str] = []
    bounded: list[str] = []
    for part in (*(b for p in parts for b in _top_level_branches(p)), None):
        if part is not None and part.startswith(r"\b"):
            bounded.append(part[2:])
            continue
        if bounded:
            out.append(r"\b(?:" + "|".join(f"(?:{p})" for p in bounded) + ")")
            bounded = []
        if part is not None:
            out.append(f"(?:{part})")
    return "|".join(out)


def _top_level_branches(pattern: str) -> list[str]:
    """Split a regular expression at its top-level ``|`` (not inside a group or a ``[…]`` set).
    Raises ValueError when its parentheses do not pair up."""
    branches: list[str] = []
    depth = 0
    start = 0
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            # a set: "]" right after "[" or "[^" is a member, not the end
            i += 2 if pattern.startswith("[^", i) else 1
            if pattern.startswith("]", i):
                i += 1
            while i < len(pattern) and pattern[i] != "]":
                i += 2 if pattern[i] == "\\" else 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced parenthesis in {pattern!r}")
        elif c == "|" and depth == 0:
            branches.append(pattern[start:i])
            start = i + 1
        i += 1
    if depth:
        raise ValueError(f"unbalanced parenthesis in {pattern!r}")
    branches.append(pattern[start:])
    return branches


def _by_first_letter(*patterns: str) -> str:
    r"""One ``\b(?:…)\b`` that matches a text exactly when one of ``patterns`` (each written
    ``\b(…)\b``) does, its alternatives grouped by their first letter
    (``a(?:pplied|pplying)|c(?:v|andidacy)|…``): at each word ``re`` tries only those that can
    start there, which makes a search about twice as fast. For yes/no questions only: the span
    it finds may be another one than the patterns' own."""
    groups: dict[str, list[str]] = {}
    others: list[str] = []
    for pattern in patterns:
        if not (pattern.startswith(r"\b(") and pattern.endswith(r")\b") and not pattern.startswith(r"\b(?")):
            raise ValueError(f"not a \\b(…)\\b pattern: {pattern!r}")
        for branch in _top_level_branches(pattern[3:-3]):  # raises unless "(" … ")" enclose it all
            first = branch[:1]
            if "a" <= first <= "z" and branch[1:2] not in ("?", "*", "+", "{"):
                groups.setdefault(first, []).append(branch[1:])
            else:
                others.append(branch)
    grouped = [f"{first}(?:{'|'.join(rests)})" for first, rests in groups.items()]
    return r"\b(?:" + "|".join(grouped + others) + r")\b"


# --- vocabulary --------------------------------------------------------------------------------

_INTERVIEW_NOUN = (
    r"(?:interview|phone\s+screen|screening\s+call|screening|tech(?:nical)?\s+screen|recruiter\s+(?:call|screen|chat)|"
    r"intro(?:ductory)?\s+call|on-?site|final\s+round|panel|hiring\s+manager\s+(?:call|chat|conversation|interview)|"
    r"video\s+call|zoom\s+call|teams\s+call|phone\s+call|coding\s+(?:session|interview)|case\s+(?:study|interview)|"
    r"pair(?:ing)?\s+(?:session|programming)|culture\s+(?:fit|add|chat)|conversation|call|chat|meeting)"
)
_STRONG_INTERVIEW = re.compile(
    r"\b(interview\w*|phone\s+screen\w*|screening\s+call|tech(nical)?\s+screen|recruiter\s+(call|screen)|on-?site\s+(interview|loop|visit)|"
    r"final\s+round|hiring\s+manager|coding\s+(interview|exercise|session)|panel\s+interview|superday|"
    r"technical\s+(conversation|discussion|call|chat|round)|portfolio\s+review)\b",
    _I,
)
# Words without which no message is about the user's own application ("job", "career" and
# "opportunity" alone are too common in marketing to count).
_JOB_WORDS = re.compile(
    r"\b(applications?|applied|applying|candidacy|candidates?|positions?|roles?|opening|vacancy|"
    r"recruit\w*|hiring|talent\s+acquisition|interview\w*|r[ée]sum[ée]|cv|requisition|offer\s+letter|job\s+offer|"
    r"offer\s+of\s+employment|internships?|graduate\s+(?:scheme|program(?:me)?)|assessment\s+cent(?:re|er)|"
    r"take-?home|(?:next|final|second|third)\s+(?:stage|round)|phone\s+screen|tech(?:nical)?\s+screen|on-?site)\b",
    _I,
)
# "Any job word at all?" (``_JOB_WORDS`` or ``_STRONG_INTERVIEW``) in one search.
_VOCABULARY = re.compile(_by_first_letter(_JOB_WORDS.pattern, _STRONG_INTERVIEW.pattern), _I)
_OWN_APPLICATION = re.compile(
    r"\b(your\s+(application|candidacy|interview|resume|cv|submission)|thank(?:s|\s+you)\s+for\s+(?:applying|your\s+(?:recent\s+)?application|your\s+interest\s+in\s+the)|"
    r"thank(?:s|\s+you)\s+(?:so\s+much\s+|again\s+)?for\s+(?:reaching\s+out|getting\s+in\s+touch|your\s+(?:kind\s+)?(?:note|e-?mail|message))|"
    r"you\s+(applied|interviewed|spoke|met)|(?:for|to)\s+the\s+[\w ,&/-]{2,60}?\s+(position|role|opening|job)|"
    r"the\s+team\s+(enjoyed|was\s+impressed)|speaking\s+with\s+you|meeting\s+with\s+you)\b",
    _I,
)
_COLD_OUTREACH = _rx(
    r"\b(i|we)\s+(came\s+across|found|saw|noticed)\s+your\s+(profile|resume|cv|background|linkedin|github)",
    r"\bare\s+you\s+(open|interested)\s+(to|in)\s+(new|exploring|hearing|a\s+new|other)",
    r"\b(my|our)\s+client\b",
    r"\b(w2|c2c|c2h|corp\s+to\s+corp|contract\s+to\s+hire)\b",
    r"\bi\s+(found|have)\s+a\s+(job|role|position|opportunity)\s+(that\s+)?(you\s+may|i\s+think|which|that\s+could)",
    r"\b(send|share)\s+(me\s+)?(your\s+)?(most\s+)?(updated|up\s+to\s+date|latest|current)\s+(resume|cv)",
    r"\bis\s+this\s+a\s+role\s+you('re|\s+are)\s+interested",
    r"\bjobs?\s+(you\s+may\s+be\s+interested\s+in|matching\s+your|recommended\s+for\s+you|for\s+you\b)",
    r"\bnew\s+jobs?\s+(for|matching|near|similar)",
    r"\bjob\s+alert",
    r"\brecommended\s+jobs?\b",
    r"\bbased\s+on\s+your\s+(profile|search|preferences|job\s+search)",
    r"\bstaffing\s+(firm|agency|and\s+placement)",
    r"\byour\s+(background|experience|profile|skill\s*set|skills)\s+(matches|fits|aligns|would\s+be\s+a\s+(great|good|strong)\s+(fit|match)|"
    r"looks\s+like\s+a\s+(great|good|strong)\s+(fit|match))",
    r"\bwe\s+(have|currently\s+have)\s+an?\s+(opening|position|role|opportunity)\s+(for|that|which)",
    r"\breaching\s+out\s+(because|about|regarding|to\s+see\s+if|with)\s+(an?\s+)?(exciting\s+)?(role|position|opportunity|opening)",
    r"\bwould\s+you\s+be\s+(open|interested)\s+(to|in)\s+(exploring|hearing|learning|a\s+(quick\s+)?(chat|call|conversation))",
    r"\bi\s+am\s+a\s+(technical\s+)?recruiter\s+(at|with|for)\b",
)
_NON_JOB = _rx(
    r"\b(loan|mortgage|refinanc\w*|credit\s+(card|score|report)|debt|lottery|sweepstake|jackpot|casino|prize|"
    r"viagra|pharmacy|weight\s+loss|crypto\w*|bitcoin|forex|stock\s+pick|insurance\s+quote)\b",
    r"\b(winner|you('ve|\s+have)\s+won|claim\s+your)\b",
    r"\b(make|earn)\s+(\$|money|up\s+to|extra|\d)",
    r"\bwork(ing)?\s+from\s+home\b.{0,40}\b(earn|\$|income|money)",
    r"\b(home-?based\s+business|multi-?level|mlm|residual\s+income|financial\s+freedom)\b",
    r"\$\s?\d{1,3}(,\d{3})+",
)
# A condition in front of a phrase turns a statement into a possibility.
_CONDITIONAL_BEFORE = re.compile(
    r"\b(if|unless|should\s+(we|you|your|the|there|it|this)|in\s+the\s+event|whether|in\s+case|once|when|whenever|"
    r"may|might|not\s+all|not\s+every|otherwise|even\s+though\s+we\s+may|candidates\s+who|those\s+who|anyone\s+who|"
    r"applicants\s+who|what\s+happens|be\s+notified|we\s+will\s+let\s+you\s+know|you\s+(?:would|will)\s+receive|would\s+be)\b",
    _I,
)
_FUTURE_PROMISE = re.compile(r"\b(will|'ll|would|shall|may|might|can)\b", _I)
_IF_QUESTIONS = re.compile(r"\bif\s+(?:you\s+have|there\s+are)\s+(?:any\s+)?(?:other\s+|further\s+)?(?:questions|concerns)", _I)
_CONDITIONAL_AFTER = re.compile(
    r"\b(if|should|once|when|in\s+case|in\s+the\s+event)\s+(your|you|we|there|the|a|it|our)\b|\bas\s+soon\s+as\b|"
    r"\bif\s+(selected|shortlisted|qualified|successful|appropriate|interested|there\s+is)",
    _I,
)


# --- phrase tables -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Rule:
    """A named group of phrases. ``cues``: lower-case fragments of which every phrase contains at
    least one; a text with none of them is not searched (a cheap test before the regex)."""

    name: str
    pattern: re.Pattern[str]
    weight: float
    cues: tuple[str, ...] = ()


# Cue fragments per rule (see ``_Rule.cues``): each phrase of the rule contains one of them.
_CUES: dict[str, tuple[str, ...]] = {
    "others chosen": ("other", "candidates", "applicants", "direction", "consideration", "credentials", "individual", "person"),
    "not selected": ("not", "unsuccessful"),
    "position filled or closed": ("filled", "closed", "cancel", "hold", "no longer", "hired", "selection", "pursuing", "offer", "filling", "closing"),
    "not a match": ("match", "fit", "qualified", "offer", "convinced", "align", "select"),
    "regret to inform (about the application)": ("regret", "sorry", "unfortunate"),
    "cancellation": ("cancel", "called off"),
    "interview confirmed": ("confirm", "schedul", "booked", "set", "see you", "speak", "talk", "chat", "looking forward", "down for", "invitation", "new event", "accepted", "moved", "locked", "details", "let", "remind", " is ", "move", "push", "shift"),
    "invites to interview": ("invit", "schedul", "set up", "arrange", "book", "organi", "find a time", "next step", "have you",
                            "bring you", "know you", "meet", "speak", "talk"),
    "booking link": ("link", "calendar", "page", "button", "schedul", "book", "slot", "calendly", "goodtime", "modernloop", "cal.com", "savvycal", "youcanbook", "time", "click"),
    "offer": ("offer", "congratulations"),
    "next round": ("round", "stage", "step", "phase", "congratulations", "forward with your", "selected", "shortlisted", "advanced", "progress", "passed", "moved forward", "continue with your", "proceed with your"),
    "reference request": ("referen", "referee"),
    "assessment invitation": ("assessment", "test", "challenge", "exercise", "assignment", "case study", "questionnaire", "hackerrank", "codility", "codesignal", "testgorilla", "coderpad", "pymetrics", "hirevue", "take-home", "take home"),
    "application received": ("receiv", "submitted", "sent", "delivered", "completed", "confirm", "receipt", "applied", "applying", "application"),
}


def _rule(name: str, weight: float, *patterns: str) -> _Rule:
    return _Rule(name, _rx(*patterns), weight, _CUES.get(name, ()))


_PERSON = r"(?:candidates?|applicants?|individuals?|people|profiles?|someone|somebody|finalists?|others\s+(?=whose|who|that))"
_MOVE = r"\b(?:move|moving|moved|go|going|proceed|proceeding|continue|continuing|progress|progressing|advance|advancing|pursue|pursuing|take|taking|consider|considering|invite|inviting)"

REJECTION_RULES: tuple[_Rule, ...] = (
    _rule("others chosen", 0.95,
          _MOVE + r"\s+(?:forward\s+|ahead\s+|further\s+)?(?:with\s+|on\s+with\s+)?(?:other|another|a\s+different|different|more\s+qualified|the\s+other|a\s+small\s+number\s+of\s+other)\s+(?:\w+\s+){0,2}" + _PERSON,
          r"\b(?:other|another|different)\s+" + _PERSON + r"\s+(?:whose|who|that|with)\b[^.]{0,120}\b(?:more\s+closely|better|closer|best|stronger|more\s+(?:aligned|suited|relevant)|more\s+in\s+line|align)",
          r"(?:selected|chosen|identified|hired|found)\s+(?:an?(?:nother)?\s+|other\s+|the\s+)?(?:more\s+)?(?:\w+\s+)?" + _PERSON + r"\s+(?:whose|who|that)\b",
          r"\b(?:decided|chosen|opted|elected)\s+to\s+(?:pursue|move\s+forward\s+with|proceed\s+with|go\s+with)\s+(?:candidates|applicants)\s+(?:whose|who|that)",
          r"credentials\s+of\s+other\s+candidates",
          _MOVE + r"\s+(?:forward\s+|ahead\s+)?with\s+(?:the\s+)?(?:others|candidates|applicants)\s+(?:whose|who|that)\b",
          r"\b(?:selected|chosen|hired|identified|offered\s+the\s+(?:position|role)\s+to)\s+(?:another|a\s+different|other)\s+(?:\w+\s+)?(?:candidate|applicant|person|individual)s?\b",
          r"\b(?:going|go|gone|move|moving)\s+in\s+a\s+(?:different\s+)?direction\s+that\s+better",
          r"\bending\s+consideration\s+of",
          r"\b(?:go|going|gone|went|move|moving|moved)\s+in\s+(?:a\s+)?(?:different|another|other)\s+direction",
          r"\b(?:another|other|a\s+different)\s+(?:candidate|applicant)s?\s+(?:was|were|is|are|would\s+be)\s+(?:a\s+)?(?:stronger|better|closer|more\s+suitable|more\s+aligned)"),
    _rule("not moving forward with you", 0.95,
          r"(?:\bnot|n't|\bunable\s+to|\bno\s+longer)\s+(?:be\s+)?(?:able\s+to\s+)?" + _MOVE + r"\s+(?:forward\s+|ahead\s+|further\s+)?(?:with\s+)?(?:your|you)\b(?!\s+(?:know|updated|posted|informed))",
          r"\b(?:decided|chosen|opted|elected|made\s+the\s+(?:difficult\s+)?decision|determined)\s+(?:not\s+to|to\s+not)\s+(?:move\s+(?:forward|ahead)|proceed|progress|pursue|continue|advance|take|invite|hire|offer|extend)",
          r"\bnot\s+(?:be\s+)?(?:moving|proceeding|progressing)\s+(?:forward|ahead|further)\s+(?:with\s+)?(?:your|you|at\s+this\s+time|in\s+the\s+process|in\s+our\s+process|this\s+time)",
          r"\b(?:we|i)\s+(?:are|am|will|have|'ve|'re|'ll)\s+not\s+(?:be\s+)?(?:moving|proceeding)\s+(?:forward|ahead)",
          r"\bnot\s+(?:be\s+)?(?:taking|take)\s+your\s+application\s+(?:any\s+)?further",
          r"\bwill\s+not\s+(?:be\s+)?(?:considering|considered)\s+(?:your|you)",
          r"\bno\s+longer\s+(?:be\s+)?(?:being\s+)?considered",
          r"\bnot\s+(?:take|taking|invite|inviting|move|moving)\s+you\s+to\s+the\s+next",
          r"\bnot\s+(?:to\s+)?take\s+your\s+application\s+(?:for\s+[^.]{0,60}\s+)?further",
          r"\bdecided\s+not\s+to\s+hire\s+anyone",
          r"\b(?:decided|chosen|opted)\s+(?:not\s+to|to\s+not)\s+(?:move|progress|advance|take)\s+(?:your\s+(?:application|candidacy|profile)|you)\s+(?:forward|further|ahead)",
          r"\b(?:unable|not\s+able|cannot|can't)\s+to\s+(?:further\s+)?consider\s+(?:you|your)\b",
          r"\b(?:unable|not\s+able)\s+to\s+consider\s+you\s+(?:for|further)"),
    _rule("not selected", 0.9,
          r"\b(?:you|your\s+(?:application|candidacy|profile|resume|cv|submission))\s+(?:was|were|has|have|had)\s+not\s+(?:been\s+)?(?:selected|chosen|shortlisted|successful)",
          r"\b(?:you|your\s+(?:application|candidacy|resume|profile))\s+(?:was|were|has\s+been|have\s+been)\s+unsuccessful",
          r"\b(?:although|while)\s+you\s+were\s+not\s+(?:selected|chosen)",
          r"\bnot\s+been\s+(?:selected|chosen|shortlisted)\s+(?:to|for)\s+(?:continue|move|proceed|the\s+next|further|an?\s+interview)",
          r"\bnot\s+(?:been\s+)?selected\s+for\s+(?:the\s+next|further|an?\s+interview|this\s+(?:position|role))",
          r"\bnot\s+been\s+chosen\s+for\s+further\s+consideration",
          r"\byour\s+application\s+was\s+not\s+selected"),
    _rule("position filled or closed", 0.9,
          r"\b(?:position|role|job|opening|vacancy|requisition|req)\s+(?:you\s+applied\s+(?:for|to)\s+)?(?:has|have|is|was)\s+(?:now\s+)?(?:been\s+)?(?:filled|closed|cancell?ed|put\s+on\s+hold|no\s+longer\s+(?:available|open))",
          r"\b(?:we|i)\s+(?:have|'ve)\s+(?:just\s+|recently\s+|now\s+)?(?:filled|closed)\s+(?:this|the|that|our)\s+(?:[^.]{0,80}?\s+)?(?:position|role|opening|vacancy|internships?)",
          r"\b(?:position|role|opening|vacancy)\s*,\s*[^,.]{1,80},?\s*(?:has|have|is|was)\s+(?:now\s+)?(?:been\s+)?(?:filled|closed|cancell?ed|put\s+on\s+hold)",
          r"\b(?:just|recently|already)\s+(?:hired|filled)\b",
          r"\bhave\s+hired\s+(?:someone|another|a\s+candidate)",
          r"\b(?:this|the)\s+position\s+is\s+no\s+longer\s+available",
          r"\bmade\s+a\s+(?:hiring\s+)?selection\s+for\s+this\s+(?:position|role)",
          r"\bstop\s+pursuing\s+candidates",
          r"\bno\s+longer\s+(?:recruiting|hiring|accepting\s+candidates)\s+for\s+(?:the|this)\b",
          r"\b(?:filled|filling|closed|closing)\s+the\s+(?:position|role|opening)\s+with\s+(?:another|other|a\s+different)",
          r"\b(?:have|has)\s+closed\s+the\s+(?:position|role|opening|requisition)",
          r"\b(?:extended|accepted)\s+an?\s+offer\s+(?:to|from)\s+(?:another|a\s+different|other)\s+candidate"),
    _rule("not a match", 0.85,
          r"\b(?:you\s+are|you're|we\s+are|we're|aren't|are\s+not|were\s+not|is\s+not)\s+not?\s*(?:a|the)?\s*(?:right\s+|strong\s+|good\s+|close\s+)?(?:match|fit)\s+(?:for\s+(?:this|the)|at\s+this\s+time)",
          r"\b(?:we|you|it|this)\s+(?:are|is)\s+not\s+a\s+(?:good\s+|strong\s+|right\s+)?(?:match|fit)\b",
          r"\bnot\s+(?:a|the)\s+(?:right\s+|good\s+|strong\s+)?(?:match|fit)\s+(?:at\s+this\s+time|for\s+(?:this|the)\s+(?:position|role|opening))",
          r"\bnot\s+the\s+most\s+qualified",
          r"\bfelt\s+that\s+you\s+were\s+not\s+a\s+match",
          r"\bunable\s+to\s+offer\s+you\s+(?:a|an|the)\s+(?:position|interview|role|place|offer|spot)",
          r"\bunable\s+to\s+(?:extend|make)\s+(?:you\s+)?an\s+offer",
          r"\bwill\s+(?:not|be\s+unable\s+to)\s+(?:be\s+)?(?:extend|extending|offer|offering)\s+(?:you\s+)?an?\s+offer",
          r"\bnot\s+fully\s+convinced",
          r"(?:\bis\s+not|\bisn't|\bwas\s+not|\bwasn't|\bit\s+is\s+not)\s+(?:a|the)\s+(?:good\s+|strong\s+|right\s+|strongest\s+|close\s+)?(?:match|fit)\s+(?:for|with)\s+(?:what|your|the\s+(?:position|role)|this\s+(?:position|role)|our)",
          r"\bnot\s+the\s+(?:strongest|best|right)\s+(?:match|fit)\b",
          r"\bnot\s+feel\s+(?:that\s+)?(?:it\s+is|you\s+are|your\s+\w+\s+(?:is|are))\s+a\s+(?:good\s+|strong\s+|close\s+)?(?:match|fit)",
          r"\b(?:do|does)\s+not\s+(?:align|match)\s+(?:with\s+)?(?:our|the)\s+(?:specific\s+|current\s+)?(?:needs|requirements)",
          r"\b(?:unable|not\s+able)\s+to\s+offer\s+you\s+(?:further\s+consideration|employment|an?\s+(?:position|role|job|offer|place)|any\s+position|the\s+(?:position|role|job))",
          r"\bdid\s+not\s+select\s+(?:you|it|your)\b"),
    _rule("regret to inform (about the application)", 0.85,
          r"\b(?:regret|sorry|unfortunate\s+news)\s+to\s+(?:inform|let\s+you\s+know|tell|advise|share|say)\b[^.]{0,160}\b(?:not|unable|other\s+candidates|unsuccessful|won't|filled|closed)\b",
          r"\bregrettably\b[^.]{0,120}\b(?:other\s+candidates|not\s+(?:be\s+)?(?:moving|selected|proceed))"),
)

CANCEL_RULES: tuple[_Rule, ...] = (
    _rule("cancellation", 0.9,
          r"\b(?:need|have|had|must|'ll\s+have|forced)\s+to\s+cancel\s+(?:our|the|your|this|tomorrow's|today's|(?:mon|tues|wednes|thurs|fri)day's)\s+(?:\w+\s+){0,3}?" + _INTERVIEW_NOUN,
          r"\b" + _INTERVIEW_NOUN + r"\s+(?:\([^)]*\)\s+)?(?:on\s+[^.]{0,40}\s+)?(?:has\s+been|is|was|have\s+been)\s+(?:cancell?ed|called\s+off)",
          r"\b(?:we\s+are|we're|i\s+am|i'm)\s+cancell?ing\s+(?:our|the|your)\s+(?:\w+\s+){0,3}?" + _INTERVIEW_NOUN,
          r"^\s*(?:cancell?ed(?:\s+event)?|event\s+cancell?ed|cancellation|canceled\s+invitation)\s*:",
          r"\b(?:interview|event|meeting|invitation)\s+(?:has\s+been\s+)?cancell?ed\s*:"),
)
RESCHEDULE = re.compile(r"\b(re-?schedul\w*|moved?\s+(?:it\s+)?to|new\s+time|push(?:ed)?\s+(?:it\s+)?(?:back\s+)?to|instead)\b", _I)

SCHEDULED_RULES: tuple[_Rule, ...] = (
    _rule("interview confirmed", 0.9,
          r"\b" + _INTERVIEW_NOUN + r"\s+(?:(?:with|for)\s+[^.]{1,60}?\s+)?(?:is|has\s+been|was|are|have\s+been)\s+(?:now\s+|officially\s+)?(?:confirmed|scheduled|booked|set|re-?scheduled|moved|locked\s+in)",
          r"\blet\s+us\s+(?:lock\s+in|go\s+with|book|confirm|plan\s+on|pencil\s+in)\b",
          r"\b(?:confirm|confirms|confirming|confirmation\s+of|to\s+confirm)\s+(?:your|the|our)\s+(?:\w+\s+){0,3}?" + _INTERVIEW_NOUN,
          r"\b(?:you(?:'re|\s+are)|you\s+have\s+been|you've\s+been)\s+(?:now\s+|all\s+)?(?:scheduled|booked|confirmed|set)\s+(?:for|to|in)\b",
          r"\b" + _INTERVIEW_NOUN + r"\s+(?:confirmation|confirmed|scheduled|details)\b",
          r"^\s*(?:confirmed|invitation|updated\s+invitation|new\s+event|scheduled|booked)\s*:",
          r"\b(?:see|speak|talk|chat)\s+(?:to|with)\s+you\s+(?:then|on|at|tomorrow|next)",
          r"\blooking\s+forward\s+to\s+(?:speaking|meeting|talking|chatting)\s+with\s+you\s+(?:on|at|tomorrow|next)",
          r"\bhave\s+(?:you\s+)?(?:down|booked|scheduled)\s+for\b",
          r"\b(?:has|have)\s+(?:accepted|booked|scheduled)\s+(?:your|the|an?)\s+(?:\w+\s+){0,2}?" + _INTERVIEW_NOUN,
          r"\bwe\s+are\s+all\s+set\s+for",
          r"\b(?:reminder|reminding\s+you)\b[^.]{0,60}\b(?:interview|phone\s+screen|call|meeting)",
          r"\byour\s+(?:[\w-]+\s+){0,2}?(?:interview|phone\s+screen|call)\s+(?:with\s+[^.]{1,40}?\s+)?is\s+(?:on|at|tomorrow|today|coming\s+up|this)\b",
          r"\b(?:re-?schedule|move|push|shift)\s+(?:our|the|your)\s+(?:[\w-]+\s+){0,2}?" + _INTERVIEW_NOUN + r"\s+(?:to|until)\s"),
)

INVITATION_RULES: tuple[_Rule, ...] = (
    _rule("invites to interview", 0.9,
          r"\b(?:like|love|want|happy|pleased|excited|glad|delighted)\s+to\s+(?:invite|have)\s+you\s+(?:to|for|in)\s+(?:\w+\s+){0,4}?(?!final\s+round)" + _INTERVIEW_NOUN,
          r"\b(?:like|love|want|happy|pleased|excited|glad)\s+to\s+schedule\s+you\s+(?:for|in)\b",
          r"\binvite\s+you\s+to\s+(?:an?\s+|the\s+|our\s+)?(?:\w+\s+){0,3}?(?:interview|phone\s+screen|conversation|call|chat|on-?site)",
          r"\b(?:invitation|invite)\s+to\s+(?:an?\s+)?(?:\w+\s+){0,2}?interview",
          r"\binterview\s+invitation\b",
          r"\b(?:like|love|want|happy|pleased|glad|excited)\s+to\s+(?:schedule|set\s+up|arrange|book|organi[sz]e|find\s+a\s+time\s+for)\s+(?:an?\s+|the\s+|your\s+|our\s+|some\s+time\s+for\s+)?(?:[\w-]+\s+){0,3}?" + _INTERVIEW_NOUN,
          r"\b(?:like|love|want)\s+to\s+(?:schedule|set\s+up|arrange|find)\s+(?:a\s+|some\s+)?time\s+to\s+(?:speak|talk|chat|meet|connect)",
          r"\bnext\s+step\s+(?:is|would\s+be|will\s+be)\s+(?:an?|to\s+(?:schedule|set\s+up|have))\s+(?:\w+\s+){0,4}?" + _INTERVIEW_NOUN,
          r"\b(?:schedule|book)\s+(?:your|an?)\s+(?:\w+\s+){0,2}?interview",
          # "they'd like to bring you in for a panel interview", "we would be glad to get to know
          # you in a first interview" (the "would be" is part of the phrase, not a condition)
          r"\b(?:would\s+be\s+|are\s+|am\s+)?(?:like|love|want|happy|pleased|excited|glad|delighted)\s+to\s+(?:bring\s+you\s+in|get\s+to\s+know\s+you(?:\s+better)?|meet\s+(?:with\s+)?you|speak\s+(?:with|to)\s+you|talk\s+(?:with|to)\s+you)\s+(?:in|for|at|during|over|through|via)\s+(?:an?\s+|the\s+|our\s+)?(?:[\w-]+\s+){0,3}?" + _INTERVIEW_NOUN),
    _rule("asks for availability", 0.85,
          r"\b(?:let\s+(?:me|us)\s+know|send\s+(?:me|us|over)|share|provide|reply\s+with|tell\s+(?:me|us)|suggest|propose)\s+(?:\w+\s+){0,3}?(?:availability|available\s+(?:times|slots|dates)|times?\s+(?:that\s+)?(?:work|suit)|(?:a\s+)?(?:few|couple|some)(?:\s+of)?\s+(?:[\w-]+\s+)?(?:times|slots|dates|options|windows))",
          r"\b(?:would|will|do|does|can|could)\s+(?:either|any|one)\s+of\s+(?:these|those|them|the\s+following)\s+(?:\w+\s+)?(?:work|suit|be\s+convenient)",
          r"\bwhat\s+(?:does|is)\s+your\s+(?:availability|schedule|calendar)",
          r"\bwhen\s+(?:are\s+you|would\s+you\s+be|might\s+you\s+be)\s+(?:available|free)",
          r"\b(?:are|would)\s+you\s+(?:be\s+)?(?:available|free)\s+(?:on|for|this|next|to|at|tomorrow|any|later|early|sometime|between|(?:mon|tues|wednes|thurs|fri)day)",
          r"\b(?:can|could|would)\s+you\s+(?:do|make|jump\s+on|hop\s+on|fit\s+in)\s+(?:a\s+)?(?:[\w-]+\s+){0,2}?(?:call|chat|interview|zoom|meeting|screen)",
          r"\b(?:do|does|would|will|can)\s+(?:any\s+of\s+)?(?:these|the\s+following|one\s+of\s+these|either|any)\s+(?:\w+\s+){0,2}?(?:times?|slots?|dates?|options?)\s+(?:work|suit)",
          r"\bwhich\s+(?:of\s+)?(?:these|the\s+following)\s+(?:times?|slots?|dates?)",
          # "which of these works best", "which date suits you", "which of the two dates would suit you"
          r"\bwhich\s+(?:of\s+(?:these|those|them|the\s+(?:\w+\s+)?(?:dates|times|slots|options|days))|(?:one|date|time|slot|option|day)s?)\s+(?:\w+\s+){0,2}?(?:works?|suits?|would\s+(?:work|suit|be\s+(?:best|better))|is\s+(?:best|better)|fits?)\b",
          # "would you have some time for a phone interview next week?"
          r"\b(?:would|do|will|might)\s+you\s+have\s+(?:some\s+|any\s+)?(?:time|a\s+few\s+minutes|\d+\s+minutes|(?:half\s+)?an?\s+hour)\s+(?:(?:for|to\s+do)\s+(?:an?\s+|the\s+)?(?:[\w-]+\s+){0,3}?" + _INTERVIEW_NOUN + r"|to\s+(?:talk|chat|speak|meet|connect))\b",
          r"\b(?:does|would|will|could)\s+(?:mon|tues|wednes|thurs|fri)day\s+(?:\w+\s+){0,4}?work\b"),
    _rule("booking link", 0.85,
          r"\b(?:use|click|via|through|with|using|visit)\s+(?:the|this|my|our)\s+(?:\w+\s+){0,2}?(?:link|calendar|calendly|page|button)\s+(?:below\s+|above\s+|here\s+)?to\s+(?:schedule|book|select|choose|pick|grab|reserve|sign\s+up\s+for\s+a\s+(?:time|slot))",
          r"\b(?:schedule|book|pick|select|choose|grab|reserve|find)\s+(?:a|your|an|the)\s+(?:\w+\s+){0,2}?(?:time|slot|time\s+slot|interview\s+time)\s+(?:that\s+works|that\s+suits|which\s+works|below|here|using|via|on\s+my|with\s+(?:me|us))",
          r"\bself-?schedul\w+",
          r"\bclick\s+(?:here|below|the\s+link|this\s+link)\s+to\s+(?:schedule|book|select|choose|pick|grab|reserve|find\s+a\s+time)",
          r"\bcalendly\.com/|\bgoodtime\.io/|\bmodernloop\.io/|\bcal\.com/|\bsavvycal\.com/|youcanbook\.me/",
          r"\bplease\s+(?:schedule|book)\s+(?:a|your|an|some)\b",
          r"\b(?:schedule|book)\s+(?:a\s+time|your\s+(?:interview|call|slot))\s+(?:here|below|now)"),
)

POSITIVE_RULES: tuple[_Rule, ...] = (
    _rule("offer", 0.95,
          r"\b(?:pleased|delighted|happy|thrilled|excited|glad)\s+to\s+(?:formally\s+)?(?:offer\s+you|extend\s+(?:you\s+)?(?:an?|this|our)\s+(?:\w+\s+)?offer|extend\s+to\s+you|make\s+you\s+an\s+offer|present\s+you\s+with\s+an\s+offer)",
          r"\b(?:would\s+like|would\s+love|want|'d\s+like)\s+to\s+(?:offer\s+you\s+(?:the|a|this)\s+(?:position|role|job)|extend\s+(?:you\s+)?an?\s+offer|make\s+you\s+an?\s+offer)",
          # "the team would like to offer you the Staff Analytics Engineer position", "we are
          # offering you the role of …", "excited to offer you a position as …"
          r"\b(?:like|love|want|pleased|delighted|happy|thrilled|excited|glad)\s+to\s+offer\s+you\s+(?:the|a|an|this)\s+(?:[\w&/,-]+\s+){0,6}?(?:position|role|job|place|spot)\b",
          r"\b(?:we\s+are|we're|are\s+(?:now\s+)?)\s*(?:formally\s+)?offering\s+you\s+(?:the|a|an|this)\s+(?:[\w&/,-]+\s+){0,6}?(?:position|role|job|offer)\b",
          r"\b(?:your|the|our|an?)\s+(?:formal\s+|official\s+|written\s+|verbal\s+)?offer\s+(?:letter|of\s+employment|package|details)\b",
          r"\b(?:verbal|formal|written)\s+offer\b",
          r"\bcongratulations\b[^.]{0,80}\b(?:offer|welcome\s+to\s+the\s+team)"),
    _rule("next round", 0.85,
          r"\b(?:move|moving|advance|advancing|progress|progressing|invite)\s+(?:you\s+|forward\s+)?(?:forward\s+)?(?:with\s+your\s+(?:application|candidacy)\s+)?(?:to|into|on\s+to|onto)\s+(?:the\s+)?(?:next|final|second|third|onsite|on-site|further)\s+(?:round|stage|step|phase|interview)",
          r"\b(?:you(?:'ve|\s+have)?|your\s+(?:application|candidacy|profile))\s+(?:been\s+|has\s+been\s+|have\s+been\s+)?(?:selected|shortlisted|advanced|moved\s+forward|progressed|passed)\s+(?:to|for|into|on\s+to|through)\s+(?:the\s+)?(?:next|final|second|third|further|an?\s+interview|the\s+interview)",
          r"\b(?:like|love|want|happy|pleased|excited)\s+to\s+(?:move|proceed|move\s+forward|continue|progress)\s+(?:forward\s+)?with\s+your\s+(?:application|candidacy)",
          r"\b(?:pleased|happy|excited|delighted|glad)\s+to\s+(?:let\s+you\s+know|inform\s+you|share|tell\s+you)\s+that\s+(?:you|your\s+(?:application|candidacy))\s+(?:have|has|'ve)?\s*(?:been\s+)?(?:selected|advanced|passed|progressed|moved)",
          r"\bnext\s+round\s+of\s+interviews\b(?![^.]{0,40}\bif\b)",
          r"\bcongratulations\b[^.]{0,60}\b(?:next|final)\s+(?:round|stage|step)"),
    _rule("reference request", 0.85,
          r"\b(?:provide|send|share|submit|forward|supply)\s+(?:us\s+)?(?:with\s+)?(?:the\s+)?(?:names\s+and\s+contact\s+(?:details|information)\s+(?:of|for)\s+)?(?:two|three|2|3|a\s+few|your|some|a\s+couple\s+of)?\s*(?:professional\s+)?(?:references|referees)",
          r"\breference\s+(?:check|checks|details|contacts)\b[^.]{0,60}\b(?:you|your)\b",
          r"\b(?:your|the)\s+references?\b[^.]{0,40}\b(?:contact\s+details|email\s+addresses|phone\s+numbers)"),
    _rule("assessment invitation", 0.8,
          r"\bnext\s+(?:step|stage)\s+(?:in|of)\s+(?:the|our|your)\s+(?:\w+\s+){0,2}?process\s+(?:is|will\s+be)\s+(?:an?|the|to\s+complete)\s+(?:\w+\s+){0,3}?(?:assessment|test|challenge|exercise|assignment|case\s+study|questionnaire)",
          r"\binvite\s+you\s+to\s+(?:complete|take|participate\s+in)\s+(?:an?|the|one\s+or\s+more|our|this)\s+(?:\w+\s+){0,3}?(?:assessments?|tests?|challenges?|exercises?|assignments?|questionnaires?)",
          r"\bplease\s+complete\s+(?:the|this|an?|your|our)\s+(?:\w+\s+){0,3}?(?:assessment|coding\s+challenge|challenge|take-?home|assignment|exercise)\b",
          r"\b(?:hackerrank|codility|codesignal|testgorilla|coderpad|pymetrics|hirevue)\b[^.]{0,80}\b(?:invite|invitation|complete|link)"),
)

TIMELINE_STATUS = _rx(
    r"\b(?:still|currently)\s+(?:in\s+the\s+(?:middle|process)\s+of\s+)?(?:interviewing|reviewing|evaluating|assessing|considering|finali[sz]ing|working\s+through|meeting\s+with|speaking\s+with|deliberating|deciding|gathering\s+feedback|collecting\s+feedback)",
    r"\b(?:process|decision|timeline|review)\s+(?:is|has\s+been)\s+(?:taking|delayed|pushed|extended)",
    r"\b(?:taking|take|takes)\s+(?:a\s+bit\s+|a\s+little\s+|slightly\s+|somewhat\s+)?longer\s+than\s+(?:expected|anticipated|planned|we\s+hoped)",
    # "we still have two more candidates in the process", "there are still a few applicants to meet"
    r"\b(?:still|currently)\s+(?:have\s+|has\s+)?(?:\w+\s+){0,2}?(?:candidates|applicants|finalists|people|interviews|conversations)\s+(?:in\s+(?:the|our)\s+(?:process|pipeline)|to\s+(?:meet|interview|see|speak\s+with)|(?:left\s+)?to\s+(?:complete|finish|go))",
    r"\b(?:finishing|wrapping\s+up|completing|concluding)\s+(?:up\s+)?(?:the\s+|our\s+)?(?:last|final|remaining)\s+(?:round\s+of\s+)?(?:interviews|conversations|meetings)",
    r"\bhaven'?t\s+forgotten\s+(?:about\s+)?you",
    r"\b(?:wanted|want)\s+to\s+(?:give\s+you\s+(?:a\s+(?:quick|short|brief)\s+|an\s+|a\s+)?(?:status\s+)?update|update\s+you|keep\s+you\s+(?:posted|updated|in\s+the\s+loop|informed)|let\s+you\s+know\s+where\s+(?:things|we)\s+stand|check\s+in)",
    r"\b(?:quick|brief|short)\s+(?:status\s+)?update\s+on\s+(?:your|the)\s+(?:application|candidacy|process|search|role)",
    r"\b(?:a\s+)?(?:quick|brief|short)\s+(?:status\s+)?update\s+so\s+(?:that\s+)?you\s+(?:are|were)\s+not\s+(?:left\s+)?(?:waiting|wondering)",
    r"\bno\s+(?:final\s+)?decision\s+(?:has\s+been|yet)",
    r"\bthank\s+you\s+for\s+your\s+patience",
)
TIMELINE_PROMISE = _rx(
    r"\b(?:expect|hope|plan|aim|intend)(?:s|ing)?\s+to\s+(?:be\s+able\s+to\s+)?(?:have|make|reach|share|give|send|finali[sz]e|communicate|come\s+to)\s+(?:(?:you|everyone|all\s+(?:the\s+)?candidates|candidates)\s+)?(?:a\s+|an\s+|our\s+|the\s+|its\s+|their\s+|some\s+|more\s+)?(?:final\s+)?(?:decision|update|answer|news|feedback)",
    r"\b(?:will|should|shall)\b[^.?!\n]{0,80}?\band\s+(?:get\s+back\s+to\s+you|be\s+in\s+touch|let\s+you\s+know|follow\s+up|circle\s+back)",
    r"\b(?:will|'ll|should|shall)\s+(?:be\s+able\s+to\s+)?(?:get\s+back\s+to\s+you|be\s+in\s+touch|let\s+you\s+know|update\s+you|follow\s+up|reach\s+out|circle\s+back|have\s+(?:an\s+update|a\s+decision|news|more\s+information|an\s+answer|feedback)|share\s+(?:an\s+update|feedback|our\s+decision|next\s+steps)|make\s+(?:a|our)\s+(?:final\s+)?decision|come\s+back\s+to\s+you|contact\s+you)",
    # what the candidate will receive must be news of the decision, not an offer letter or a form
    r"\byou\s+(?:should|will|can\s+expect\s+to|can\s+expect)\s+(?:to\s+)?(?:hear\b(?:\s+back|\s+from\s+us)*|receive\s+(?:back\s+|from\s+us\s+)?(?:an?\s+|our\s+|the\s+)?(?:final\s+)?(?:update|decision|answer|response|reply|feedback|news|word|outcome)\b)",
    r"\bdecision\s+(?:by|within|before|in\s+the\s+next|early|around|toward)",
    r"\b(?:final\s+)?decisions?\s+(?:will\s+be|are\s+expected\s+to\s+be|should\s+be)\s+(?:made|communicated|shared)",
)

ACK_RULES: tuple[_Rule, ...] = (
    _rule("application received", 0.9,
          r"\b(?:we(?:'ve|\s+have)?|i(?:'ve|\s+have)?)\s+(?:successfully\s+|now\s+)?received\s+(?:your|the)\s+(?:\w+\s+){0,2}?(?:application|r[ée]sum[ée]|cv|submission|candidacy|profile|information|details)",
          r"\b(?:application|submission|r[ée]sum[ée]|cv|candidacy)\s+(?:\([^)]*\)\s+)?(?:for\s+[^.]{1,80}?\s+)?(?:has|have|was|is)\s+(?:been\s+)?(?:successfully\s+)?(?:received|submitted|sent|delivered|completed|forwarded)",
          r"\bapplication\s+(?:was|has\s+been)\s+sent\s+to\b",
          r"\b(?:items|documents|application|r[ée]sum[ée])\s+(?:were|was|have\s+been)\s+sent\s+to\b",
          r"\bthis\s+(?:e-?mail|message|note)\s+(?:is\s+to\s+)?confirms?\s+(?:that\s+)?(?:we(?:'ve|\s+have)\s+)?(?:received|receipt\s+of)",
          r"\b(?:confirm|confirming|acknowledge|acknowledging)\s+(?:the\s+)?(?:that\s+)?(?:we\s+have\s+)?(?:receipt\s+of|received)\s+your",
          r"\byou(?:'ve|\s+have)\s+successfully\s+(?:applied|submitted|completed\s+(?:the|your)\s+(?:online\s+)?(?:application|submission))",
          r"\bsuccessfully\s+(?:applied|submitted\s+your\s+application)",
          r"^\s*(?:application\s+(?:received|confirmation|submitted)|thank\s+you\s+for\s+applying|thanks\s+for\s+applying)\b",
          r"\bwe\s+received\s+your\s+(?:job\s+)?application",
          r"\b(?:we\s+are|we're)\s+in\s+receipt\s+of\s+your",
          r"\byour\s+(?:assessment\s+)?(?:responses|answers)\s+(?:have|has)\s+been\s+received"),
    _rule("thanks for applying", 0.8,
          r"\b(?:thank\s+you|thanks)(?:\s+\w+)?\s+(?:so\s+much\s+|very\s+much\s+)?for\s+(?:applying|your\s+(?:recent\s+|online\s+|job\s+)?application|submitting\s+your\s+(?:application|r[ée]sum[ée]|cv|profile|information)|your\s+(?:recent\s+)?submission|your\s+interest\s+in\s+(?:the\s+)?[^.]{1,80}?\b(?:position|role|opening|job)\b)",
          r"\b(?:will|'ll|are\s+going\s+to)\s+(?:now\s+)?(?:carefully\s+)?(?:review|be\s+reviewing|evaluate|assess)\s+(?:your|the|all)\s+(?:\w+\s+){0,2}?(?:application|r[ée]sum[ée]|cv|qualifications|submission|profile|experience)",
          r"\b(?:is|are)\s+(?:currently\s+)?(?:being\s+)?(?:reviewed|reviewing|evaluating)\s+(?:your\s+)?(?:application|qualifications)",
          r"\byour\s+(?:application|r[ée]sum[ée]|information)\s+will\s+be\s+(?:carefully\s+)?reviewed",
          r"\b(?:by\s+)?(?:completing|submitting)\s+your\s+(?:online\s+)?application\b",
          r"\b(?:we|a\s+recruiter|recruiters|someone|one\s+of\s+our\s+recruiters|a\s+member\s+of\s+(?:our|the)\s+[\w ]{1,30}?team)\s+(?:will|'ll)\s+(?:contact|reach\s+out\s+to|be\s+in\s+touch\s+with|get\s+in\s+touch\s+with)\s+you\s+(?:directly\s+|shortly\s+)?(?:if|should|when|as\s+soon\s+as|in\s+case)\b"),
)

# "We are still interviewing" is read in the body alone (the subject says nothing of it).
_STATUS_RULES: tuple[_Rule, ...] = (_Rule("status update", TIMELINE_STATUS, 0.8),)

OOO_BODY = _rx(
    r"\bout\s+of\s+(?:the\s+)?office\b",
    r"\b(?:on|taking|currently\s+on)\s+(?:annual\s+|parental\s+|maternity\s+|paternity\s+|sick\s+|medical\s+|personal\s+)?(?:leave|vacation|holiday|holidays|pto|sabbatical)\b",
    r"\baway\s+from\s+(?:the\s+office|my\s+desk|work|my\s+email)",
    r"\blimited\s+(?:access\s+to|ability\s+to\s+(?:check|respond\s+to))\s+(?:e-?mail|messages|my\s+inbox)",
    r"\b(?:respond|reply|get\s+back\s+to\s+you|answer)\s+[^.]{0,40}\b(?:upon|on|after)\s+my\s+return",
    r"\b(?:i\s+am|i'm)\s+(?:currently\s+)?(?:out|away|off|travel+ing|unavailable|not\s+in\s+the\s+office)\b",
    r"\bwill\s+be\s+(?:back|returning)\s+(?:in\s+the\s+office\s+)?(?:on|at|from)\b",
    r"\bim\s+urlaub\b|\babwesend\b|\babsent\b",
)
OOO_SUBJECT = re.compile(
    r"^\s*(?:(?:re|aw|fw)\s*:\s*)?(?:automatic\s+reply|auto(?:matic)?[- ]?(?:reply|response)|out\s+of\s+(?:the\s+)?office|ooo\b|"
    r"abwesenheitsnotiz|réponse\s+automatique|respuesta\s+automática|away\s+from\s+(?:the\s+)?office|on\s+vacation|autosvar|"
    r"risposta\s+automatica|afwezig)",
    _I,
)
BOUNCE_SUBJECT = re.compile(
    r"^\s*(?:undeliver(?:able|ed)|delivery\s+(?:status\s+notification|failure|has\s+failed)|returned\s+mail|mail\s+delivery\s+failed|failure\s+notice)",
    _I,
)

# Curly quotes and apostrophes as plain ones, so "we’ve" reads like "we've".
_TYPOGRAPHY = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ", "\u2011": "-"})

_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n")


# --- searching lower-cased text -----------------------------------------------------------------
#
# Every phrase pattern in this module is written in lower case and compiled with IGNORECASE,
# which makes `re` fold the case of every character it compares (a phrase table runs ~1.7x
# slower than without). The same pattern without IGNORECASE (its lower-case twin), run on the
# text lower-cased once, finds exactly the same spans, provided the text holds none of the
# three characters on which str.lower() and IGNORECASE part ways: "İ" lower-cases to two
# characters (every later position would shift), and IGNORECASE matches "ı" and "ſ" to "i" and
# "s" where lower() leaves them be. tests/core/test_classify_lowered.py checks that claim
# character by character over all of Unicode; a text holding one of the three is searched with
# the patterns themselves.
_CASE_HAZARDS = ("\u0130", "\u0131", "\u017f")


@functools.cache
def _lower_twin(pattern: re.Pattern[str]) -> re.Pattern[str] | None:
    """The pattern without IGNORECASE, or None when that would not match the same on lower-cased
    text: an upper-case letter in it, an escape that could spell one, inline flags, ASCII mode.
    Compiled on first use (about 1 ms a pattern); called with this module's own patterns only,
    so the cache stays small."""
    source = pattern.pattern
    if (pattern.flags & (re.IGNORECASE | re.ASCII | re.LOCALE)) != re.IGNORECASE \
            or re.search(r"\\[xuUN0-9]|\(\?[aiLmsux-]|\(\?P", source):
        return None
    letters = re.sub(r"\\.", "", source)  # \S, \W, \B … are classes, not letters
    if letters != letters.lower() or any(c in letters for c in _CASE_HAZARDS):
        return None
    return re.compile(source, pattern.flags & ~re.IGNORECASE)


class _Text:
    """A text to search with this module's patterns: lower-cased once (see ``_lower_twin``),
    and each ``search`` done once however often the decision table asks."""

    __slots__ = ("text", "lowered", "_twins", "_found")

    def __init__(self, text: str) -> None:
        self.text = text
        self.lowered = text.lower()
        # str.isascii() is a flag lookup, not a scan
        self._twins = text.isascii() or not any(c in text for c in _CASE_HAZARDS)
        self._found: dict[re.Pattern[str], str | None] = {}

    def _pattern(self, pattern: re.Pattern[str]) -> tuple[re.Pattern[str], str]:
        twin = _lower_twin(pattern) if self._twins else None
        return (pattern, self.text) if twin is None else (twin, self.lowered)

    def spans(self, pattern: re.Pattern[str]) -> Iterator[tuple[int, int]]:
        """The spans ``pattern.finditer(text)`` gives."""
        compiled, text = self._pattern(pattern)
        return (m.span() for m in compiled.finditer(text))

    def search(self, pattern: re.Pattern[str]) -> str | None:
        """What ``pattern.search(text)`` matches (as the text spells it), or None."""
        if pattern not in self._found:
            compiled, text = self._pattern(pattern)
            m = compiled.search(text)
            self._found[pattern] = None if m is None else self.text[m.start() : m.end()]
        return self._found[pattern]


# --- helpers ------------------------------------------------------------------------------------

@dataclass(slots=True)
class _Hit:
    rule: str
    weight: float
    text: str


def _sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    lo = max(text.rfind(".", 0, start), text.rfind("\n", 0, start), text.rfind("!", 0, start), text.rfind("?", 0, start))
    found = _SENTENCE_END.search(text, end)
    hi = found.start() if found else len(text)
    return lo + 1, hi


_WRAPPED_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n[ \t]*\n|\n[ \t]*[-*•>]")


def _sentence_end(text: str, pos: int) -> int:
    """Where the sentence running at ``pos`` ends: a full stop, a blank line or a bullet (a
    hard-wrapped line break inside a sentence does not end it)."""
    found = _WRAPPED_SENTENCE_END.search(text, pos)
    return found.start() if found else len(text)


def _find(rules: tuple[_Rule, ...], t: _Text, *, strict_conditions: bool, conditions: bool = True) -> list[_Hit]:
    """Return the rules that match the text outside a conditional clause.

    A condition before the phrase ("if you are not selected …") always disqualifies it. With
    ``strict_conditions`` (invitations, positives), a promise that depends on a condition after
    it ("we will contact you to schedule an interview if your profile matches") does too.
    """
    hits: list[_Hit] = []
    text = t.text
    for rule in rules:
        if rule.cues and not any(cue in t.lowered for cue in rule.cues):
            continue
        for start, end in t.spans(rule.pattern):
            if not conditions:
                hits.append(_Hit(rule.name, rule.weight, " ".join(text[start:end].split())))
                break
            lo, hi = _sentence_bounds(text, start, end)
            before = text[lo:start]
            if _CONDITIONAL_BEFORE.search(before):
                continue
            if before.count('"') % 2 == 1:
                continue  # reported speech: a newsletter quoting "we've decided to move forward…"
            if strict_conditions:
                after = text[end:hi]
                if _IF_QUESTIONS.search(after):
                    continue  # "happy to set up a call if you have questions" offers help, not an interview
                if _CONDITIONAL_AFTER.search(after) and _FUTURE_PROMISE.search(text[lo:end]):
                    continue
            hits.append(_Hit(rule.name, rule.weight, " ".join(text[start:end].split())))
            break
    return hits


def _best(hits: list[_Hit]) -> _Hit | None:
    return max(hits, key=lambda h: h.weight) if hits else None


def _quote(hit: _Hit) -> str:
    text = hit.text if len(hit.text) <= 90 else hit.text[:87] + "…"
    return f'{hit.rule}: "{text}"'


def _clamp(value: float) -> float:
    return round(max(0.0, min(0.99, value)), 2)


def _is_auto_reply(message: Message) -> str | None:
    auto = message.header("auto-submitted").lower()
    if auto.startswith("auto-replied"):
        return f"header Auto-Submitted: {auto}"
    for name in ("x-autoreply", "x-autorespond"):
        if message.header(name):
            return f"header {name}: {message.header(name)[:40]}"
    precedence = message.header("precedence").lower()
    if precedence == "auto_reply":
        return "header Precedence: auto_reply"
    if OOO_SUBJECT.search(message.subject):
        return f'subject "{message.subject[:60]}"'
    return None


def _bulk_header(message: Message) -> str | None:
    if message.header("list-id"):
        return f"header List-Id: {message.header('list-id')[:50]}"
    precedence = message.header("precedence").lower()
    if precedence in ("bulk", "list", "junk"):
        return f"header Precedence: {precedence}"
    return None


def _sender_evidence(message: Message) -> str | None:
    sender = message.sender
    for label, name in (("ATS", ats_name(sender)), ("scheduling tool", scheduler_name(sender)),
                        ("job board", job_board_name(sender))):
        if name:
            return f"sender {label} {name} ({sender.email})"  # type: ignore[union-attr]
    if is_hiring_mailbox(sender):
        return f"sender hiring mailbox ({sender.email})"  # type: ignore[union-attr]
    return None


def _is_interview_event(message: Message, text: str) -> str | None:
    """Return why the message's calendar event is about an interview, or None."""
    for event in message.calendar:
        if _STRONG_INTERVIEW.search(event.summary) or _STRONG_INTERVIEW.search(event.location):
            return f'calendar summary "{event.summary[:60]}"'
    if is_recruiting_sender(message.sender):
        return _sender_evidence(message)
    for event in message.calendar:
        if event.organizer and is_recruiting_sender(event.organizer):
            return f"calendar organizer {event.organizer.email}"
    found = _STRONG_INTERVIEW.search(message.subject) or _STRONG_INTERVIEW.search(text[:3000])
    if found:
        return f'phrase "{found.group(0)}"'
    return None


# --- public API ---------------------------------------------------------------------------------

def classify(message: Message, *, user_addresses: frozenset[str] = frozenset()) -> Classification:
    """Given a normalised message and the mailbox owner's addresses, return its label, a
    confidence in 0..1 and the evidence (phrases, headers, calendar method, sender) that decided it.

    Never raises. The rows of the decision table in the module docstring are tried in order.
    """
    sender = message.sender
    subject = plain(message.subject or "")

    # 1. The user's own mail and delivery reports are never news about an application.
    if sender is not None and sender.email in user_addresses:
        return Classification(Label.OTHER, 0.95, (f"sent by the mailbox owner ({sender.email})",))
    if BOUNCE_SUBJECT.search(subject) or (sender is not None and sender.local_part.startswith(("mailer-daemon", "postmaster"))):
        return Classification(Label.OTHER, 0.9, ("delivery report",))

    # 2. Out of office: an auto-reply that says the person is away.
    auto = _is_auto_reply(message)
    automatic = message.header("auto-submitted").lower().startswith("auto")
    if auto or automatic:
        body = reading(message).words[:_MAX_CHARS]
        ooo_body = OOO_BODY.search(body[:1500]) or OOO_BODY.search(subject)
        if auto and ooo_body:
            return Classification(Label.OUT_OF_OFFICE, 0.95, (auto, f'phrase "{ooo_body.group(0)}"'))
        if ooo_body and len(body) < 700 and re.search(r"\b(until|return|back)\b", body, _I):
            return Classification(Label.OUT_OF_OFFICE, 0.75, (f'phrase "{ooo_body.group(0)}"', "automatic message"))

    # 3. Mailing lists and bulk mail from senders that do not recruit (decided on headers alone,
    # before the body is read at all).
    bulk = _bulk_header(message)
    recruiting = is_recruiting_sender(sender) or bool(job_board_name(sender))
    if bulk and not recruiting:
        return Classification(Label.OTHER, 0.9, (bulk,))

    # No job word anywhere, quoted history included: nothing below could match (a cheap scan of
    # the raw text spares reading the body of most non-job mail).
    if not (recruiting or message.calendar):
        raw = _Text((message.text or "")[:_READ_CHARS])
        if _VOCABULARY.search(subject) is None and raw.search(_VOCABULARY) is None:
            return Classification(Label.OTHER, 0.85, ("no job-application vocabulary",))

    body = reading(message).words[:_MAX_CHARS]
    sender_note = _sender_evidence(message)

    text = f"{subject}\n{body}"
    t = _Text(text)  # every phrase below is looked for in this text, lower-cased once
    job_context = bool(recruiting or t.search(_VOCABULARY) is not None)
    non_job = t.search(_NON_JOB)
    evidence_tail = tuple(e for e in (sender_note,) if e)

    # 4–5. Calendar invitations about an interview.
    events = [e for e in message.calendar if e.method in ("REQUEST", "CANCEL", "PUBLISH", "")]
    if events and non_job is None:
        why = _is_interview_event(message, body)
        if why:
            cancel = next((e for e in events if e.method == "CANCEL" or e.status == "CANCELLED"), None)
            if cancel is not None:
                return Classification(Label.INTERVIEW_CANCELLED, 0.95,
                                      (f"calendar METHOD:{cancel.method or 'none'} STATUS:{cancel.status or '-'}", why) + evidence_tail)
            event = events[0]
            seq = f" SEQUENCE:{event.sequence}" + (" (rescheduled)" if event.sequence > 0 else "")
            return Classification(Label.INTERVIEW_SCHEDULED, 0.95,
                                  (f"calendar METHOD:{event.method or 'none'}{seq}", why) + evidence_tail)

    if auto:
        # An automatic reply that does not say the person is away ("we got your email").
        return Classification(Label.OTHER, 0.7, (auto, "automatic reply without absence"))

    if non_job is not None or not job_context:
        reason = f'non-job context "{non_job}"' if non_job is not None else "no job-application vocabulary"
        return Classification(Label.OTHER, 0.85, (reason,))

    cold = t.search(_COLD_OUTREACH)
    own = t.search(_OWN_APPLICATION) is not None
    unsolicited = cold is not None and not own
    bonus = 0.04 if recruiting else 0.0
    if message.header("list-unsubscribe") and not recruiting:
        # Marketing-style mail from a sender that does not recruit: whatever it says, ask the
        # user before acting on it.
        bonus = -0.25
        evidence_tail += ("header List-Unsubscribe from a non-recruiting sender",)

    # 6. Cancellation (a cancellation that names a new time is a reschedule: row 8).
    cancel_hit = _best(_find(CANCEL_RULES, t, strict_conditions=False))
    times = None
    if cancel_hit and t.search(_STRONG_INTERVIEW) is not None:
        times = find_datetimes(body, ref=message.date, tz=timezone.utc) if message.date else []
        if not (RESCHEDULE.search(body) and times):
            return Classification(Label.INTERVIEW_CANCELLED, _clamp(cancel_hit.weight + bonus), (_quote(cancel_hit),) + evidence_tail)

    # 7. Rejection.
    rejection = _find(REJECTION_RULES, t, strict_conditions=False)
    if rejection:
        best = _best(rejection)
        assert best is not None
        confidence = best.weight + bonus + (0.03 if len(rejection) > 1 else 0.0)
        return Classification(Label.REJECTION, _clamp(confidence), tuple(_quote(h) for h in rejection[:3]) + evidence_tail)

    # 8. Confirmed interview with a date and time.
    scheduled = _best(_find(SCHEDULED_RULES, t, strict_conditions=True))
    if scheduled and (t.search(_STRONG_INTERVIEW) is not None or recruiting or scheduler_name(sender)) and not unsolicited:
        if times is None:
            times = find_datetimes(text, ref=message.date, tz=timezone.utc) if message.date else []
        if times:
            return Classification(Label.INTERVIEW_SCHEDULED, _clamp(scheduled.weight + bonus),
                                  (_quote(scheduled), f'time "{times[0].text.strip()[:60]}"') + evidence_tail)

    # 9. Invitation to schedule (including good news that asks for availability or a booking).
    invitation = _find(INVITATION_RULES, t, strict_conditions=True)
    interview_word = t.search(_STRONG_INTERVIEW) is not None
    positive = _find(POSITIVE_RULES, t, strict_conditions=True)
    offer = any(h.rule == "offer" for h in positive)
    # Good news becomes an invitation only when it itself asks to schedule (availability, a
    # booking link); "we'd like to invite you to the next round" alone is good news.
    asks = [h for h in invitation if h.rule != "invites to interview"]
    if invitation and not unsolicited and not offer and (asks or not positive):
        best = _best(invitation)
        assert best is not None
        confidence = best.weight + bonus + (0.0 if interview_word or own or positive else -0.1)
        ev = tuple(_quote(h) for h in invitation[:3])
        if positive:
            ev += (f"good news that asks to schedule ({_quote(_best(positive))})",)  # type: ignore[arg-type]
        return Classification(Label.INTERVIEW_INVITATION, _clamp(confidence), ev + evidence_tail)
    if scheduled and not unsolicited and interview_word:
        # Confirmation language without a readable time: probably scheduled; ask the user.
        return Classification(Label.INTERVIEW_SCHEDULED, 0.55, (_quote(scheduled), "no date/time found") + evidence_tail)

    # 10. Positive: offer, next round, references, assessment.
    if positive and not unsolicited:
        best = _best(positive)
        assert best is not None
        return Classification(Label.POSITIVE, _clamp(best.weight + bonus), tuple(_quote(h) for h in positive[:3]) + evidence_tail)

    # 11–12. Timeline update versus acknowledgement.
    # An acknowledgement often says when to expect news ("you will hear from us within two
    # weeks"); that makes it a timeline update only when it also says the process is under way
    # ("we are still interviewing") and is not itself the receipt of the application.
    ack = _find(ACK_RULES, t, strict_conditions=False, conditions=False)
    words = _Text(body)
    status = _find(_STATUS_RULES, words, strict_conditions=False)
    promise = _timeline_promise(words) if (status or not ack) else None
    strong_ack = [h for h in ack if h.weight >= 0.9]
    if not unsolicited and not strong_ack and ((status and promise) or (promise and not ack)):
        ev = tuple(_quote(h) for h in status[:1])
        return Classification(Label.TIMELINE_UPDATE, _clamp((0.85 if status else 0.7) + bonus), ev + (promise,) + evidence_tail)
    if status and not ack and not unsolicited and own:
        return Classification(Label.TIMELINE_UPDATE, 0.55, (_quote(status[0]), "no decision date stated") + evidence_tail)
    if ack and not unsolicited:
        best = _best(ack)
        assert best is not None
        return Classification(Label.ACKNOWLEDGEMENT, _clamp(best.weight + bonus), tuple(_quote(h) for h in ack[:2]) + evidence_tail)

    reasons = []
    if cold is not None:
        reasons.append(f'unsolicited: "{" ".join(cold.split())}"')
    reasons.append("no deciding phrase")
    return Classification(Label.OTHER, 0.7 if cold is not None else 0.6, tuple(reasons) + evidence_tail)


def plain(text: str) -> str:
    """Given text, return it with typographic quotes made plain and contractions spelled out
    ("we’ve" → "we have", "won't" → "will not"), so one phrase pattern covers both spellings."""
    text = text.translate(_TYPOGRAPHY)
    if "'" not in text:
        return text
    # Only the apostrophes are visited (a scan for a literal is fast; a scan for words is not).
    out: list[str] = []
    last = 0
    for m in _APOSTROPHE.finditer(text):
        start, suffix = m.start(), m.group(1).lower()
        word_start = start
        while word_start > 0 and text[word_start - 1].isalpha():
            word_start -= 1
        word = text[word_start : m.end()].lower()
        if word in _WHOLE_WORDS:
            replacement = _WHOLE_WORDS[word]
            if text[word_start].isupper():
                replacement = replacement[0].upper() + replacement[1:]
            out.append(text[last:word_start])
            out.append(replacement)
        elif suffix == "t" and start > word_start and text[start - 1] in "nN":
            out.append(text[last : start - 1])
            out.append(" not")
        elif suffix in _SUFFIXES and start > word_start:
            out.append(text[last:start])
            out.append(_SUFFIXES[suffix])
        else:
            continue
        last = m.end()
    out.append(text[last:])
    return "".join(out)


_APOSTROPHE = re.compile(r"'(t|re|ve|ll|d|m|s)\b", _I)
_WHOLE_WORDS = {"won't": "will not", "can't": "cannot", "shan't": "shall not", "let's": "let us", "i'm": "I am"}
_SUFFIXES = {"re": " are", "ve": " have", "ll": " will", "d": " would"}


def reading(message: Message) -> Reading:
    """Given a message, return its body cut into parts (see :func:`followup.core.quoting.read_parts`),
    in plain spelling (:func:`plain`), only the first few thousand characters read."""
    return _reading((message.text or "")[:_READ_CHARS])


@functools.lru_cache(maxsize=32)
def _reading(text: str) -> Reading:
    # Cached like read_parts itself: the classifier and the extractor read the same message,
    # and plain() need not run twice over it.
    return read_parts(plain(text))


def _timeline_promise(words: _Text) -> str | None:
    """Return evidence for "we will get back to you by <date>" in the body, or None."""
    body = words.text
    for start, end in words.spans(TIMELINE_PROMISE):
        lo, _ = _sentence_bounds(body, start, end)
        hi = _sentence_end(body, end)
        if _CONDITIONAL_BEFORE.search(body[lo:start]):
            continue
        sentence = body[lo:hi]
        phrase = find_timeline_phrase(sentence[start - lo :])
        explicit = re.search(r"\b(?:by|before|on|until)\s+(?:the\s+)?(?:end\s+of\s+)?(?:\w+day|\w+\s+\d{1,2}|\d{1,2}(?:st|nd|rd|th)|next|tomorrow)", sentence[start - lo :], _I)
        found = phrase or explicit
        if found:
            return f'decision promise: "{" ".join(body[start:end].split())} … {" ".join(found.group(0).split())}"'
    return None
