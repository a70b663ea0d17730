"""A small but complete job search for the digest tests: the real pipeline on a Maildir (Acme,
Hooli: interviews and drafts), plus a few applications written through the Store API (a
rejection learned this morning, a message the classifier was unsure about, an application
closed as no_response) so that every section of the digest has something in it.

Hostile input on purpose: the unsure message's subject is ``<script>alert(1)</script>`` and one
contact's display name holds a CR/LF followed by a header.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from sync_support import USER, invite, maildir_config

from followup.config import Config, load_config
from followup.core.model import FolderRole
from followup.engine import run_engine
from followup.mailbox.maildir import MaildirMailbox
from followup.runner import sync_context
from followup.store.db import Store
from followup.sync import sync_account

# Thursday 5 March 2026, 14:00-14:45 in New York (19:00 UTC): Acme's interview.
ACME_INTERVIEW = datetime(2026, 3, 5, 19, 0, tzinfo=UTC)
# Hooli's interview, two weeks earlier.
HOOLI_INTERVIEW = datetime(2026, 2, 19, 19, 0, tzinfo=UTC)
# Friday 6 March 2026, 08:30 in New York: the morning of the digest.
MORNING = datetime(2026, 3, 6, 13, 30, tzinfo=UTC)
SCRIPT = "<script>alert(1)</script>"
EVIL_NAME = "Eve Evil\r\nBcc: attacker@evil.example"


def make_config(tmp_path: Path, digest: str = "") -> Config:
    return load_config(maildir_config(tmp_path, digest))


@dataclass
class World:
    config: Config
    store: Store
    box: MaildirMailbox
    root: Path

    def cycle(self, now: datetime):
        sync_account(self.box, self.store, sync_context(self.config), now)
        return run_engine(self.box, self.store, self.config, now)


def pipeline(tmp_path: Path, digest: str = "") -> World:
    """Acme (interviewed yesterday: two thank-you drafts) and Hooli (interviewed two weeks ago:
    thank-you left unsent, first follow-up placed), through the real sync, classifier and engine."""
    config = make_config(tmp_path, digest)
    box = MaildirMailbox("home", tmp_path / "mail")
    world = World(config, Store.open(config.database_path), box, tmp_path / "mail")
    box.append(FolderRole.INBOX, invite(2, company="Hooli", start=HOOLI_INTERVIEW),
               flags=(), when=HOOLI_INTERVIEW - timedelta(days=3))
    world.cycle(HOOLI_INTERVIEW + timedelta(hours=1))
    box.append(FolderRole.INBOX, invite(1, company="Acme", start=ACME_INTERVIEW, interviewers=("alice", "bob")),
               flags=(), when=ACME_INTERVIEW - timedelta(days=3))
    world.cycle(ACME_INTERVIEW - timedelta(days=2))
    world.cycle(ACME_INTERVIEW + timedelta(hours=1))
    world.cycle(MORNING - timedelta(hours=1))
    return world


def raw_mail(message_id: str, subject: str, sender: str, date: datetime, body: str) -> bytes:
    return (f"From: {sender}\r\nTo: Dana <{USER}>\r\nSubject: {subject}\r\nDate: {format_datetime(date)}\r\n"
            f"Message-ID: {message_id}\r\n\r\n{body}\r\n").encode()


def add_inbound(store: Store, app_id: str, *, message_id: str, subject: str, sender: str, date: datetime,
                label: str, confidence: float, body: str = "Hello.", facts: dict | None = None) -> None:
    raw = raw_mail(message_id, subject, sender, date, body)
    thread = message_id
    store.insert_message(
        account="home", message_id=message_id, date=date.isoformat(), sender=sender.split("<")[-1].rstrip(">"),
        subject=subject, subject_key=subject.lower(), thread_key=thread, raw=raw, headers_only=0,
        label=label, confidence=confidence, evidence=[f"test: {label}"], facts=facts or {},
        learned_at=date.isoformat())
    store.link_thread("home", thread, app_id)


def enrich(world: World, now: datetime = MORNING) -> None:
    """Add Initech (rejected this morning), Globex (an unsure message, hostile text) and Umbrella
    (closed as no_response three days ago) through the Store API."""
    store = world.store
    with store.transaction():
        rejected_at = now - timedelta(hours=3)
        store.create_application("initech-1", "home", "Initech", "Platform Engineer", "waiting",
                                 now - timedelta(days=20))
        store.record_event("initech-1", now - timedelta(days=12), "scheduled", "scheduled: <i0@initech.example>",
                           now - timedelta(days=12))
        store.record_event("initech-1", now - timedelta(days=9), "interviewed",
                           "interview_ended: interview of round 1 ended", now - timedelta(days=9))
        add_inbound(store, "initech-1", message_id="<i1@initech.example>",
                    subject="Your application to Initech", sender="Pat Hiring <pat@initech.example>",
                    date=rejected_at, label="rejection", confidence=0.95,
                    body="We decided to move forward with other candidates.",
                    facts={"company": "Initech", "role": "Platform Engineer"})

        store.create_application("globex-1", "home", "Globex", "Analyst", "applied", now - timedelta(days=6))
        store.update_application("globex-1", now - timedelta(days=6), contact_name=EVIL_NAME,
                                 contact_email="eve@globex.example")
        store.record_event("globex-1", now - timedelta(days=6), "applied", "<g0@globex.example> (acknowledgement)",
                           now - timedelta(days=6))
        add_inbound(store, "globex-1", message_id="<g1@globex.example>", subject=SCRIPT,
                    sender="Eve <eve@globex.example>", date=now - timedelta(hours=20),
                    label="interview_invitation", confidence=0.41)

        store.create_application("umbrella-1", "home", "Umbrella", "SRE", "no_response", now - timedelta(days=60))
        for days, stage, cause in ((50, "interviewed", "interview_ended: interview of round 1 ended"),
                                   (42, "followed_up", "followup_sent: followup_1 sent"),
                                   (35, "followed_up", "followup_sent: followup_2 sent"),
                                   (17, "followed_up", "followup_sent: followup_final sent"),
                                   (3, "no_response", "gave_up: no reply 14 days after the last follow-up")):
            store.record_event("umbrella-1", now - timedelta(days=days), stage, cause, now - timedelta(days=days))
