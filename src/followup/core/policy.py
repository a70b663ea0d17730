"""The schedule: from one application's history and ``now``, what to draft, when, and to whom.

Read this module next to SPEC §3. It is pure: :func:`decide` takes everything it needs as
arguments (the history, ``now``, the settings) and returns a :class:`Decision`; the shell stores
it, places the drafts that are due and not yet journalled, and calls ``decide`` again on the
next cycle. Calling it twice with the same inputs gives the same answer, keys included.

Theory of operation
-------------------

Rule 1 (after h11's ``_state.py``): everything that moves an application from one stage to
another is in :data:`TRANSITIONS`, a table of *stage → event → next stage*, and everything that
says when a draft is due is in :data:`SCHEDULE`. An event with no entry for the current stage
leaves the stage as it is: mail cannot be refused, so an acknowledgement that arrives after an
interview simply changes nothing.

Rule 2: ``decide`` rebuilds the whole story on every call, oldest message first, instead of
keeping a state between calls. There is no state to get out of step with the mailbox, a late
message slots into place, and a user's confirmation of a label (which reaches the policy as a
:class:`~followup.core.model.Classification` with confidence 1.0) replays everything after it.

The story is told in three passes:

1. **Rounds.** An invitation or a scheduled interview opens a *round* unless the current
   round's interview is still ahead (then it is the same round: a confirmation, a
   reschedule). A cancellation before the interview empties the round's time. Every round has
   at most one interview, and with it its own thank-you notes and its own follow-up ladder.
2. **Drafts.** Thank-you notes at the end of each interview; the follow-up ladder of each round
   until an employer reply stops it; one reply to a rejection; a reply to good news; a quick
   correction for a sent follow-up that went out wrong. Each draft gets a deterministic key
   (:func:`draft_key`): the same step always has the same key, and a key the user dismissed,
   edited or sent is never proposed again.
3. **Stages.** Message events and time events (the interview ended, a follow-up was sent, the
   silence went on too long) are folded through :data:`TRANSITIONS` in time order.

Times: every due date is computed on calendar dates in the user's zone, moved to a business
day where the schedule says so, and only then turned into the morning hour with
:func:`~followup.core.business_days.morning_of`; instants are compared as aware datetimes and
added to in UTC. That keeps DST changes out of the arithmetic.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

from followup.core.business_days import BusinessCalendar, local_date, morning_of
from followup.core.senders import is_hiring_mailbox, is_machine, is_role_mailbox, is_system_address
from followup.core.threads import company_key, employer_domain
from followup.core.model import (
    Address,
    Classification,
    DraftFate,
    DraftKind,
    Facts,
    Label,
    Message,
    Stage,
)

__all__ = [
    "LABEL_EVENTS",
    "PLACEHOLDER_MARKER",
    "SCHEDULE",
    "STEPS",
    "STOPPING_EVENTS",
    "TRANSITIONS",
    "ApplicationHistory",
    "Decision",
    "DigestNote",
    "DraftIntent",
    "DraftRecord",
    "Event",
    "HistoryItem",
    "PolicySettings",
    "StageChange",
    "Step",
    "decide",
    "draft_key",
    "holds_placeholder",
    "company_tokens",
    "kind_of_key",
    "named_companies",
    "same_company",
]

#: The spot a draft holds when the user has noted nothing specific about the interview. The
#: digest lists drafts still holding it, and a sent mail still holding it earns a correction.
PLACEHOLDER_MARKER = "[ADD ONE SPECIFIC POINT FROM YOUR CONVERSATION]"


# --------------------------------------------------------------------------------------------
# Settings, inputs and outputs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicySettings:
    """The schedule's knobs (SPEC §3 defaults). Construction raises ``ValueError`` on nonsense.

    ``tz`` is the user's zone: every "day", "business day" and "morning" is read in it.
    ``country``/``subdivision`` choose the public holidays (``holidays`` codes, e.g. "US",
    "DE"/"BY"). ``confidence_threshold``: an inbound label below it drafts nothing and asks the
    user to confirm it instead.

    ``thank_you_counts_after``: a thank-you the user wrote after the interview's *start* plus
    this margin counts, also before the scheduled end (the call ended early); mail before it
    ("running five minutes late") does not. ``stale_after``: a follow-up due, or a message to
    answer received, more than this long before the program learned of it (a first run over an
    old mailbox) is not drafted any more (see :data:`SCHEDULE`).
    """

    tz: ZoneInfo
    country: str = "US"
    subdivision: str | None = None
    morning_hour: int = 9
    interview_duration: timedelta = timedelta(minutes=45)
    thank_you_max_lateness: timedelta = timedelta(hours=72)
    thank_you_counts_after: timedelta = timedelta(minutes=10)
    stale_after: timedelta = timedelta(days=14)
    followup_1_delay_days: int = 7
    followup_2_delay_days: int = 7
    final_delay_days: int = 14
    stop_after_days: int = 14
    max_followups: int = 3
    reply_to_early_rejection: bool = False
    confidence_threshold: float = 0.6

    def __post_init__(self) -> None:
        problems = []
        if not 0 <= self.morning_hour <= 23:
            problems.append(f"morning_hour must be within 0..23, not {self.morning_hour}")
        if self.interview_duration <= timedelta(0):
            problems.append("interview_duration must be positive")
        for name in ("thank_you_max_lateness", "thank_you_counts_after", "stale_after"):
            if getattr(self, name) < timedelta(0):
                problems.append(f"{name} must not be negative")
        for name in ("followup_1_delay_days", "followup_2_delay_days", "final_delay_days",
                     "stop_after_days", "max_followups"):
            if getattr(self, name) < 0:
                problems.append(f"{name} must not be negative")
        if not 0.0 <= self.confidence_threshold <= 1.0:
            problems.append("confidence_threshold must be within 0..1")
        if problems:
            raise ValueError("; ".join(problems))
        BusinessCalendar(self.country, self.subdivision)  # raises ValueError for unknown codes

    @property
    def calendar(self) -> BusinessCalendar:
        """The business-day calendar of ``country``/``subdivision``."""
        return BusinessCalendar(self.country, self.subdivision)


@dataclass(frozen=True)
class HistoryItem:
    """One message of the application, as the shell knows it.

    ``outbound``: the user sent it (found in Sent). ``classification`` is ``None`` for outbound
    mail; a label the user confirmed arrives as a Classification with confidence 1.0.
    ``learned_at`` is when the program first saw the message. ``draft_key`` is, for outbound
    mail, the ``X-Followup-Key`` it carries when it was one of our drafts sent by the user.
    """

    message: Message
    outbound: bool
    classification: Classification | None
    facts: Facts
    learned_at: datetime
    draft_key: str | None = None


@dataclass(frozen=True)
class DraftRecord:
    """A draft the program journalled earlier, and what became of it (its ``fate``)."""

    key: str
    kind: DraftKind
    fate: DraftFate
    created_at: datetime
    sent_at: datetime | None = None
    recipient: str | None = None


@dataclass(frozen=True)
class ApplicationHistory:
    """Everything the policy knows about one application (items in any order; sorted here).

    ``notes`` are what the user noted about the interview, oldest first. ``user_addresses``
    are the user's own addresses (lower case): never a recipient, never an interviewer.
    """

    account: str
    application_id: str
    company: str | None
    role: str | None
    items: tuple[HistoryItem, ...]
    drafts: tuple[DraftRecord, ...] = ()
    notes: tuple[str, ...] = ()
    user_addresses: frozenset[str] = frozenset()


@dataclass(frozen=True)
class DraftIntent:
    """A draft the schedule wants, due at ``due`` (aware, in the user's zone).

    ``key`` is deterministic per (account, application, step[, round, recipient]): the same
    step has the same key forever. ``to`` is the human contact or ``None`` when none is known.
    ``reply_to`` is the message it answers (threading), ``None`` for a fresh thread.
    ``interview_at`` is the start of the round's interview when known; ``wrong_company`` is,
    for a correction, the company the sent mail named by mistake (``None``: a placeholder).
    """

    key: str
    kind: DraftKind
    due: datetime
    to: Address | None
    reply_to: Message | None
    interviewer: Address | None = None
    round: int = 1
    interview_at: datetime | None = None
    wrong_company: str | None = None


@dataclass(frozen=True)
class StageChange:
    """The application entered ``stage`` at ``at``; ``cause`` names the message id or rule.

    ``(stage, cause)`` identifies a change across calls: causes name the message id, the
    draft key or the round, so the shell can record each change once.
    """

    stage: Stage
    at: datetime
    cause: str


@dataclass(frozen=True)
class DigestNote:
    """A line for the daily digest.

    ``kind`` is one of ``please_confirm``, ``find_contact``, ``add_specific_point``,
    ``move_on``, ``check_sent_followup``, ``interview_time_unknown``, ``stale_followup``.
    ``at`` is when the situation arose, so the digest can tell new notes from old ones.
    """

    kind: str
    text: str
    message_id: str | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    """What :func:`decide` concluded.

    ``drafts`` holds the drafts due now *and* upcoming ones, minus those sent, dismissed or
    edited; the shell places those with ``due <= now`` whose key is not journalled yet.
    ``next_wakeup`` is the earliest future instant at which the answer changes without new
    mail (``None``: nothing scheduled). ``followups_sent`` counts the follow-ups of the
    current round that the user sent (the N of ``followed_up(N)``).
    """

    stage: Stage
    changes: tuple[StageChange, ...]
    drafts: tuple[DraftIntent, ...]
    notes: tuple[DigestNote, ...]
    next_wakeup: datetime | None
    followups_sent: int = 0
    round: int = 0


# --------------------------------------------------------------------------------------------
# The tables
# --------------------------------------------------------------------------------------------


class Event(StrEnum):
    """What can move an application: a message of some meaning, or the passing of time."""

    ACKNOWLEDGED = "acknowledged"  # an automatic "we received your application"
    INVITED = "invited"  # asked to schedule an interview
    SCHEDULED = "scheduled"  # an interview time was confirmed or moved
    CANCELLED = "cancelled"  # the interview still ahead was called off
    POSITIVE = "positive"  # moving forward, an offer…
    REJECTED = "rejected"
    TIMELINE_UPDATED = "timeline_updated"  # "still interviewing, expect news by …"
    INTERVIEW_ENDED = "interview_ended"  # time: start + duration has passed
    THANK_YOU_DONE = "thank_you_done"  # time: the user sent a thank-you, or 24 h passed
    FOLLOWUP_SENT = "followup_sent"  # the user sent a follow-up (ours or hand-written)
    GAVE_UP = "gave_up"  # time: stop_after_days after the last follow-up was sent


#: The meaning of each confident inbound label. Out-of-office replies and everything else move
#: no stage: an auto-reply is not an answer (it only delays the next draft).
LABEL_EVENTS: Mapping[Label, Event | None] = MappingProxyType({
    Label.ACKNOWLEDGEMENT: Event.ACKNOWLEDGED,
    Label.INTERVIEW_INVITATION: Event.INVITED,
    Label.INTERVIEW_SCHEDULED: Event.SCHEDULED,
    Label.INTERVIEW_CANCELLED: Event.CANCELLED,
    Label.POSITIVE: Event.POSITIVE,
    Label.REJECTION: Event.REJECTED,
    Label.TIMELINE_UPDATE: Event.TIMELINE_UPDATED,
    Label.OUT_OF_OFFICE: None,
    Label.OTHER: None,
})

#: Employer replies that end the silence ladder of a round (SPEC §3: "any reply from the
#: employer stops the silence sequence"). A timeline update does not stop it, it reschedules
#: it; an out-of-office reply only delays it; a cancellation after the interview is a
#: calendar clean-up (organisers delete past events) and is ignored.
STOPPING_EVENTS = frozenset({Event.INVITED, Event.SCHEDULED, Event.POSITIVE, Event.REJECTED})

_COMMON_REPLIES: Mapping[Event, Stage] = {
    Event.INVITED: Stage.INVITED,
    Event.SCHEDULED: Stage.SCHEDULED,
    Event.POSITIVE: Stage.ADVANCING,
    Event.REJECTED: Stage.REJECTED,
}

#: stage → event → next stage. ``None`` is an application before its first message counts.
#: A missing pair leaves the stage unchanged.
TRANSITIONS: Mapping[Stage | None, Mapping[Event, Stage]] = MappingProxyType({
    None: {
        Event.ACKNOWLEDGED: Stage.APPLIED,
        Event.TIMELINE_UPDATED: Stage.APPLIED,
        **_COMMON_REPLIES,
    },
    Stage.APPLIED: {**_COMMON_REPLIES},
    Stage.INVITED: {**_COMMON_REPLIES, Event.CANCELLED: Stage.INVITED},
    Stage.SCHEDULED: {
        Event.SCHEDULED: Stage.SCHEDULED,  # a reschedule: recorded, the stage stays
        Event.CANCELLED: Stage.INVITED,
        Event.INTERVIEW_ENDED: Stage.INTERVIEWED,
        Event.REJECTED: Stage.REJECTED,
    },
    Stage.INTERVIEWED: {
        **_COMMON_REPLIES,
        Event.THANK_YOU_DONE: Stage.WAITING,
        Event.TIMELINE_UPDATED: Stage.WAITING,
        Event.FOLLOWUP_SENT: Stage.FOLLOWED_UP,
        Event.GAVE_UP: Stage.NO_RESPONSE,
    },
    Stage.WAITING: {
        **_COMMON_REPLIES,
        Event.TIMELINE_UPDATED: Stage.WAITING,
        Event.FOLLOWUP_SENT: Stage.FOLLOWED_UP,
        Event.GAVE_UP: Stage.NO_RESPONSE,
    },
    Stage.FOLLOWED_UP: {
        **_COMMON_REPLIES,
        Event.FOLLOWUP_SENT: Stage.FOLLOWED_UP,  # followed_up(N) → followed_up(N+1)
        Event.TIMELINE_UPDATED: Stage.FOLLOWED_UP,  # the count is not restarted
        Event.GAVE_UP: Stage.NO_RESPONSE,
    },
    Stage.ADVANCING: {**_COMMON_REPLIES},
    Stage.REJECTED: {  # the employer may still change its mind; nothing else reopens it
        Event.INVITED: Stage.INVITED,
        Event.SCHEDULED: Stage.SCHEDULED,
        Event.POSITIVE: Stage.ADVANCING,
    },
    Stage.NO_RESPONSE: {**_COMMON_REPLIES, Event.TIMELINE_UPDATED: Stage.WAITING},
})

#: Events recorded even when the stage stays the same: they change what ``status`` explains.
_RECORDED_WITHOUT_CHANGE = frozenset({Event.SCHEDULED, Event.FOLLOWUP_SENT})


@dataclass(frozen=True)
class Step:
    """One row of SPEC §3: a draft kind, what its wait counts from, and when it is placed.

    ``delay`` names the :class:`PolicySettings` field holding the wait in days (``None``: due
    as soon as the anchor happens); ``morning``: placed at the morning hour of a business
    day (otherwise at the anchor itself).
    """

    kind: DraftKind
    anchor: str
    delay: str | None
    morning: bool
    condition: str


#: SPEC §3 as data. The ladder code reads ``delay`` and ``morning`` from here.
#:
#: Two rules guard against drafting what is no longer timely, both measured against when the
#: program *learned* of the situation (``HistoryItem.learned_at``; on a first run over an old
#: mailbox that is the first run, for every message):
#:
#: - the thank-you is skipped when the interview ended more than ``thank_you_max_lateness``
#:   (72 h) before the program learned of the interview;
#: - a follow-up of the ladder is skipped when its due date lies more than ``stale_after``
#:   (14 days) before the program learned of the messages that make it due (the latest
#:   ``learned_at`` of the application's messages up to that date). No draft: a
#:   ``stale_followup`` digest note tells the user it was too late to draft it, and the ladder
#:   waits for the user: a follow-up the user then writes counts as that step and the next one
#:   is scheduled from it as usual; without one the application becomes ``no_response``
#:   ``stop_after_days`` after the program learned of the situation. The later steps are not
#:   drafted in its place (each counts from the previous one *sent*). A step already placed in
#:   Drafts is never withdrawn by this rule.
#: - likewise a reply to a rejection or good news, and a quick correction, are not drafted for
#:   mail that was more than ``stale_after`` old when the program first saw it (the user has
#:   long since dealt with it one way or another).
SCHEDULE: tuple[Step, ...] = (
    Step(DraftKind.THANK_YOU, "the interview's end (start + interview_duration)", None, False,
         "one per interviewer; not when the user already sent one (hand-written mail from "
         "start + thank_you_counts_after on counts; before the scheduled end only when it "
         "thanks); not when the interview ended more than thank_you_max_lateness before the "
         "program learned of it"),
    Step(DraftKind.FOLLOWUP_1, "the interview day, or the next business day after a stated "
         "decision date", "followup_1_delay_days", True,
         "no employer reply since the interview; not when due more than stale_after before "
         "the program learned of the situation (a stale_followup note instead)"),
    Step(DraftKind.FOLLOWUP_2, "the day the user sent the previous follow-up",
         "followup_2_delay_days", True, "still no reply; never when the previous one is unsent; "
         "not when stale (as follow-up 1)"),
    Step(DraftKind.FOLLOWUP_FINAL, "the day the user sent the previous follow-up",
         "final_delay_days", True, "still no reply; polite, acknowledges they are busy; not "
         "when stale (as follow-up 1)"),
    Step(DraftKind.REJECTION_REPLY, "the rejection is seen", None, False,
         "only one per application; before any interview only with reply_to_early_rejection; "
         "not for a rejection more than stale_after old when first seen"),
    Step(DraftKind.POSITIVE_REPLY, "the good news is seen", None, False,
         "not when the news itself asks to schedule an interview (that opens a new round); "
         "not for news more than stale_after old when first seen"),
    Step(DraftKind.CORRECTION, "the faulty follow-up is seen in Sent", None, False,
         "the sent mail names another company (the extracted Facts.company or the wording) "
         "or still holds a placeholder; not for mail more than stale_after old when first seen"),
)
STEPS: Mapping[DraftKind, Step] = MappingProxyType({step.kind: step for step in SCHEDULE})

_LADDER_KINDS = (DraftKind.FOLLOWUP_1, DraftKind.FOLLOWUP_2, DraftKind.FOLLOWUP_FINAL)

#: The point in time after which the user is expected to have sent their thank-you (SPEC §3:
#: "it should be sent within 24 h"); the stage moves from interviewed to waiting then.
_THANK_YOU_WINDOW = timedelta(hours=24)


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------


def draft_key(
    account: str,
    application_id: str,
    kind: DraftKind,
    *,
    round: int = 0,  # noqa: A002 - the domain's word
    step: int = 0,
    recipient: str | None = None,
    message_id: str | None = None,
) -> str:
    """Given the identity of one step, return its key: ``<kind>.r<round>.<20 hex digits>``.

    The same arguments give the same key forever; the key holds only ``[a-z0-9._]`` so it can
    sit in a Message-ID and a header as it is.
    """
    parts = (account, application_id, kind.value, str(round), str(step),
             (recipient or "").lower(), message_id or "")
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]
    return f"{kind.value}.r{round}.{digest}"


def kind_of_key(key: str | None) -> DraftKind | None:
    """Given a key made by :func:`draft_key` (or anything), return its draft kind or ``None``."""
    if not key:
        return None
    try:
        return DraftKind(key.split(".", 1)[0])
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------
# Placeholders and companies in sent mail
# --------------------------------------------------------------------------------------------

# Placeholders left from a template: ours, an all-caps bracket, or the bracketed fields of
# templates found online ("[Job Title]", "[Interviewer's Name]").
_PLACEHOLDER = re.compile(
    r"\[[^\]\n]{0,30}\b(?:name|title|company|position|role|date|interviewer)\b[^\]\n]{0,30}\]",
    re.IGNORECASE,
)
_ALL_CAPS_BRACKET = re.compile(r"\[[A-Z][A-Z0-9 ,.'’/&-]{3,}\]")
_QUOTE_HEADER = re.compile(
    r"^(On .{0,200} wrote:|-{2,} ?Original Message ?-{2,}|Am .{0,200} schrieb.*:)\s*$",
    re.MULTILINE,
)


def _own_text(text: str) -> str:
    # Only what the user wrote: quoted replies below may hold the employer's brackets.
    cut = _QUOTE_HEADER.search(text)
    if cut:
        text = text[: cut.start()]
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))


def holds_placeholder(text: str) -> bool:
    """Given a mail body, return True when the user's own part still holds a template spot."""
    own = _own_text(text)
    return bool(PLACEHOLDER_MARKER in own or _ALL_CAPS_BRACKET.search(own)
                or _PLACEHOLDER.search(own))


#: Words that say nothing of which company is meant (legal forms, "the", "&"/"and").
_COMPANY_FILLER = frozenset({"and", "group", "holding", "holdings", "se", "nv", "sas", "kg"})


def company_tokens(name: str | None) -> tuple[str, ...]:
    """The words of a company name that identify it: ``"Harbor & Pine Health, Inc."`` gives
    ``("harbor", "pine", "health")``; a domain label ``"nordlicht-mobility"`` gives
    ``("nordlicht", "mobility")``."""
    return tuple(w for w in company_key(name).split() if w not in _COMPANY_FILLER)


def _abbreviates(short: str, words: tuple[str, ...]) -> bool:
    # "fernhillcu" is "fernhill" + "c"redit + "u"nion: each word, from the first on and in
    # order, gives itself or its initial; trailing words may be left out.
    def walk(i: int, pos: int) -> bool:
        if pos == len(short):
            return i > 0
        if i == len(words):
            return False
        word = words[i]
        if short.startswith(word, pos) and walk(i + 1, pos + len(word)):
            return True
        return short[pos] == word[0] and walk(i + 1, pos + 1)

    return walk(0, 0)


def same_company(a: str | None, b: str | None) -> bool:
    """True when two names may well be the same company, also when one comes from a domain.

    "Acme" / "ACME Inc."; "Fernhill Credit Union" / "Fernhillcu" (from fernhillcu.example: the
    name, then initials); "Harbor & Pine Health" / "Harborpine"; "Cobalt Ridge Software" /
    "Cobaltridge". "Harbor & Pine Health" / "Fernhill Credit Union" differ. An empty name is no
    claim, so it matches anything.
    """
    ta, tb = company_tokens(a), company_tokens(b)
    if not ta or not tb:
        return True
    sa, sb = "".join(ta), "".join(tb)
    if sa == sb:
        return True
    for (short_words, short), (long_words, long) in (((ta, sa), (tb, sb)), ((tb, sb), (ta, sa))):
        if long_words[: len(short_words)] == short_words:
            return True  # "Acme" / "Acme Robotics"
        if len(short) >= 5 and long.startswith(short):
            return True  # a name squashed from a domain is often the start of the full name
        if len(short) >= 3 and len(short) < len(long) and _abbreviates(short, long_words):
            return True
    return False


def _domain_name(email: str | None) -> str:
    # The employer's own label of an address ("gwen@fernhillcu.example" gives "fernhillcu"),
    # '' for free mail, ATSs, schedulers and job boards.
    domain = employer_domain(email)
    return domain.split(".", 1)[0] if domain else ""


# "…the possibility of joining Harbor & Pine Health", "the analyst position at Globex": a
# capitalised name after the words a template puts before the company. "my role at <former
# employer>" is not one ("my" is not among the openers).
_NAMED_COMPANY = re.compile(
    r"(?i:\bjoin(?:ing)?(?:\s+(?:the|your)\s+team\s+(?:at|of))?"
    r"|\b(?:the|this|your)\s+(?:[\w-]+\s+){0,4}?(?:role|position|opportunity|job|team)"
    r"\s+(?:at|with))\s+"
    r"(?P<name>[A-Z][\w'’-]*(?:[ \t]+(?:(?:&|and|of|de|von|du)[ \t]+)?[A-Z][\w'’-]*){0,4})"
)
_NOT_A_COMPANY = frozenset({
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
    "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "zoom", "teams", "microsoft teams", "google meet", "meet", "webex",
    "linkedin", "i", "you", "us", "we",
})


def named_companies(text: str, people: Iterable[str] = ()) -> list[str]:
    """Given a mail body, the company names the user's own part names as the employer.

    ``people`` are names of persons (the contact, interviewers): "joining Gwen's team" names
    no company.
    """
    person_words = {w.casefold() for name in people for w in re.findall(r"\w+", name or "")}
    found = []
    for m in _NAMED_COMPANY.finditer(_own_text(text)):
        name = re.sub(r"(?:['’]s)?[.'’-]*$", "", m.group("name").strip())
        if not name or name.casefold() in _NOT_A_COMPANY:
            continue
        if name.casefold().split()[0] in person_words:
            continue
        found.append(name)
    return found


# --------------------------------------------------------------------------------------------
# decide
# --------------------------------------------------------------------------------------------


@dataclass
class _Item:
    """A HistoryItem with the time it counts at and what the rounds pass made of it."""

    seq: int
    item: HistoryItem
    at: datetime
    confident: bool = False
    label: Label | None = None  # the effective label (None: outbound, unconfident, unknown)
    event: Event | None = None  # what it did to the story (None: nothing)

    @property
    def message(self) -> Message:
        return self.item.message

    @property
    def facts(self) -> Facts:
        return self.item.facts


@dataclass
class _Round:
    number: int
    opened_at: datetime
    scheduling: list[_Item] = field(default_factory=list)  # invitation/confirmation messages
    start: datetime | None = None
    end: datetime | None = None
    known_at: datetime | None = None  # when the program learned the interview's time
    interviewers: tuple[Address, ...] = ()

    def interview_over_by(self, moment: datetime) -> bool:
        return self.end is not None and self.end <= moment


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {moment.isoformat()}")
    return moment


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _named(address: Address) -> Address:
    # A display name that only repeats the address is no name ("Dear rita@acme.example").
    if address.name.strip().lower() == address.email.lower():
        return Address("", address.email.lower())
    return Address(address.name, address.email.lower())


_THANKS = re.compile(
    r"\b(thanks?|thank\s+you|thx|appreciate\w*|grateful|enjoyed|pleasure|great\s+(?:to\s+)?"
    r"(?:speak|speaking|talk|talking|chat|chatting|meet|meeting)|danke|vielen\s+dank|merci|"
    r"gracias)\b",
    re.IGNORECASE,
)


def _thanks(text: str) -> bool:
    """True when the user's own part of a mail thanks someone."""
    return bool(_THANKS.search(_own_text(text)))


_CALENDAR_SUBJECT = re.compile(
    # Google: "Invitation: <title> @ Mon Feb 9, 2026 10am - 10:45am (EST) (you@…)"; Outlook:
    # "Updated: <title>", "Accepted: <title>", "Canceled: <title>" …
    r"@\s*(mon|tue|wed|thu|fri|sat|sun)\w*\s+\w{3,9}\s+\d{1,2}"
    r"|^\s*(updated(\s+invitation)?|invitation\s+updated|accepted|declined|tentative(ly accepted)?|"
    r"cancell?ed(\s+event)?|new event|event (updated|cancell?ed)|rescheduled)\s*:",
    re.IGNORECASE,
)


_DOT_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                       r"@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$")


def is_writable_address(email: str) -> bool:
    """True when ``email`` can stand in a draft's To as it is (an RFC 5322 dot-atom address;
    a non-ASCII one would need SMTPUTF8)."""
    return bool(email) and _DOT_ATOM.match(email) is not None


def _is_calendar_notification(message: Message) -> bool:
    """A message a calendar system generated ("Invitation: Interview @ Mon Feb 9, 2026 10am"),
    as opposed to a recruiter's own mail that happens to carry an invite."""
    return bool(message.calendar) and bool(_CALENDAR_SUBJECT.search(message.subject or ""))


def _asks_to_schedule(item: _Item) -> bool:
    # Good news that books the next interview is an invitation (SPEC §3): no positive reply.
    return item.facts.interview_start is not None or any(
        event.method.upper() == "REQUEST" for event in item.message.calendar
    )


class _Decider:
    """One run of :func:`decide`; holds the derived facts the three passes share."""

    def __init__(self, history: ApplicationHistory, now: datetime, settings: PolicySettings):
        self.h = history
        self.now = _utc(_aware(now, "now"))
        self.s = settings
        self.cal = settings.calendar
        self.tz = settings.tz
        self.users = frozenset(a.lower() for a in history.user_addresses)
        self.items = self._known_items()
        self.inbound = [i for i in self.items if not i.item.outbound]
        self.outbound = [i for i in self.items if i.item.outbound]
        self.records = {r.key: r for r in history.drafts}
        self.sent_by_key = {i.item.draft_key: i for i in self.outbound if i.item.draft_key}
        self.intents: list[DraftIntent] = []
        self.notes: list[DigestNote] = []
        self.timed_events: list[tuple[datetime, Event, str]] = []
        self.wakeups: list[datetime] = []
        self.rounds: list[_Round] = []
        self.followups_sent = 0
        self._contacts: dict[int, Address | None] = {}

    # -- inputs ------------------------------------------------------------------------------

    def _known_items(self) -> list[_Item]:
        known = []
        for seq, item in enumerate(self.h.items):
            learned = _utc(_aware(item.learned_at, "HistoryItem.learned_at"))
            if learned > self.now:
                continue  # not known yet at ``now``
            sent = item.message.date
            # A message cannot have been written after we saw it: a Date ahead of that is skew.
            at = min(_utc(_aware(sent, "Message.date")), learned) if sent else learned
            entry = _Item(seq=seq, item=item, at=at)
            c = item.classification
            if not item.outbound and c is not None:
                entry.confident = c.confidence >= self.s.confidence_threshold
                entry.label = c.label if entry.confident else None
            known.append(entry)
        known.sort(key=lambda i: (i.at, i.seq))
        return known

    def _local(self, moment: datetime) -> date:
        return local_date(moment, self.tz)

    def _morning(self, day: date) -> datetime:
        return morning_of(day, self.tz, self.s.morning_hour)

    def _interview_times(self, item: _Item) -> tuple[datetime | None, datetime | None]:
        start, end = item.facts.interview_start, item.facts.interview_end
        if start is None:
            return None, None
        # The extractor promises aware times; a naive one is read in the user's zone.
        start = _utc(start if start.tzinfo else start.replace(tzinfo=self.tz))
        if end is not None:
            end = _utc(end if end.tzinfo else end.replace(tzinfo=self.tz))
        if end is None or end <= start:
            end = start + self.s.interview_duration
        return start, end

    def usable(self, address: Address | None) -> bool:
        """A recipient a person reads: not a no-reply, ATS, scheduling-tool or job-board
        address, not the user, and one a draft can name (an RFC 5322 dot-atom address: a
        non-ASCII one would need SMTPUTF8, which a draft's To cannot promise)."""
        return (address is not None and is_writable_address(address.email)
                and not address.is_no_reply and not is_machine(address)
                and address.email.lower() not in self.users)

    def person(self, address: Address | None) -> bool:
        """Like :meth:`usable`, for a raw From or ORGANIZER the extractor has not vetted: also
        not a shared mailbox (careers@, info@) or a system's address."""
        return self.usable(address) and not (
            is_hiring_mailbox(address) or is_role_mailbox(address) or is_system_address(address))

    # -- pass 1: rounds ----------------------------------------------------------------------

    def build_rounds(self) -> None:
        current: _Round | None = None
        for it in self.inbound:
            if it.label is None:
                continue
            label = it.label
            if label is Label.POSITIVE and _asks_to_schedule(it):
                label = (Label.INTERVIEW_SCHEDULED if it.facts.interview_start
                         else Label.INTERVIEW_INVITATION)
            if label is Label.INTERVIEW_INVITATION:
                if current is None or current.interview_over_by(it.at):
                    current = self._open_round(it)
                current.scheduling.append(it)
                it.event = Event.INVITED
            elif label is Label.INTERVIEW_SCHEDULED:
                start, end = self._interview_times(it)
                if current is not None and current.interview_over_by(it.at):
                    if end is not None and end <= it.at:
                        continue  # an update of an interview already over: nothing new
                    current = self._open_round(it)
                elif current is None:
                    current = self._open_round(it)
                current.scheduling.append(it)
                if start is not None:
                    current.start, current.end = start, end
                    current.known_at = _utc(it.item.learned_at)
                    people = tuple(a for a in it.facts.interviewers if self.usable(a))
                    if people:
                        current.interviewers = people
                it.event = Event.SCHEDULED
            elif label is Label.INTERVIEW_CANCELLED:
                if current is None or current.interview_over_by(it.at):
                    continue  # nothing ahead to cancel (organisers delete past events)
                current.start = current.end = current.known_at = None
                it.event = Event.CANCELLED
            else:
                it.event = LABEL_EVENTS[label]
            it.label = label

    def _open_round(self, it: _Item) -> _Round:
        opened = _Round(number=len(self.rounds) + 1, opened_at=it.at)
        self.rounds.append(opened)
        return opened

    def after_any_interview(self, moment: datetime) -> bool:
        return any(r.interview_over_by(moment) for r in self.rounds)

    # -- who, and which thread ---------------------------------------------------------------

    def contact(self, r: _Round | None = None) -> Address | None:
        """The application's human contact for round ``r`` (``None``: the latest round).

        SPEC §3: the person who organised the interview. In order: the calendar ORGANIZER of
        the round's invitations and confirmations, the contact extracted from them (the
        recruiter who signed), their human sender; then the rounds before; then the contact of
        any other mail from the employer, latest first; an interviewer only when nobody else is
        known, and never the user or a machine. Of these the first who is not an interviewer
        wins: a follow-up is for whoever runs the process, thank-yous are for interviewers.
        """
        number = r.number if r is not None else 0
        if number not in self._contacts:
            self._contacts[number] = self._find_contact(r)
        return self._contacts[number]

    def _find_contact(self, r: _Round | None) -> Address | None:
        rounds = list(reversed(self.rounds))
        if r is not None:
            rounds = [r, *(other for other in rounds if other is not r)]
        candidates: list[Address] = []
        for rnd in rounds:
            for it in reversed(rnd.scheduling):
                for event in it.message.calendar:
                    if event.method.upper() != "CANCEL" and self.person(event.organizer):
                        candidates.append(_named(event.organizer))
            for it in reversed(rnd.scheduling):
                if self.usable(it.facts.contact):
                    candidates.append(it.facts.contact)
                if self.person(it.message.sender):
                    candidates.append(_named(it.message.sender))
        for it in reversed(self.inbound):
            if self.usable(it.facts.contact):
                candidates.append(it.facts.contact)
        interviewers = [p for rnd in rounds for p in rnd.interviewers if self.usable(p)]
        held = {p.email.lower() for p in interviewers}
        organiser = next((c for c in candidates if c.email.lower() not in held), None)
        return organiser or next(iter(candidates), None) or next(iter(interviewers), None)

    def reply_contact(self, it: _Item) -> Address | None:
        """Who a reply to ``it`` goes to: the person who wrote it (the extracted contact, else
        a human sender), else the application's contact (a no-reply rejection)."""
        if self.usable(it.facts.contact):
            return it.facts.contact
        if self.person(it.message.sender):
            return _named(it.message.sender)
        return self.contact()

    @staticmethod
    def _involves(message: Message, person: Address) -> bool:
        email = person.email.lower()
        seen = {a.email.lower() for a in (*message.to, *message.cc, *message.reply_to)}
        if message.sender:
            seen.add(message.sender.email.lower())
        for event in message.calendar:
            if event.organizer:
                seen.add(event.organizer.email.lower())
            seen.update(a.address.email.lower() for a in event.attendees)
        return email in seen

    def _thread_for(self, candidates: Iterable[_Item], person: Address | None) -> Message | None:
        # Answer the latest message of a conversation the recipient is in, or one a scheduling
        # tool or ATS sent (SPEC §3: the reply still goes to the human contact). A calendar
        # notification ("Invitation: … @ Mon Feb 9, 10am") is no conversation to answer: a
        # note under it reads oddly, so such messages never carry the thread.
        for it in sorted(candidates, key=lambda i: (i.at, i.seq), reverse=True):
            if _is_calendar_notification(it.message):
                continue
            sender = it.message.sender
            if person is None or self._involves(it.message, person) or (
                not it.item.outbound and sender is not None and sender.is_no_reply
            ):
                return it.message
        return None

    # -- sent mail ---------------------------------------------------------------------------

    def sent_at(self, key: str) -> datetime | None:
        """When the user sent our draft ``key``: its Sent copy, else the journal's word."""
        if key in self.sent_by_key:
            return self.sent_by_key[key].at
        record = self.records.get(key)
        if record is not None and record.fate is DraftFate.SENT:
            # Without a sent time, the draft's creation is the earliest it can have gone.
            return _utc(record.sent_at or record.created_at)
        return None

    def closed(self, key: str) -> bool:
        """True when ``key`` must not be proposed again: sent, dismissed or edited."""
        record = self.records.get(key)
        return key in self.sent_by_key or (
            record is not None and record.fate in (DraftFate.SENT, DraftFate.DISMISSED,
                                                   DraftFate.EDITED)
        )

    def answered_after(self, moment: datetime) -> bool:
        """True when the user wrote by hand after ``moment`` (sending one of our other drafts,
        a thank-you say, is not an answer to the message at ``moment``)."""
        return any(o.at > moment and not o.item.draft_key for o in self.outbound)

    def _hand_written(self, start: datetime, until: datetime | None) -> list[_Item]:
        return [i for i in self.outbound
                if i.at > start and (until is None or i.at < until) and not i.item.draft_key]

    def _thank_you_mail(self, r: _Round, late: datetime) -> list[_Item]:
        """Hand-written mail that counts as round ``r``'s thank-you: any sent after the
        interview's end and before ``late``; one sent while it was still scheduled (the call
        ended early) only when it thanks and was sent ``thank_you_counts_after`` after the
        start. Mail from before the interview ("looking forward to tomorrow") never counts."""
        assert r.start is not None and r.end is not None
        opens = r.start + self.s.thank_you_counts_after
        after = self._hand_written(r.end, late)
        during = [i for i in self._hand_written(opens - timedelta(microseconds=1), None)
                  if i.at <= r.end and _thanks(i.message.text)]
        return sorted([*during, *after], key=lambda i: (i.at, i.seq))

    # -- pass 2: drafts ----------------------------------------------------------------------

    def propose(self, intent: DraftIntent) -> bool:
        """Add ``intent`` unless its key is closed or already proposed; True when added."""
        if self.closed(intent.key):
            return False
        if any(existing.key == intent.key for existing in self.intents):
            return False  # never two drafts for one step
        self.intents.append(intent)
        if intent.due > self.now:
            self.wakeups.append(_utc(intent.due))
        return True

    def thank_yous(self, r: _Round) -> None:
        if r.end is None or r.start is None:
            return
        self.timed_events.append((r.end, Event.INTERVIEW_ENDED,
                                  f"interview of round {r.number} ended"))
        late = r.end + self.s.thank_you_max_lateness
        rejected_after = any(i.event is Event.REJECTED and i.at >= r.end for i in self.inbound)
        people = list(dict.fromkeys(r.interviewers))  # keep order, drop repeats
        contact = self.contact(r)
        if people:
            targets = [(p, p.email.lower(), p) for p in people]
        else:
            targets = [(contact, None, None)]
        keys = {rcpt: draft_key(self.h.account, self.h.application_id, DraftKind.THANK_YOU,
                                round=r.number, recipient=rcpt) for _, rcpt, _ in targets}
        # Hand-written mail in the thank-you window counts as the thank-you: to the people it
        # went to, or to everyone of the round when it went to none of them (SPEC §3).
        done: dict[str | None, datetime] = {}
        for out in self._thank_you_mail(r, late):
            rcpts = {a.email.lower() for a in (*out.message.to, *out.message.cc)}
            hit = [rcpt for _, rcpt, _ in targets if rcpt is not None and rcpt in rcpts]
            for rcpt in hit or [rcpt for _, rcpt, _ in targets]:
                done.setdefault(rcpt, out.at)
        for _, rcpt, _ in targets:
            when = self.sent_at(keys[rcpt])
            if when is not None:
                done[rcpt] = min(done.get(rcpt, when), when)
        first_sent = min(done.values(), default=None)
        if first_sent is not None and first_sent < r.end + _THANK_YOU_WINDOW:
            # One sent before the scheduled end (the call ended early) is done when it ends.
            self.timed_events.append((max(first_sent, r.end), Event.THANK_YOU_DONE,
                                      f"thank-you of round {r.number} sent"))
        else:
            self.timed_events.append((r.end + _THANK_YOU_WINDOW, Event.THANK_YOU_DONE,
                                      f"the 24 h for a thank-you of round {r.number} passed"))
        if r.known_at is not None and r.known_at > late:
            return  # learned of the interview too late for a thank-you to be gracious
        if self.now > late or rejected_after:
            return
        for person, rcpt, interviewer in targets:
            if rcpt in done:
                continue
            to = person if self.usable(person) else None
            thread = None
            if len(targets) == 1:
                thread = self._thread_for(r.scheduling, to)
            self.propose(DraftIntent(
                key=keys[rcpt], kind=DraftKind.THANK_YOU, due=r.end.astimezone(self.tz), to=to,
                reply_to=thread, interviewer=interviewer, round=r.number,
                interview_at=r.start.astimezone(self.tz),
            ))

    def ladder(self, r: _Round, is_current: bool) -> None:
        if r.end is None or r.start is None:
            return
        end = r.end
        stop = next((i for i in self.inbound if i.at > end and i.event in STOPPING_EVENTS), None)
        grace = end + self.s.thank_you_max_lateness
        hand_written = deque(self._hand_written(grace, stop.at if stop else None))
        count = self.s.max_followups
        previous: datetime | None = None  # when the previous rung was sent
        window_start = r.opened_at
        contact = self.contact(r)
        sent_count = 0
        for n in range(1, count + 1):
            kind = self._rung_kind(n, count)
            key = draft_key(self.h.account, self.h.application_id, kind, round=r.number, step=n)
            # The step, not its kind, is what was sent: a change of max_followups renames the
            # later rungs, and must not make a step already sent due again.
            twins = [draft_key(self.h.account, self.h.application_id, k, round=r.number, step=n)
                     for k in _LADDER_KINDS]
            sent = min((t for t in map(self.sent_at, twins) if t is not None), default=None)
            if sent is None:
                while hand_written and hand_written[0].at <= (previous or end):
                    hand_written.popleft()
                if hand_written:
                    sent = hand_written.popleft().at
            if sent is not None:
                sent_count += 1
                self.timed_events.append((sent, Event.FOLLOWUP_SENT, f"{kind.value} sent ({key})"))
                previous, window_start = sent, sent
                continue
            if stop is not None:
                break  # the employer answered: the silence ladder is over
            if any(self.closed(twin) for twin in twins):
                break  # dismissed: never again; edited: the user's to send, the ladder waits
            due = self._rung_due(kind, end, previous, window_start)
            if self._stale_rung(kind, due, twins):
                break
            thread_candidates = [i for i in self.items if i.at >= r.opened_at and (
                i.item.outbound or i.event in (Event.INVITED, Event.SCHEDULED,
                                               Event.TIMELINE_UPDATED))]
            self.propose(DraftIntent(
                key=key, kind=kind, due=due, to=contact if self.usable(contact) else None,
                reply_to=self._thread_for(thread_candidates, contact), round=r.number,
                interview_at=r.start.astimezone(self.tz),
            ))
            break
        else:
            anchor = previous or end
            gave_up = self._morning(self._local(anchor) + timedelta(days=self.s.stop_after_days))
            if stop is None or stop.at > gave_up:
                self.timed_events.append((_utc(gave_up), Event.GAVE_UP,
                                          f"no reply {self.s.stop_after_days} days after the "
                                          f"last follow-up of round {r.number}"))
        if is_current:
            self.followups_sent = sent_count

    def _learned_by(self, moment: datetime) -> datetime:
        """When the program learned of the situation at ``moment``: the latest ``learned_at``
        of the messages dated up to then (on a first run over an old mailbox, the first run)."""
        return max((_utc(i.item.learned_at) for i in self.items if i.at <= moment),
                   default=moment)

    def _stale_rung(self, kind: DraftKind, due: datetime, twins: list[str]) -> bool:
        """True (and noted) when the step due at ``due`` is too old to draft (see SCHEDULE)."""
        if any(twin in self.records for twin in twins):
            return False  # already journalled or placed: never withdrawn
        learned = self._learned_by(due)
        if learned - due <= self.s.stale_after:
            return False
        gave_up = self._morning(self._local(learned) + timedelta(days=self.s.stop_after_days))
        if self.now < _utc(gave_up):  # afterwards the move_on note says what is left to say
            late_by = (learned - due).days
            label = {DraftKind.FOLLOWUP_1: "first follow-up",
                     DraftKind.FOLLOWUP_2: "next follow-up",
                     DraftKind.FOLLOWUP_FINAL: "final follow-up"}[kind]
            self.notes.append(DigestNote(
                "stale_followup",
                f"The {label} was due on {self._local(due):%a %d %b %Y}, {late_by} days before "
                "the program first saw this mail: too late to draft it automatically. Write "
                "one yourself if you still want this job; the schedule goes on from it. "
                "Without one the application is closed as no response on "
                f"{gave_up:%a %d %b}.",
                None, learned.astimezone(self.tz)))
        self.timed_events.append((_utc(gave_up), Event.GAVE_UP,
                                  f"no follow-up sent {self.s.stop_after_days} days after the "
                                  f"stale {kind.value} was noted"))
        return True

    @staticmethod
    def _rung_kind(n: int, count: int) -> DraftKind:
        # The first follow-up opens the ladder and the final one closes it; any rungs between
        # are second follow-ups (each with its own key through its step number).
        if n == 1:
            return DraftKind.FOLLOWUP_1
        if n == count:
            return DraftKind.FOLLOWUP_FINAL
        return DraftKind.FOLLOWUP_2

    def _rung_due(self, kind: DraftKind, end: datetime, previous: datetime | None,
                  window_start: datetime) -> datetime:
        delay_field = STEPS[kind].delay
        delay = getattr(self.s, delay_field) if delay_field else 0
        anchor = end if previous is None else previous
        anchor_day = self._local(anchor)
        interview_day = self._local(end)
        day = self.cal.add_days_then_roll(anchor_day, delay)
        # A decision date the employer stated (in the invitation, the confirmation, a timeline
        # update…) replaces the default wait; the latest statement wins. One already past
        # when it was written, or before the interview, is not about this decision.
        for it in self.inbound:
            if it.at < window_start or not it.confident:
                continue
            if it.label in (Label.OUT_OF_OFFICE, Label.OTHER):
                continue
            stated = it.facts.decision_date
            if stated is not None and stated >= interview_day and stated >= self._local(it.at):
                day = self.cal.next_business_day_after(stated)
            elif it.label is Label.TIMELINE_UPDATE and it.at > end:
                # "Still deciding" with no date: the wait starts again from the update.
                day = self.cal.add_days_then_roll(self._local(it.at), delay)
        day = max(day, self.cal.next_business_day_after(anchor_day))
        due = self._morning(day)
        # An out-of-office reply holds the next draft until the first business day after the
        # return date it names; it is not an answer, so it stops nothing.
        for it in self.inbound:
            if it.at > window_start and it.label is Label.OUT_OF_OFFICE and it.facts.ooo_return:
                back = self._morning(self.cal.next_business_day_after(it.facts.ooo_return))
                due = max(due, back)
        return due

    def _stale_message(self, it: _Item) -> bool:
        # Mail more than stale_after old when the program first saw it (a first run over an
        # old mailbox) gets no reply or correction: the user has long since dealt with it.
        return _utc(it.item.learned_at) - it.at > self.s.stale_after

    def rejection_reply(self) -> None:
        rejection = next((i for i in self.inbound if i.event is Event.REJECTED), None)
        if rejection is None:
            return
        if not self.after_any_interview(rejection.at) and not self.s.reply_to_early_rejection:
            return
        if self.answered_after(rejection.at):
            return  # the user answered it themselves
        if any(i.at > rejection.at and i.event in (Event.INVITED, Event.SCHEDULED, Event.POSITIVE)
               for i in self.inbound):
            return  # the employer reopened the application: the reply would be out of date
        if self._stale_message(rejection):
            return
        contact = self.reply_contact(rejection)
        key = draft_key(self.h.account, self.h.application_id, DraftKind.REJECTION_REPLY)
        self.propose(DraftIntent(
            key=key, kind=DraftKind.REJECTION_REPLY,
            due=rejection.item.learned_at.astimezone(self.tz),
            to=contact if self.usable(contact) else None, reply_to=rejection.message,
            round=len(self.rounds),
        ))

    def positive_reply(self) -> None:
        good = [i for i in self.inbound if i.event is Event.POSITIVE]
        if not good:
            return
        news = good[-1]  # earlier unanswered good news is folded into the reply to the latest
        if self.answered_after(news.at):
            return  # the user answered it themselves
        if any(i.at > news.at and i.event in (Event.INVITED, Event.SCHEDULED, Event.REJECTED)
               for i in self.inbound):
            return  # a new round (or a turn for the worse) supersedes it
        if self._stale_message(news):
            return
        contact = self.reply_contact(news)
        key = draft_key(self.h.account, self.h.application_id, DraftKind.POSITIVE_REPLY,
                        round=len(self.rounds), message_id=news.message.message_id)
        self.propose(DraftIntent(
            key=key, kind=DraftKind.POSITIVE_REPLY, due=news.item.learned_at.astimezone(self.tz),
            to=contact if self.usable(contact) else None, reply_to=news.message,
            round=len(self.rounds),
        ))

    def _company_names(self, out: _Item) -> list[str]:
        """The names this application's employer goes by: the application's company, the
        companies its inbound mail names, and the employer domains of the people in it and of
        the mail ``out``'s recipients ("fernhillcu" of gwen@fernhillcu.example)."""
        names = [self.h.company or ""]
        names += [i.facts.company or "" for i in self.inbound
                  if i.confident and i.label is not Label.OTHER]
        people: list[Address | None] = [self.contact(), *out.message.to, *out.message.cc]
        for it in self.inbound:
            people += [it.facts.contact, it.message.sender if self.person(it.message.sender)
                       else None]
        for r in self.rounds:
            people += r.interviewers
        names += [_domain_name(p.email) for p in people if p is not None]
        return [n for n in dict.fromkeys(names) if company_tokens(n)]

    def _wrong_company(self, out: _Item) -> str | None:
        """The company a sent mail names by mistake: the extracted ``Facts.company`` of the
        outbound mail, else a name its wording gives the employer ("…joining Globex"), when it
        is none of the names the application's employer goes by; ``None`` when all is well
        or nothing is known to compare with."""
        known = self._company_names(out)
        if not known:
            return None
        persons = [p.name for p in (self.contact(), *out.message.to, *out.message.cc,
                                    *(i for r in self.rounds for i in r.interviewers)) if p]
        claimed = [out.facts.company or "", *named_companies(out.message.text, persons)]
        for name in claimed:
            if company_tokens(name) and not any(same_company(name, k) for k in known):
                return name.strip()
        return None

    def corrections(self) -> None:
        contact = self.contact()
        for out in self.outbound:
            kind = kind_of_key(out.item.draft_key)
            if kind is DraftKind.CORRECTION:
                continue
            if kind is None and not self.after_any_interview(out.at):
                continue  # mail before any interview is not a follow-up
            if self._stale_message(out):
                continue
            wrong = self._wrong_company(out)
            if wrong is None and not holds_placeholder(out.message.text):
                continue
            if any(o.at > out.at for o in self.outbound):
                continue  # the user wrote again since, and may well have fixed it
            to = next((a for a in out.message.to if self.usable(a)), None)
            if to is None:
                to = contact if self.usable(contact) else None
            key = draft_key(self.h.account, self.h.application_id, DraftKind.CORRECTION,
                            message_id=out.message.message_id)
            if not self.propose(DraftIntent(
                key=key, kind=DraftKind.CORRECTION, due=out.item.learned_at.astimezone(self.tz),
                to=to, reply_to=out.message, round=max(len(self.rounds), 1),
                wrong_company=wrong,
            )):
                continue
            what = f"names {wrong}" if wrong else "still holds a placeholder"
            self.notes.append(DigestNote("check_sent_followup",
                                         f"A mail you sent ({out.message.subject!r}) {what}; a "
                                         "short correction is ready.",
                                         out.message.message_id, out.at))

    # -- pass 3: stages ----------------------------------------------------------------------

    def stages(self) -> tuple[Stage, tuple[StageChange, ...]]:
        events: list[tuple[datetime, int, Event, str]] = []
        for it in self.inbound:
            if it.event is not None:
                events.append((it.at, it.seq, it.event, it.message.message_id or f"item {it.seq}"))
        for at, event, cause in self.timed_events:
            if at <= self.now:
                events.append((at, len(self.h.items), event, cause))
            else:
                self.wakeups.append(at)
        events.sort(key=lambda e: (e[0], e[1]))
        stage: Stage | None = None
        changes: list[StageChange] = []
        for at, _, event, cause in events:
            target = TRANSITIONS[stage].get(event)
            if target is None:
                continue
            if target != stage or event in _RECORDED_WITHOUT_CHANGE:
                changes.append(StageChange(target, at.astimezone(self.tz),
                                           f"{event.value}: {cause}"))
            stage = target
        return (stage or Stage.APPLIED), tuple(changes)

    # -- digest notes ------------------------------------------------------------------------

    def digest_notes(self, stage: Stage, changes: tuple[StageChange, ...]) -> None:
        for it in self.inbound:
            c = it.item.classification
            if c is not None and not it.confident and c.label is not Label.OTHER:
                self.notes.append(DigestNote(
                    "please_confirm",
                    f"Is {it.message.subject!r} really {c.label.value.replace('_', ' ')}? "
                    f"(confidence {c.confidence:.2f}) Confirm it to act on it.",
                    it.message.message_id, it.at.astimezone(self.tz)))
        for intent in self.intents:
            if intent.to is None:
                self.notes.append(DigestNote(
                    "find_contact",
                    f"No person to send the {intent.kind.value.replace('_', ' ')} to is known: "
                    "find the right contact and add them to the draft.",
                    intent.reply_to.message_id if intent.reply_to else None, intent.due))
        if not self.h.notes and any(i.kind in (DraftKind.THANK_YOU, DraftKind.FOLLOWUP_1)
                                    for i in self.intents):
            first = min(i.due for i in self.intents
                        if i.kind in (DraftKind.THANK_YOU, DraftKind.FOLLOWUP_1))
            self.notes.append(DigestNote(
                "add_specific_point",
                "Note one specific point from the interview (followup note …) so the draft can "
                "mention it; until then it holds a marked spot to fill in.", None, first))
        current = self.rounds[-1] if self.rounds else None
        if stage is Stage.SCHEDULED and current is not None and current.start is None:
            self.notes.append(DigestNote(
                "interview_time_unknown",
                "An interview is confirmed but its time could not be read: no thank-you or "
                "follow-up can be timed until it is.",
                current.scheduling[-1].message.message_id if current.scheduling else None,
                current.opened_at.astimezone(self.tz)))
        if stage is Stage.NO_RESPONSE:
            since = changes[-1].at if changes else None
            self.notes.append(DigestNote(
                "move_on",
                "No reply after the final follow-up: time to put your energy into other "
                "applications (a reply would still reopen this one).", None, since))

    # -- the whole run -----------------------------------------------------------------------

    def run(self) -> Decision:
        self.build_rounds()
        for r in self.rounds:
            self.thank_yous(r)
        for index, r in enumerate(self.rounds):
            self.ladder(r, is_current=index == len(self.rounds) - 1)
        self.rejection_reply()
        self.positive_reply()
        self.corrections()
        stage, changes = self.stages()
        self.digest_notes(stage, changes)
        future = [w for w in self.wakeups if w > self.now]
        return Decision(
            stage=stage,
            changes=changes,
            drafts=tuple(sorted(self.intents, key=lambda i: (i.due, i.key))),
            notes=tuple(self.notes),
            next_wakeup=min(future).astimezone(self.tz) if future else None,
            followups_sent=self.followups_sent,
            round=len(self.rounds),
        )


def decide(history: ApplicationHistory, now: datetime, settings: PolicySettings) -> Decision:
    """Given an application's history, the current instant and the settings, return a Decision.

    Only items learned at or before ``now`` count. Inbound items whose classification is below
    ``settings.confidence_threshold`` draft nothing and change no stage; they come back as
    ``please_confirm`` notes. A label the user confirmed must be passed as a Classification
    with confidence 1.0, after which the message counts like any other.

    Raises ``ValueError`` when ``now``, a ``learned_at`` or a message date is naive.
    """
    return _Decider(history, now, settings).run()
