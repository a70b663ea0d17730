"""The daily digest's shell: gather from the store, build (pure), render, deliver once a day.

:func:`render_digest` renders it now without sending (``followup digest --preview``).
:func:`send_digest_if_due` is what the daemon's daily job calls (and ``followup digest
--send``): it sends at most one digest per local day, when the local time has reached
``digest.hour``.

At most once per day, even across restarts and clock changes
--------------------------------------------------------------
The store keeps one row per local day in ``digests``. Sending claims the day first, in a
``BEGIN IMMEDIATE`` transaction that also checks that no row exists for this day *or a later
one* (a clock set back does not make yesterday sendable again), commits, delivers, then marks
the row ``sent``. A delivery that fails releases the claim, so the next call retries. A
process killed between the claim and the mark leaves a ``sending`` row: after
:data:`STALE_CLAIM`, an INBOX delivery is looked up by its ``X-Followup-Digest`` header
(found: marked sent; not found: delivered again), while an SMTP one is never repeated (the
server may have taken it). ``skip_when_empty`` records a ``skipped`` day. "Since the last
digest" counts from the last one ``sent``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.headerregistry import Address as HeaderAddress
from functools import lru_cache
from pathlib import Path

import jinja2

from followup.config import Config, ImapAccount, MaildirAccount
from followup.core.digest import (
    ApplicationIn,
    Digest,
    DigestInput,
    DraftIn,
    EventIn,
    NoteIn,
    UpcomingIn,
    build_digest,
)
from followup.core.model import DraftFate, FolderRole
from followup.core.parse import parse_message
from followup.core.policy import holds_placeholder
from followup.delivery import DIGEST_HEADER, append_to_inbox, build_message, parse_address, send_smtp
from followup.errors import ConfigError, FollowupError
from followup.mailbox.base import Mailbox
from followup.store.db import Store

log = logging.getLogger(__name__)

#: A ``sending`` claim older than this belongs to a process that died mid-delivery.
STALE_CLAIM = timedelta(minutes=15)
_TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
#: Draft kinds whose template holds the marked spot when the user noted nothing.
_POINT_KINDS = ("thank_you", "followup_1", "rejection_reply")


@dataclass(frozen=True)
class DigestOutcome:
    """What :func:`send_digest_if_due` did.

    ``status``: ``sent``; ``not_due`` (before ``digest.hour``); ``already_sent`` (this day, or a
    later one, has its digest); ``skipped_empty`` (``skip_when_empty`` and nothing new);
    ``disabled`` (``digest.enabled: false``); ``preview_only`` (``delivery: none``); ``failed``
    (delivery failed: ``detail`` says why, and a later call retries).
    """

    status: str
    local_date: date
    subject: str | None = None
    delivery: str | None = None
    message_id: str | None = None
    detail: str = ""

    @property
    def sent(self) -> bool:
        return self.status == "sent"


# -- gathering -------------------------------------------------------------------------------


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _drafts_location(config: Config, account_name: str) -> str:
    try:
        account = config.account(account_name)
    except ConfigError:
        return f"Drafts ({account_name})"
    if isinstance(account, MaildirAccount) and account.drafts_folder != ".Drafts":
        return f"“{account.drafts_folder}” folder of {account.name}"
    if isinstance(account, ImapAccount) and account.folders.get("drafts"):
        return f"“{account.folders['drafts']}” folder of {account.name}"
    return f"Drafts folder of {account.name}"


def gather(config: Config, store: Store, now: datetime) -> DigestInput:
    """Read what the digest needs from the store and the policy (nothing is written)."""
    from followup.confirmations import tags_supported
    from followup.core.policy import decide
    from followup.engine import load_history, policy_settings, user_address_for

    settings = policy_settings(config)
    users = config.user_addresses()
    applications: list[ApplicationIn] = []
    upcoming: list[UpcomingIn] = []
    notes: list[NoteIn] = []
    app_notes: dict[str, bool] = {}
    taggable: dict[str, bool] = {}  # account -> its mail program can confirm by a followup/<label> tag
    for row in store.applications():
        app_id = row["id"]
        events = [EventIn(datetime.fromisoformat(e["at"]), e["stage"], e["cause"], _moment(e["recorded_at"]))
                  for e in store.events(app_id)]
        stage, followups = row["stage"], 0
        app_notes[app_id] = bool(store.notes(app_id))
        try:
            mine = users | {user_address_for(config, row["account"]).email}
            decision = decide(load_history(store, row, mine), now, settings)
        except Exception:  # noqa: BLE001 - one odd application must not cost the whole digest
            log.exception("digest: could not evaluate application %s; showing its stored state", app_id)
            decision = None
        if decision is not None:
            # The decision is fresher than the stored stage (time moves stages too), but an
            # application whose messages are gone from the window keeps what was recorded.
            if decision.changes:
                stage, followups = decision.stage.value, decision.followups_sent
            else:
                followups = sum(1 for e in events if e.cause.startswith("followup_sent"))
            known = {(e.stage, e.cause) for e in events}
            events += [EventIn(c.at, c.stage.value, c.cause) for c in decision.changes
                       if (c.stage.value, c.cause) not in known]
            for intent in decision.drafts:
                if store.draft(intent.key) is None:
                    upcoming.append(UpcomingIn(app_id, intent.kind.value, intent.due,
                                               intent.to.formatted() if intent.to else None))
            for note in decision.notes:
                label = subject = None
                if note.kind == "please_confirm" and note.message_id:
                    message = store.message(row["account"], note.message_id)
                    if message is not None:
                        if message.confirmed_label:
                            continue
                        label, subject = message.label, message.subject
                if row["account"] not in taggable:
                    taggable[row["account"]] = tags_supported(config, row["account"])
                notes.append(NoteIn(app_id, note.kind, note.text, note.message_id, note.at, label, subject,
                                    tags=taggable[row["account"]]))
        applications.append(ApplicationIn(
            id=app_id, account=row["account"], company=row["company"], role=row["role"], stage=stage,
            created_at=datetime.fromisoformat(row["created_at"]), contact_name=row["contact_name"],
            contact_email=row["contact_email"], events=tuple(sorted(events, key=lambda e: e.at)),
            followups_sent=followups))
    drafts = []
    for d in store.drafts(fates=[DraftFate.PLACED.value]):
        stored = store.message(d["account"], d["message_id"])
        if stored is not None and stored.raw:
            placeholder = holds_placeholder(parse_message(stored.raw).text)
        else:  # not synced back yet: the template holds the spot when nothing was noted
            placeholder = d["kind"] in _POINT_KINDS and not app_notes.get(d["application_id"], False)
        drafts.append(DraftIn(
            key=d["key"], application_id=d["application_id"], kind=d["kind"], recipient=d["recipient"],
            subject=d["subject"] or "", placed_at=datetime.fromisoformat(d["placed_at"] or d["journalled_at"]),
            location=_drafts_location(config, d["account"]), holds_placeholder=placeholder))
    last = store.latest_digest(["sent"])
    since = _moment(last["sent_at"]) if last is not None else None
    return DigestInput(now=now, tz=config.tz, applications=tuple(applications), drafts=tuple(drafts),
                       upcoming=tuple(upcoming), notes=tuple(notes), since=since, user_name=config.user.name)


def build(config: Config, store: Store, now: datetime) -> Digest:
    """The digest's content for ``now``."""
    return build_digest(gather(config, store, now))


# -- rendering -------------------------------------------------------------------------------


@lru_cache(maxsize=2)
def _environment(html: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATE_DIR)),
        autoescape=html,  # HTML: every value escaped; text/plain: nothing to escape
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(digest: Digest) -> tuple[str, str]:
    """Given a digest, return (plain text, HTML)."""
    text = _environment(False).get_template("digest.txt").render(digest=digest)
    html = _environment(True).get_template("digest.html").render(digest=digest)
    return text, html


def render_digest(config: Config, store: Store, now: datetime) -> tuple[str, str, str]:
    """Render the digest for ``now`` without sending it: (subject, text, html)."""
    digest = build(config, store, now)
    text, html = render(digest)
    return digest.subject, text, html


# -- sending ---------------------------------------------------------------------------------


def inbox_account(config: Config) -> str:
    """The account whose INBOX receives the digest (``digest.account``, else the first)."""
    name = config.digest.account or config.accounts[0].name
    config.account(name)  # raises ConfigError naming the missing account
    return name


def addresses(config: Config) -> tuple[HeaderAddress, HeaderAddress]:
    """(From, To) of the digest; raises ConfigError when no address is known."""
    from followup.engine import user_address_for

    settings = config.digest
    to_value = settings.to or next(iter(config.user.addresses), None)
    if settings.delivery == "smtp":
        to_value = to_value or next((a.address for a in config.accounts if a.address), None)
        if not to_value:
            raise ConfigError("digest.to: no address to send the digest to (set digest.to or user.addresses)")
        to = parse_address(to_value, where="digest.to")
        sender_value = settings.smtp.sender if settings.smtp and settings.smtp.sender else to.addr_spec
        sender = parse_address(sender_value, where="digest.smtp.from")
    else:
        # Into the user's own INBOX, from the user's own address: the sync then files it as
        # the user's mail and never reads it as something from an employer.
        own = user_address_for(config, inbox_account(config)).email
        to = parse_address(to_value or own, where="digest.to")
        sender = HeaderAddress(addr_spec=own)
    return HeaderAddress(display_name="Job search digest", addr_spec=sender.addr_spec), to


def _connected(config: Config, name: str, mailboxes: dict[str, Mailbox] | None) -> tuple[Mailbox, bool]:
    from followup.mailbox.factory import open_mailbox

    given = (mailboxes or {}).get(name)
    mailbox = given if given is not None else open_mailbox(config, name)
    mailbox.connect()
    return mailbox, given is None


def _deliver(config: Config, message, now: datetime, mailboxes: dict[str, Mailbox] | None) -> None:
    if config.digest.delivery == "smtp":
        assert config.digest.smtp is not None  # guaranteed by DigestSettings._check
        send_smtp(config.digest.smtp, message)
        return
    mailbox, own = _connected(config, inbox_account(config), mailboxes)
    try:
        append_to_inbox(mailbox, message, when=now)
    finally:
        if own:
            mailbox.close()


def _in_inbox(config: Config, local_date: str, mailboxes: dict[str, Mailbox] | None) -> bool:
    mailbox, own = _connected(config, inbox_account(config), mailboxes)
    try:
        return bool(mailbox.find_by_header(FolderRole.INBOX, DIGEST_HEADER, local_date))
    finally:
        if own:
            mailbox.close()


def _may_claim(store: Store, day: str, retry_claim: str | None) -> bool:
    latest = store.latest_digest()
    if latest is None or latest["local_date"] < day:
        return True
    return (retry_claim is not None and latest["local_date"] == day and latest["status"] == "sending"
            and latest["claimed_at"] == retry_claim)


def send_digest_if_due(config: Config, store: Store, now: datetime, *,
                       mailboxes: dict[str, Mailbox] | None = None, force: bool = False,
                       ignore_hour: bool = False) -> DigestOutcome:
    """Send today's digest when it is due and not sent yet; return what happened.

    ``mailboxes`` maps account names to backends the caller already holds (the daemon's); others
    are opened and closed here. ``ignore_hour`` sends before ``digest.hour`` (``followup digest
    --send``); ``force`` also sends a second one on a day that has one. A failed delivery is
    returned as ``failed`` (never raised) and retried by a later call; a ConfigError (a bad
    address or secret reference) is raised.
    """
    settings = config.digest
    local = now.astimezone(config.tz)
    today = local.date()
    day = today.isoformat()
    if not settings.enabled and not force:
        return DigestOutcome("disabled", today, detail="digest.enabled is false")
    if settings.delivery == "none":
        return DigestOutcome("preview_only", today, delivery="none",
                             detail="digest.delivery is none: `followup digest --preview` shows it")
    if not (force or ignore_hour) and local.hour < settings.hour:
        return DigestOutcome("not_due", today, detail=f"due at {settings.hour:02d}:00")
    previous = store.digest_record(day)
    retry_claim: str | None = None
    if not force:
        latest = store.latest_digest()
        if latest is not None and latest["local_date"] >= day:
            stale = (latest["status"] == "sending" and latest["local_date"] == day
                     and now - datetime.fromisoformat(latest["claimed_at"]) > STALE_CLAIM)
            if not stale:
                detail = (f"the digest of {latest['local_date']} is {latest['status']}"
                          + ("; the clock seems to have gone back" if latest["local_date"] > day else ""))
                return DigestOutcome("already_sent", today, latest["subject"], latest["delivery"],
                                     latest["message_id"], detail)
            if latest["delivery"] == "smtp":
                return DigestOutcome("already_sent", today, latest["subject"], "smtp", latest["message_id"],
                                     "an earlier delivery was interrupted; the server may have it, "
                                     "so it is not sent twice")
            try:
                found = _in_inbox(config, day, mailboxes)
            except FollowupError as exc:
                if isinstance(exc, ConfigError):
                    raise
                return DigestOutcome("failed", today, latest["subject"], latest["delivery"],
                                     detail=f"cannot check an interrupted delivery: {exc}")
            if found:
                with store.transaction():
                    store.update_digest(day, status="sent", sent_at=now.isoformat())
                return DigestOutcome("already_sent", today, latest["subject"], latest["delivery"],
                                     latest["message_id"], "an interrupted delivery had reached the INBOX")
            retry_claim = latest["claimed_at"]

    digest = build(config, store, now)
    delivery = settings.delivery
    if settings.skip_when_empty and not digest.has_news and not force:
        with store.transaction():
            if not _may_claim(store, day, retry_claim):
                return DigestOutcome("already_sent", today, detail="claimed by another process")
            store.record_digest(day, status="skipped", delivery=delivery, claimed_at=now, subject=digest.subject)
        return DigestOutcome("skipped_empty", today, digest.subject, delivery, detail="nothing new today")

    text, html = render(digest)
    sender, to = addresses(config)
    message, message_id = build_message(subject=digest.subject, text=text, html=html, sender=sender, to=to,
                                        now=local, local_date=today)
    with store.transaction():
        if not force and not _may_claim(store, day, retry_claim):
            return DigestOutcome("already_sent", today, detail="claimed by another process")
        store.record_digest(day, status="sending", delivery=delivery, claimed_at=now,
                            subject=digest.subject, message_id=message_id)
    try:
        _deliver(config, message, now, mailboxes)
    except FollowupError as exc:
        with store.transaction():
            store.forget_digest(day)
            if previous is not None:  # a forced second digest failed: the first one still counts
                store.record_digest(day, status=previous["status"], delivery=previous["delivery"],
                                    claimed_at=datetime.fromisoformat(previous["claimed_at"]),
                                    subject=previous["subject"], message_id=previous["message_id"])
                store.update_digest(day, sent_at=previous["sent_at"])
        if isinstance(exc, ConfigError):
            raise
        log.info("digest: delivery by %s failed: %s", delivery, exc)  # the caller reports the outcome
        return DigestOutcome("failed", today, digest.subject, delivery, message_id, str(exc))
    with store.transaction():
        store.update_digest(day, status="sent", sent_at=now.isoformat())
    log.info("digest: sent %r by %s", digest.subject, delivery)
    return DigestOutcome("sent", today, digest.subject, delivery, message_id)
