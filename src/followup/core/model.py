"""Value types shared by the pure core and the shell.

Everything here is a frozen dataclass or an enum: no IO, no clock reads. A ``Message`` is what
``followup.core.parse.parse_message`` makes of any MIME input; the classifier and the policy only
ever see these types, never raw bytes, IMAP UIDs or database rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Label(StrEnum):
    """What an incoming message means for an application (SPEC §1)."""

    INTERVIEW_INVITATION = "interview_invitation"
    INTERVIEW_SCHEDULED = "interview_scheduled"
    INTERVIEW_CANCELLED = "interview_cancelled"
    POSITIVE = "positive"
    REJECTION = "rejection"
    TIMELINE_UPDATE = "timeline_update"
    ACKNOWLEDGEMENT = "acknowledgement"
    OUT_OF_OFFICE = "out_of_office"
    OTHER = "other"


class Stage(StrEnum):
    """Where an application stands (SPEC §2)."""

    APPLIED = "applied"
    INVITED = "invited"
    SCHEDULED = "scheduled"
    INTERVIEWED = "interviewed"
    WAITING = "waiting"
    FOLLOWED_UP = "followed_up"
    ADVANCING = "advancing"
    REJECTED = "rejected"
    NO_RESPONSE = "no_response"


class DraftKind(StrEnum):
    """The drafts the program can place (SPEC §3)."""

    THANK_YOU = "thank_you"
    FOLLOWUP_1 = "followup_1"
    FOLLOWUP_2 = "followup_2"
    FOLLOWUP_FINAL = "followup_final"
    REJECTION_REPLY = "rejection_reply"
    POSITIVE_REPLY = "positive_reply"
    CORRECTION = "correction"


class DraftFate(StrEnum):
    """What became of a draft the program made.

    ``JOURNALLED``: the key is recorded but the write is not yet confirmed (a crash may sit
    between the two; reconcile by looking the key up in Drafts and Sent). ``PLACED``: in Drafts,
    untouched. ``EDITED``: the user changed it (never touched again). ``SENT``: found in Sent.
    ``DISMISSED``: deleted without sending (never recreated).
    """

    JOURNALLED = "journalled"
    PLACED = "placed"
    EDITED = "edited"
    SENT = "sent"
    DISMISSED = "dismissed"


class FolderRole(StrEnum):
    """The folders the program reads (and, for Drafts, writes)."""

    INBOX = "inbox"
    SENT = "sent"
    DRAFTS = "drafts"


_NO_REPLY = re.compile(
    r"(^|[._+-])(no[._-]?reply|do[._-]?not[._-]?reply|donotreply|noreply|mailer[._-]?daemon|"
    r"postmaster|bounces?|notifications?|notify|auto[._-]?(reply|confirm|mail)|system)"
    r"([._+-]|\d|$)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Address:
    """A parsed mailbox: display name (may be empty) and a lower-cased address."""

    name: str
    email: str

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]

    @property
    def local_part(self) -> str:
        return self.email.rpartition("@")[0]

    @property
    def is_no_reply(self) -> bool:
        """True when replies to this address reach no person (no-reply, bounces, notifications)."""
        return bool(_NO_REPLY.search(self.local_part))

    def formatted(self) -> str:
        """Return ``Name <email>`` (or just the address) with no CR/LF in it."""
        from email.headerregistry import Address as _HeaderAddress

        name = " ".join(self.name.split())
        if not name:
            return self.email
        return str(_HeaderAddress(display_name=name, addr_spec=self.email))


@dataclass(frozen=True, slots=True)
class CalendarAttendee:
    """An ATTENDEE of a calendar event. ``cutype`` is INDIVIDUAL, ROOM, RESOURCE, GROUP or UNKNOWN."""

    address: Address
    cutype: str = "INDIVIDUAL"
    role: str = "REQ-PARTICIPANT"
    partstat: str = ""


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One VEVENT of a ``text/calendar`` part; ``method`` is the VCALENDAR METHOD (REQUEST, CANCEL…)."""

    method: str
    uid: str
    sequence: int
    start: datetime | None
    end: datetime | None
    summary: str
    organizer: Address | None
    attendees: tuple[CalendarAttendee, ...] = ()
    location: str = ""
    status: str = ""


@dataclass(frozen=True, slots=True)
class Message:
    """A normalised email message, whatever MIME it came from.

    ``date`` is always timezone-aware (the Date header, else the time it was received, else
    ``None`` when neither is known). ``subject`` holds no CR/LF. ``text`` is the best text body
    (text/plain, else HTML turned into text). ``headers`` holds the lower-cased names of the few
    extra headers the core reads (auto-submitted, precedence, list-id, list-unsubscribe, x-autoreply,
    x-autorespond, x-auto-response-suppress, x-followup-key, x-mailer, return-path…).
    ``defects`` names what was wrong with the input (the message is still usable).
    """

    message_id: str
    date: datetime | None
    sender: Address | None
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    subject: str = ""
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    text: str = ""
    html: str = ""
    calendar: tuple[CalendarEvent, ...] = ()
    headers: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    defects: tuple[str, ...] = ()
    size: int = 0

    def header(self, name: str) -> str:
        """Return the value of an extra header by case-insensitive name, or ''."""
        return self.headers.get(name.lower(), "")


@dataclass(frozen=True, slots=True)
class Classification:
    """A label, how sure the classifier is (0..1), and the evidence that decided it."""

    label: Label
    confidence: float
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Facts:
    """What was extracted from one message. Every field may be empty."""

    company: str | None = None
    role: str | None = None
    contact: Address | None = None
    interview_start: datetime | None = None
    interview_end: datetime | None = None
    interviewers: tuple[Address, ...] = ()
    decision_date: date | None = None
    ooo_return: date | None = None
