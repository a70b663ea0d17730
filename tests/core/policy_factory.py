"""Builders for application histories, so policy and compose tests read as stories.

``Story`` collects inbound and outbound messages and draft records in the order a test tells
them and turns them into an :class:`ApplicationHistory`. Times are written as local wall times
("2025-03-03 10:00") in the story's zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from followup.core.model import (
    Address,
    CalendarEvent,
    Classification,
    DraftFate,
    DraftKind,
    Facts,
    Label,
    Message,
)
from followup.core.policy import (
    ApplicationHistory,
    DraftRecord,
    HistoryItem,
    PolicySettings,
    decide,
)

USER = Address("Sam Candidate", "sam@example.com")
RECRUITER = Address("Rita Recruiter", "rita@acme.example")
ALICE = Address("Alice Archer", "alice@acme.example")
BOB = Address("Bob Builder", "bob@acme.example")
ATS = Address("Acme Careers", "no-reply@ats.example")
SCHEDULER = Address("Acme via Scheduler", "notifications@scheduler.example")

ACCOUNT = "sam@example.com"
APPLICATION = "acme/data-engineer"


def at(text: str, tz: ZoneInfo | str = "America/New_York") -> datetime:
    """'2025-03-03 10:00' in ``tz`` as an aware datetime."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def day(text: str) -> date:
    return date.fromisoformat(text)


@dataclass
class Story:
    """An application told message by message."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("America/New_York"))
    company: str | None = "Acme"
    role: str | None = "Data Engineer"
    account: str = ACCOUNT
    application_id: str = APPLICATION
    items: list[HistoryItem] = field(default_factory=list)
    drafts: list[DraftRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _n: int = 0

    def when(self, text: str | datetime) -> datetime:
        return text if isinstance(text, datetime) else at(text, self.tz)

    def _mid(self) -> str:
        self._n += 1
        return f"<m{self._n}@mail.example>"

    def inbound(
        self,
        label: Label,
        when: str | datetime,
        *,
        confidence: float = 0.95,
        sender: Address | None = RECRUITER,
        contact: Address | None = RECRUITER,
        subject: str = "Your application to Acme",
        start: str | datetime | None = None,
        end: str | datetime | None = None,
        interviewers: tuple[Address, ...] = (),
        decision: date | None = None,
        ooo_return: date | None = None,
        learned: str | datetime | None = None,
        calendar: tuple[CalendarEvent, ...] = (),
        references: tuple[str, ...] = (),
        text: str = "",
    ) -> Message:
        sent = self.when(when)
        msg = Message(
            message_id=self._mid(), date=sent, sender=sender, to=(USER,), subject=subject,
            references=references, calendar=calendar, text=text,
        )
        facts = Facts(
            company=self.company, role=self.role, contact=contact,
            interview_start=self.when(start) if start else None,
            interview_end=self.when(end) if end else None,
            interviewers=interviewers, decision_date=decision, ooo_return=ooo_return,
        )
        self.items.append(HistoryItem(
            message=msg, outbound=False, classification=Classification(label, confidence),
            facts=facts, learned_at=self.when(learned) if learned else sent,
        ))
        return msg

    def outbound(
        self,
        when: str | datetime,
        *,
        to: tuple[Address, ...] = (RECRUITER,),
        text: str = "Thanks again.",
        key: str | None = None,
        company: str | None = None,
        subject: str = "Re: Your application to Acme",
        in_reply_to: Message | None = None,
        learned: str | datetime | None = None,
    ) -> Message:
        sent = self.when(when)
        msg = Message(
            message_id=self._mid(), date=sent, sender=USER, to=to, subject=subject, text=text,
            in_reply_to=in_reply_to.message_id if in_reply_to else None,
        )
        self.items.append(HistoryItem(
            message=msg, outbound=True, classification=None,
            facts=Facts(company=company), learned_at=self.when(learned) if learned else sent,
            draft_key=key,
        ))
        return msg

    def draft(self, key: str, kind: DraftKind, fate: DraftFate, created: str | datetime,
              sent: str | datetime | None = None) -> None:
        self.drafts.append(DraftRecord(
            key=key, kind=kind, fate=fate, created_at=self.when(created),
            sent_at=self.when(sent) if sent else None,
        ))

    def history(self) -> ApplicationHistory:
        return ApplicationHistory(
            account=self.account, application_id=self.application_id, company=self.company,
            role=self.role, items=tuple(self.items), drafts=tuple(self.drafts),
            notes=tuple(self.notes), user_addresses=frozenset({USER.email}),
        )

    def settings(self, **overrides) -> PolicySettings:
        overrides.setdefault("tz", self.tz)
        return PolicySettings(**overrides)

    def decide(self, now: str | datetime, **overrides):
        return decide(self.history(), self.when(now), self.settings(**overrides))

    def send(self, intent, when: str | datetime, *, text: str = "Following up.") -> Message:
        """The user sends a draft we proposed: a Sent copy carrying its key, and the journal."""
        self.draft(intent.key, intent.kind, DraftFate.SENT, intent.due, when)
        return self.outbound(when, to=(intent.to,) if intent.to else (), text=text,
                             key=intent.key)


def scheduled_interview(story: Story, *, invited: str, start: str,
                        interviewers: tuple[Address, ...] = (), **kw) -> Message:
    """An invitation, then a confirmation of an interview at ``start`` (45 minutes)."""
    story.inbound(Label.INTERVIEW_INVITATION, invited)
    confirmed = story.when(invited) + timedelta(hours=2)
    return story.inbound(Label.INTERVIEW_SCHEDULED, confirmed, start=start,
                         interviewers=interviewers, subject="Interview confirmed", **kw)


def kinds(decision) -> list[str]:
    return [d.kind.value for d in decision.drafts]


def only(decision, kind: DraftKind):
    found = [d for d in decision.drafts if d.kind is kind]
    got = [d.kind.value for d in decision.drafts]
    assert len(found) == 1, f"expected one {kind.value}, got {got}"
    return found[0]
