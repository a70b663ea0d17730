"""The daily digest's content: from plain data and ``now``, what the user should do today (SPEC §4).

:func:`build_digest` is pure. The shell (:mod:`followup.digest_job`) gathers a
:class:`DigestInput` from the store and the policy, calls it, renders the returned
:class:`Digest` with the ``digest.txt`` / ``digest.html`` templates and delivers the result.

Every string that may come from incoming mail (companies, roles, names, subjects, Message-IDs,
note texts) is made one line here (:func:`~followup.core.compose.sanitise_header`): the text
version can hold no forged line and no value can reach a header with a CR/LF in it. HTML
escaping is the template's job (Jinja2 autoescape); nothing here produces markup.

Sections, in the order the mail shows them:

``drafts``      drafts in Drafts waiting to be reviewed and sent (with the folder, or a link
                where the backend knows one); those left unsent for more than
                :data:`STALE_AFTER` are flagged
``attention``   drafts still holding the "add one specific point" spot or without a recipient
                ("find the right contact"), and the policy's other notes
``confirm``     messages the classifier was unsure about, each with the one command to confirm
                (and, where the account's mailbox takes tags, the ``followup/<label>`` tag that
                confirms it as well)
``outcomes``    rejections and good news (and new interviews) since the last digest
``due``         drafts the schedule will place in the next :data:`DUE_WINDOW`
``waiting``     applications waiting on the employer, and for how long
``closed``      applications closed as ``no_response`` (time to move on)
``rows``        every application with a stage chip and a 30-day strip of its events
``totals``      applications, interviews, response rate
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from followup.core.compose import sanitise_header

__all__ = [
    "DUE_WINDOW",
    "KIND_LABELS",
    "STAGE_COLOURS",
    "STAGE_LABELS",
    "STALE_AFTER",
    "STRIP_DAYS",
    "ApplicationIn",
    "Digest",
    "DigestInput",
    "DraftIn",
    "EventIn",
    "NoteIn",
    "UpcomingIn",
    "build_digest",
    "digest_subject",
]

#: How far ahead "due soon" looks.
DUE_WINDOW = timedelta(days=7)
#: A placed draft older than this is flagged "left unsent" (SPEC §4: more than 2 days).
STALE_AFTER = timedelta(days=2)
#: The number of days in each application's strip (ending today).
STRIP_DAYS = 30
#: An outcome learned since the last digest counts when its message is at most this much older.
OUTCOME_GRACE = timedelta(days=1)
#: Closed applications stay listed this long after they closed.
CLOSED_LISTED_FOR = timedelta(days=14)

KIND_LABELS: Mapping[str, str] = {
    "thank_you": "Thank-you note",
    "followup_1": "First follow-up",
    "followup_2": "Second follow-up",
    "followup_final": "Final follow-up",
    "rejection_reply": "Reply to the rejection",
    "positive_reply": "Reply to the good news",
    "correction": "Quick correction",
}

STAGE_LABELS: Mapping[str, str] = {
    "applied": "Applied",
    "invited": "Invited",
    "scheduled": "Interview set",
    "interviewed": "Interviewed",
    "waiting": "Waiting",
    "followed_up": "Followed up",
    "advancing": "Advancing",
    "rejected": "Rejected",
    "no_response": "No response",
}

#: (background, text) of each stage's chip and strip cell; chosen for contrast on white.
STAGE_COLOURS: Mapping[str, tuple[str, str]] = {
    "applied": ("#64748b", "#ffffff"),
    "invited": ("#2563eb", "#ffffff"),
    "scheduled": ("#7c3aed", "#ffffff"),
    "interviewed": ("#0891b2", "#ffffff"),
    "waiting": ("#d97706", "#ffffff"),
    "followed_up": ("#db2777", "#ffffff"),
    "advancing": ("#16a34a", "#ffffff"),
    "rejected": ("#dc2626", "#ffffff"),
    "no_response": ("#cbd5e1", "#334155"),
}
_UNKNOWN_COLOURS = ("#475569", "#ffffff")

#: One letter per stage for the plain-text strip.
STAGE_MARKS: Mapping[str, str] = {
    "applied": "A", "invited": "I", "scheduled": "S", "interviewed": "T", "waiting": "W",
    "followed_up": "F", "advancing": "+", "rejected": "X", "no_response": "N",
}

_CLOSED = frozenset({"rejected", "no_response"})
_WAITING_ON_EMPLOYER = ("applied", "interviewed", "waiting", "followed_up")
#: Event causes that mean the employer wrote (the cause starts with the policy's event name).
_REPLY_CAUSES = ("invited", "scheduled", "positive", "rejected", "timeline_updated")
#: Outcomes worth telling: the stage an inbound reply moved the application to.
_OUTCOME_TEXT: Mapping[str, str] = {
    "rejected": "Not moving forward. A short, gracious reply keeps the door open.",
    "advancing": "Good news: they want to move forward with you.",
    "invited": "Invited to an interview: answer with your availability.",
    "scheduled": "Interview confirmed.",
}
#: Events that are the user's doing or the passing of time, not contact with the employer.
_NOT_CONTACT = ("thank_you_done", "followup_sent", "gave_up")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventIn:
    """A recorded stage change: ``cause`` starts with the policy's event name ("rejected: <id>")."""

    at: datetime
    stage: str
    cause: str
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class ApplicationIn:
    """An application as the store and the latest decision know it."""

    id: str
    account: str
    company: str | None
    role: str | None
    stage: str
    created_at: datetime
    contact_name: str | None = None
    contact_email: str | None = None
    events: tuple[EventIn, ...] = ()
    followups_sent: int = 0


@dataclass(frozen=True)
class DraftIn:
    """A draft in Drafts waiting to be sent (journal fate ``placed``).

    ``location`` names where it is ("Drafts in personal"); ``link`` opens it where the backend
    knows how (Gmail), else ``None``. ``holds_placeholder``: the body still holds the marked
    spot for one specific point.
    """

    key: str
    application_id: str
    kind: str
    recipient: str | None
    subject: str
    placed_at: datetime
    location: str
    link: str | None = None
    holds_placeholder: bool = False


@dataclass(frozen=True)
class UpcomingIn:
    """A draft the schedule will place later (a policy ``DraftIntent`` not journalled yet)."""

    application_id: str
    kind: str
    due: datetime
    to: str | None = None


@dataclass(frozen=True)
class NoteIn:
    """A policy ``DigestNote`` for one application; ``label`` is, for ``please_confirm``, the
    classifier's guess (what the confirm command would settle), ``subject`` the message's,
    ``tags`` whether the account's mail program can confirm it with a ``followup/<label>`` tag."""

    application_id: str
    kind: str
    text: str
    message_id: str | None = None
    at: datetime | None = None
    label: str | None = None
    subject: str | None = None
    tags: bool = False


@dataclass(frozen=True)
class DigestInput:
    """Everything :func:`build_digest` reads. ``since`` is when the last digest went out."""

    now: datetime
    tz: tzinfo
    applications: tuple[ApplicationIn, ...] = ()
    drafts: tuple[DraftIn, ...] = ()
    upcoming: tuple[UpcomingIn, ...] = ()
    notes: tuple[NoteIn, ...] = ()
    since: datetime | None = None
    user_name: str = ""


# --------------------------------------------------------------------------------------------
# The content model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chip:
    stage: str
    label: str
    bg: str
    fg: str


@dataclass(frozen=True)
class DraftLine:
    application_id: str
    title: str
    kind: str
    kind_label: str
    recipient: str | None
    subject: str
    location: str
    link: str | None
    age_days: int
    age_text: str
    stale: bool
    holds_placeholder: bool


@dataclass(frozen=True)
class AttentionLine:
    application_id: str
    title: str
    kind: str
    text: str
    command: str | None = None


@dataclass(frozen=True)
class ConfirmLine:
    application_id: str
    title: str
    subject: str
    label: str
    label_text: str
    message_id: str
    command: str
    text: str
    tag: str | None = None  # "followup/<label>", where the account's mailbox takes tags


@dataclass(frozen=True)
class OutcomeLine:
    application_id: str
    title: str
    stage: str
    text: str
    when: str
    chip: Chip


@dataclass(frozen=True)
class DueLine:
    application_id: str
    title: str
    kind_label: str
    when: str
    to: str | None
    days: int


@dataclass(frozen=True)
class WaitingLine:
    application_id: str
    title: str
    chip: Chip
    days: int
    text: str
    next_text: str


@dataclass(frozen=True)
class ClosedLine:
    application_id: str
    title: str
    closed_on: str
    days: int
    text: str
    new: bool


@dataclass(frozen=True)
class DayCell:
    day: date
    label: str  # "Thu 5 Mar"
    stage: str | None
    mark: str  # one character for the text strip (and the HTML cell)
    bg: str
    fg: str
    title: str
    today: bool
    weekend: bool


@dataclass(frozen=True)
class AppRow:
    id: str
    title: str
    company: str
    role: str
    contact: str
    chip: Chip
    strip: tuple[DayCell, ...]
    strip_text: str
    next_text: str
    last_text: str
    closed: bool


@dataclass(frozen=True)
class Totals:
    applications: int
    active: int
    interviews: int
    responded: int
    response_rate: int | None  # percent, None without applications
    text: str


@dataclass(frozen=True)
class Digest:
    """The digest's content. ``has_news`` is False when there is nothing to do and nothing new
    (``skip_when_empty`` skips such a day). ``headline`` is the subject's part after "Job search: "."""

    subject: str
    headline: str
    local_date: date
    date_text: str
    greeting: str
    drafts: tuple[DraftLine, ...]
    attention: tuple[AttentionLine, ...]
    confirm: tuple[ConfirmLine, ...]
    outcomes: tuple[OutcomeLine, ...]
    due: tuple[DueLine, ...]
    waiting: tuple[WaitingLine, ...]
    closed: tuple[ClosedLine, ...]
    rows: tuple[AppRow, ...]
    hidden_rows: int
    totals: Totals
    legend: tuple[Chip, ...]
    strip_start: str
    strip_end: str
    since_text: str
    has_news: bool
    stale_drafts: int = field(default=0)


# --------------------------------------------------------------------------------------------
# Building it
# --------------------------------------------------------------------------------------------


def digest_subject(*, drafts: int, replies: int, confirm: int = 0, due: int = 0, closed: int = 0) -> str:
    """Given the counts, return the subject, e.g. "Job search: 2 drafts to send today, 1 reply"."""
    parts = []
    if drafts:
        parts.append(f"{drafts} draft{'s' if drafts != 1 else ''} to send today")
    if replies:
        parts.append(f"{replies} repl{'ies' if replies != 1 else 'y'}")
    if confirm:
        parts.append(f"{confirm} to confirm")
    if closed:
        parts.append(f"{closed} closed")
    if not parts and due:
        parts.append(f"{due} follow-up{'s' if due != 1 else ''} due this week")
    if not parts:
        parts.append("nothing to send today")
    return "Job search: " + ", ".join(parts)


def build_digest(data: DigestInput) -> Digest:
    """Given the gathered data, return the digest's content. Raises ValueError for a naive ``now``."""
    now = data.now
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    tz = data.tz
    today = now.astimezone(tz).date()
    since = data.since if data.since is not None and data.since <= now else now - timedelta(days=1)
    apps = {a.id: a for a in data.applications}

    def title(app_id: str) -> str:
        app = apps.get(app_id)
        return _title(app) if app else "(an application no longer tracked)"

    drafts = tuple(sorted(
        (_draft_line(d, title(d.application_id), now) for d in data.drafts),
        key=lambda line: (-line.age_days, line.title, line.kind)))

    attention: list[AttentionLine] = []
    by_app: dict[str, list[DraftIn]] = {}
    for d in sorted(data.drafts, key=lambda d: (d.placed_at, d.key)):
        by_app.setdefault(d.application_id, []).append(d)
    for app_id, app_drafts in by_app.items():
        nobody = [d for d in app_drafts if d.recipient is None]
        if nobody:
            attention.append(AttentionLine(
                app_id, title(app_id), "find_contact",
                f"No recipient on the {_kinds(nobody)}: find the right contact and add them "
                "before sending."))
        spots = [d for d in app_drafts if d.holds_placeholder]
        if spots:
            attention.append(AttentionLine(
                app_id, title(app_id), "add_specific_point",
                f"The {_kinds(spots)} still hold{'s' if len(spots) == 1 else ''} a marked spot: replace "
                "it with one specific point from your conversation. Noting it once fills it in "
                "for the drafts still to come:",
                f"followup note {shlex.quote(app_id)} \"…\""))
    flagged = {(a.application_id, a.kind) for a in attention}
    confirm: list[ConfirmLine] = []
    seen_confirm: set[str] = set()
    for note in sorted(data.notes, key=lambda n: (n.at or now, n.application_id, n.kind)):
        text = _line(note.text)
        if note.kind == "please_confirm":
            if not note.message_id or note.message_id in seen_confirm:
                continue
            seen_confirm.add(note.message_id)
            confirm.append(_confirm_line(note, title(note.application_id)))
        elif note.kind == "move_on":
            continue  # the closed section says it
        elif note.kind == "find_contact" and (note.application_id, "find_contact") in flagged:
            continue  # the waiting draft already says it
        elif note.kind == "add_specific_point":
            if (note.application_id, "add_specific_point") in flagged:
                continue
            attention.append(AttentionLine(
                note.application_id, title(note.application_id), note.kind,
                "Note one specific point from the interview so the next draft can mention it:",
                f"followup note {shlex.quote(note.application_id)} \"…\""))
        else:
            attention.append(AttentionLine(note.application_id, title(note.application_id), note.kind, text))

    latest_outcome: dict[str, tuple[datetime, OutcomeLine]] = {}
    for app in data.applications:
        for at, line in _outcomes(app, since, tz, today):  # one line per application: its latest news
            if app.id not in latest_outcome or at >= latest_outcome[app.id][0]:
                latest_outcome[app.id] = (at, line)
    outcome_lines = tuple(line for _, line in sorted(latest_outcome.values(), key=lambda pair: pair[0]))

    horizon = now + DUE_WINDOW
    placed_keys = {(d.application_id, d.kind) for d in data.drafts}
    due = tuple(
        DueLine(u.application_id, title(u.application_id), _kind(u.kind), _when(u.due, tz, today),
                _line(u.to) or None, (u.due.astimezone(tz).date() - today).days)
        for u in sorted(data.upcoming, key=lambda u: (u.due, u.application_id, u.kind))
        if u.due <= horizon and (u.application_id, u.kind) not in placed_keys)

    next_by_app: dict[str, str] = {}
    for d in data.drafts:
        next_by_app.setdefault(d.application_id, f"{_kind(d.kind)} is in Drafts: send it")
    for u in sorted(data.upcoming, key=lambda u: u.due):
        next_by_app.setdefault(u.application_id, f"{_kind(u.kind)} {_when(u.due, tz, today)}")

    waiting = []
    for app in data.applications:
        if app.stage not in _WAITING_ON_EMPLOYER:
            continue
        contact = _last_contact(app)
        since_contact = contact.at if contact else app.created_at
        days = max(0, (today - since_contact.astimezone(tz).date()).days)
        if app.stage == "applied":
            what = "since you applied"
        elif contact is not None and contact.stage == "interviewed":
            what = "since the interview"
        else:
            what = "since you last heard from them"
        if app.stage == "followed_up" and app.followups_sent:
            what += f"; {app.followups_sent} follow-up{'s' if app.followups_sent != 1 else ''} sent"
        waiting.append(WaitingLine(app.id, _title(app), _chip(app), days,
                                   f"{_days(days)} {what}", next_by_app.get(app.id, "")))
    waiting.sort(key=lambda w: (-w.days, w.title))

    closed = []
    for app in data.applications:
        if app.stage != "no_response":
            continue
        at = _entered(app, "no_response") or app.created_at
        if now - at > CLOSED_LISTED_FOR:
            continue
        days = max(0, (today - at.astimezone(tz).date()).days)
        sent = app.followups_sent
        closed.append(ClosedLine(
            app.id, _title(app), _day_label(at.astimezone(tz).date()), days,
            f"No reply after {sent} follow-up{'s' if sent != 1 else ''}" if sent else "No reply",
            new=_recorded(app, "no_response", since)))
    closed.sort(key=lambda c: (c.days, c.title))

    rows_all = [_row(app, today, tz, next_by_app.get(app.id, "")) for app in data.applications]
    rows_all.sort(key=lambda r: (r.closed, -_last_event_ts(apps[r.id]), r.title))
    rows = [r for r in rows_all
            if not r.closed or now - _last_event(apps[r.id]) <= timedelta(days=STRIP_DAYS)]

    totals = _totals(data.applications)
    new_closed = sum(1 for c in closed if c.new)
    headline_subject = digest_subject(drafts=len(drafts), replies=len(outcome_lines), confirm=len(confirm),
                                      due=len(due), closed=new_closed)
    has_news = bool(drafts or outcome_lines or confirm or attention or new_closed
                    or any(line.days == 0 for line in due))
    first = sanitise_header(data.user_name).split(" ")[0] if data.user_name else ""
    strip_days = [today - timedelta(days=n) for n in range(STRIP_DAYS - 1, -1, -1)]
    return Digest(
        subject=sanitise_header(headline_subject),
        headline=headline_subject.removeprefix("Job search: "),
        local_date=today,
        date_text=f"{_WEEKDAYS[today.weekday()]} {today.day} {_MONTHS[today.month - 1]} {today.year}",
        greeting=f"Good morning, {first}." if first else "Good morning.",
        drafts=drafts,
        attention=tuple(attention),
        confirm=tuple(confirm),
        outcomes=outcome_lines,
        due=due,
        waiting=tuple(waiting),
        closed=tuple(closed),
        rows=tuple(rows),
        hidden_rows=len(rows_all) - len(rows),
        totals=totals,
        legend=tuple(Chip(s, STAGE_LABELS[s], *STAGE_COLOURS[s]) for s in STAGE_LABELS),
        strip_start=_day_label(strip_days[0]),
        strip_end=_day_label(strip_days[-1]),
        since_text=_when(since, tz, today),
        has_news=has_news,
        stale_drafts=sum(1 for d in drafts if d.stale),
    )


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _line(value: str | None) -> str:
    return sanitise_header(value)


def _title(app: ApplicationIn) -> str:
    company, role = _line(app.company), _line(app.role)
    if company and role:
        return f"{company} — {role}"
    return company or role or "(unknown company)"


def _kind(kind: str) -> str:
    return KIND_LABELS.get(kind, _line(kind).replace("_", " ").capitalize())


def _kinds(drafts: Sequence[DraftIn]) -> str:
    """ "thank-you note", "2 thank-you notes and first follow-up" """
    counts: dict[str, int] = {}
    for d in drafts:
        name = _kind(d.kind).lower()
        counts[name] = counts.get(name, 0) + 1
    parts = [f"{n} {name}s" if n > 1 else name for name, n in counts.items()]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _chip(app: ApplicationIn) -> Chip:
    label = STAGE_LABELS.get(app.stage, _line(app.stage).replace("_", " ").capitalize())
    if app.stage == "followed_up" and app.followups_sent > 1:
        label += f" ×{app.followups_sent}"
    return Chip(app.stage, label, *STAGE_COLOURS.get(app.stage, _UNKNOWN_COLOURS))


def _day_label(day: date) -> str:
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"


def _when(moment: datetime, tz: tzinfo, today: date) -> str:
    local = moment.astimezone(tz)
    delta = (local.date() - today).days
    clock = f"{local.hour:02d}:{local.minute:02d}"
    if delta == 0:
        return f"today {clock}"
    if delta == 1:
        return f"tomorrow {clock}"
    if delta == -1:
        return f"yesterday {clock}"
    return f"{_day_label(local.date())} {clock}"


def _days(n: int) -> str:
    return "today" if n == 0 else f"{n} day{'s' if n != 1 else ''}"


def _draft_line(d: DraftIn, title: str, now: datetime) -> DraftLine:
    age = now - d.placed_at
    days = max(0, age.days)
    if age < timedelta(hours=24):
        age_text = "new"
    else:
        age_text = f"waiting {_days(days)}"
    return DraftLine(
        application_id=d.application_id, title=title, kind=d.kind, kind_label=_kind(d.kind),
        recipient=_line(d.recipient) or None, subject=_line(d.subject), location=_line(d.location),
        link=d.link if d.link and d.link.startswith("https://") else None,
        age_days=days, age_text=age_text, stale=age > STALE_AFTER,
        holds_placeholder=d.holds_placeholder)


def _confirm_line(note: NoteIn, title: str) -> ConfirmLine:
    message_id = _line(note.message_id)
    label = _line(note.label) or "other"
    return ConfirmLine(
        application_id=note.application_id, title=title, subject=_line(note.subject) or "(no subject)",
        label=label, label_text=label.replace("_", " "), message_id=message_id,
        command=f"followup confirm {shlex.quote(message_id)} {shlex.quote(label)}",
        text=_line(note.text), tag=f"followup/{label}" if note.tags else None)


#: The sync opens an application with the cause "<message-id> (label)"; the label's event.
_OPENING_LABELS: Mapping[str, str] = {
    "acknowledgement": "acknowledged", "interview_invitation": "invited", "interview_scheduled": "scheduled",
    "positive": "positive", "rejection": "rejected", "timeline_update": "timeline_updated",
}


def _cause_event(cause: str) -> str:
    """The event name a recorded cause starts with ("rejected: <id>" -> "rejected")."""
    cause = cause.strip()
    if cause.startswith("<") and cause.endswith(")") and " (" in cause:
        return _OPENING_LABELS.get(cause.rsplit(" (", 1)[1][:-1], "")
    return cause.split(":", 1)[0].strip()


def _outcomes(app: ApplicationIn, since: datetime, tz: tzinfo,
              today: date) -> Iterable[tuple[datetime, OutcomeLine]]:
    for event in app.events:
        if event.stage not in _OUTCOME_TEXT or _cause_event(event.cause) not in _REPLY_CAUSES:
            continue
        # New since the last digest; a first sync that learns of old mail is not news.
        if (event.recorded_at or event.at) <= since or event.at <= since - OUTCOME_GRACE:
            continue
        chip = Chip(event.stage, STAGE_LABELS[event.stage], *STAGE_COLOURS[event.stage])
        yield event.at, OutcomeLine(app.id, _title(app), event.stage, _OUTCOME_TEXT[event.stage],
                                    _when(event.at, tz, today), chip)


def _last_contact(app: ApplicationIn) -> EventIn | None:
    """The latest event that was contact with the employer (a message, or the interview)."""
    contacts = [e for e in app.events if _cause_event(e.cause) not in _NOT_CONTACT]
    return max(contacts, key=lambda e: e.at) if contacts else None


def _entered(app: ApplicationIn, stage: str) -> datetime | None:
    moments = [e.at for e in app.events if e.stage == stage]
    return max(moments) if moments else None


def _recorded(app: ApplicationIn, stage: str, since: datetime) -> bool:
    return any(e.stage == stage and (e.recorded_at or e.at) > since for e in app.events)


def _last_event(app: ApplicationIn) -> datetime:
    return max((e.at for e in app.events), default=app.created_at)


def _last_event_ts(app: ApplicationIn) -> float:
    return _last_event(app).timestamp()


def _row(app: ApplicationIn, today: date, tz: tzinfo, next_text: str) -> AppRow:
    by_day: dict[date, list[EventIn]] = {}
    for event in app.events:
        by_day.setdefault(event.at.astimezone(tz).date(), []).append(event)
    cells = []
    for n in range(STRIP_DAYS - 1, -1, -1):
        day = today - timedelta(days=n)
        events = sorted(by_day.get(day, ()), key=lambda e: e.at)
        label = _day_label(day)
        if events:
            last = events[-1]
            names = ", ".join(dict.fromkeys(STAGE_LABELS.get(e.stage, e.stage).lower() for e in events))
            cells.append(DayCell(day, label, last.stage, STAGE_MARKS.get(last.stage, "*"),
                                 *STAGE_COLOURS.get(last.stage, _UNKNOWN_COLOURS),
                                 f"{label}: {names}", day == today, day.weekday() >= 5))
        else:
            cells.append(DayCell(day, label, None, "·",
                                 "#e2e8f0" if day.weekday() < 5 else "#f1f5f9", "#94a3b8", label,
                                 day == today, day.weekday() >= 5))
    last = max(app.events, key=lambda e: e.at, default=None)
    last_text = ""
    if last is not None:
        last_text = f"last change {_day_label(last.at.astimezone(tz).date())}"
    contact = _line(app.contact_name) or _line(app.contact_email)
    return AppRow(
        id=app.id, title=_title(app), company=_line(app.company) or "(unknown company)",
        role=_line(app.role), contact=contact, chip=_chip(app), strip=tuple(cells),
        strip_text="".join(c.mark for c in cells), next_text=next_text, last_text=last_text,
        closed=app.stage in _CLOSED)


def _totals(apps: Sequence[ApplicationIn]) -> Totals:
    interviews = sum(1 for a in apps for e in a.events if e.stage == "interviewed")
    responded = sum(1 for a in apps
                    if any(_cause_event(e.cause) in _REPLY_CAUSES for e in a.events))
    active = sum(1 for a in apps if a.stage not in _CLOSED)
    rate = round(100 * responded / len(apps)) if apps else None
    parts = [f"{len(apps)} application{'s' if len(apps) != 1 else ''} ({active} active)",
             f"{interviews} interview{'s' if interviews != 1 else ''}"]
    if rate is not None:
        parts.append(f"{rate}% response rate")
    return Totals(len(apps), active, interviews, responded, rate, " · ".join(parts))
