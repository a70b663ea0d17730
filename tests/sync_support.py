"""Helpers shared by the sync, engine, CLI and digest tests: a table-driven stand-in for the
classifier, mail makers, and the one-account Maildir config (``maildir_config``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from followup.core.model import Classification, Facts, Label, Message
from followup.core.prefilter import BodyNeed
from followup.sync import SyncContext

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
USER = "dana@example.net"


def fake_reader(message: Message) -> tuple[Classification, Facts]:
    subject = message.subject.lower()
    for word, label in (("interview", Label.INTERVIEW_INVITATION), ("received", Label.ACKNOWLEDGEMENT),
                        ("unfortunately", Label.REJECTION)):
        if word in subject:
            company = message.sender.domain.split(".")[0].title() if message.sender else None
            return Classification(label, 0.9, (f"subject: {word}",)), Facts(
                company=company, role="Engineer", contact=message.sender)
    return Classification(Label.OTHER, 0.9, ()), Facts()


def context(**overrides) -> SyncContext:
    settings = dict(reader=fake_reader,
                    could_matter=lambda m: BodyNeed.NONE if "newsletter" in m.subject.lower() else BodyNeed.FULL,
                    user_addresses=frozenset({USER}), tz=ZoneInfo("UTC"))
    return SyncContext(**{**settings, **overrides})


def mail(n: int, subject: str, *, sender="ann@acme.example", to=USER, reply_to: str | None = None,
         date: datetime | None = None) -> bytes:
    date = date or datetime(2026, 3, 1, 9, n % 60, tzinfo=UTC)
    lines = [f"From: Ann <{sender}>", f"To: {to}", f"Subject: {subject}", f"Date: {format_datetime(date)}",
             f"Message-ID: <m{n}@example>"]
    if reply_to:
        lines += [f"In-Reply-To: {reply_to}", f"References: {reply_to}"]
    return ("\r\n".join(lines) + "\r\n\r\nHello.\r\n").encode()


def invite(n: int, *, company: str, start: datetime, minutes: int = 45, organizer: str = "rita",
           interviewers: tuple[str, ...] = ("alice",), user: str = USER, role: str = "Data Engineer") -> bytes:
    """A calendar invitation (METHOD:REQUEST) to an interview, as a recruiter's calendar sends it."""
    domain = f"{company.lower()}.example"
    end = start + timedelta(minutes=minutes)
    stamp = "%Y%m%dT%H%M%SZ"
    attendees = "".join(
        f"ATTENDEE;CN={name.title()} Person;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT:mailto:{name}@{domain}\r\n"
        for name in interviewers)
    ics = (
        "BEGIN:VCALENDAR\r\nPRODID:-//Test//EN\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
        f"UID:interview-{n}@{domain}\r\nSEQUENCE:0\r\n"
        f"DTSTART:{start.astimezone(UTC).strftime(stamp)}\r\nDTEND:{end.astimezone(UTC).strftime(stamp)}\r\n"
        f"DTSTAMP:{(start - timedelta(days=3)).astimezone(UTC).strftime(stamp)}\r\n"
        f"SUMMARY:Interview: {role} at {company}\r\n"
        f"ORGANIZER;CN={organizer.title()} Recruiter:mailto:{organizer}@{domain}\r\n"
        f"{attendees}ATTENDEE;CN=Dana;CUTYPE=INDIVIDUAL:mailto:{user}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    sent = start - timedelta(days=3)
    text = (f"Hi Dana,\r\n\r\nThank you for applying to the {role} position at {company}. I have scheduled your "
            f"interview for {start.astimezone(UTC):%A, %B %d at %H:%M} UTC. The invitation is attached.\r\n\r\n"
            f"Best regards,\r\n{organizer.title()} Recruiter\r\nTalent Acquisition, {company}\r\n")
    return (
        f"From: {organizer.title()} Recruiter <{organizer}@{domain}>\r\nTo: Dana <{user}>\r\n"
        f"Subject: Invitation: Interview for {role} at {company}\r\nDate: {format_datetime(sent)}\r\n"
        f"Message-ID: <invite{n}@{domain}>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n--b1\r\n"
        "Content-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n" + ics + "\r\n--b1--\r\n"
    ).encode()


def maildir_config(tmp_path, extra: str = ""):  # type: ignore[no-untyped-def]
    """The tests' one-account setup: a Maildir at ``tmp_path/mail`` (account ``home``, the user
    ``USER``, New York time) and its config written to ``tmp_path/config.yaml``, with ``extra``
    YAML lines appended; return the config's path."""
    for sub in ("cur", "new", "tmp"):
        (tmp_path / "mail" / sub).mkdir(parents=True, exist_ok=True)
    path = tmp_path / "config.yaml"
    path.write_text(f"""
timezone: America/New_York
state_dir: {tmp_path / 'state'}
user: {{name: Dana Reyes, addresses: [{USER}]}}
accounts: [{{name: home, type: maildir, path: {tmp_path / 'mail'}, address: {USER}}}]
{extra}
""")
    return path
