"""Helpers shared by the sync tests: a table-driven stand-in for the classifier and a mail maker."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from followup.core.model import Classification, Facts, Label, Message
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
    settings = dict(reader=fake_reader, could_matter=lambda m: "newsletter" not in m.subject.lower(),
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
