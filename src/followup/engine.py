"""The follow-up engine's shell: from the store to the policy, and from its decisions to drafts.

For one account, after a sync:

1. **Reconcile** the journal: a draft journalled but not confirmed placed (a crash between the
   journal write and the APPEND, or between the APPEND and its confirmation) is looked up by its
   ``X-Followup-Key`` in Drafts, then in Sent. Found: confirmed. Not found anywhere: the write
   never happened, the journal row is dropped and step 3 makes the draft again.
2. **Track fates** of placed drafts: still in Drafts untouched; edited (re-saved, so it moved);
   sent (found in Sent: by its key, its Message-ID, or an answer to the same message after it
   was placed); deleted without sending (dismissed). Edited and dismissed drafts are never
   touched or made again: their key stays in the journal.
3. **Decide and place**: the pure policy (:func:`followup.core.policy.decide`) gets each
   application's history; every draft intent that is due and whose key is not journalled is
   composed, journalled (committed), appended to Drafts with ``\\Draft``, then marked placed.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from followup.config import Config, ImapAccount
from followup.core.model import Address, Classification, DraftFate, DraftKind, Facts, FolderRole, Label, Message, Stage
from followup.core.parse import parse_message
from followup.core.policy import (
    ApplicationHistory,
    DigestNote,
    DraftIntent,
    DraftRecord,
    HistoryItem,
    PolicySettings,
    decide,
)
from followup.mailbox.base import Mailbox
from followup.store.db import MessageRow, Store

log = logging.getLogger(__name__)

FOLLOWUP_KEY_HEADER = "X-Followup-Key"
#: A user who deletes a draft and sends it from elsewhere later still gets credit for a while.
LATE_SENT_WINDOW = timedelta(days=14)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class DraftRefused(Exception):
    """The draft could not be composed safely from this application's mail (nothing was written)."""


@dataclass(frozen=True)
class PlacedDraft:
    """A draft this cycle put into Drafts."""

    at: datetime
    key: str
    kind: str
    application: str
    to: str | None
    subject: str
    raw: bytes


@dataclass(frozen=True)
class StageEvent:
    at: datetime
    application: str
    stage: str
    cause: str


@dataclass
class EngineReport:
    account: str
    placed: list[PlacedDraft] = field(default_factory=list)
    stages: list[StageEvent] = field(default_factory=list)
    notes: list[tuple[str, DigestNote]] = field(default_factory=list)
    reconciled: int = 0
    fates: dict[str, str] = field(default_factory=dict)
    next_wakeup: datetime | None = None  # the earliest moment a decision may change by time alone
    refused: list[tuple[str, str, str]] = field(default_factory=list)  # (application, kind, reason)


def policy_settings(config: Config) -> PolicySettings:
    s = config.schedule
    return PolicySettings(
        tz=config.tz, country=config.country, subdivision=config.subdivision,
        morning_hour=s.morning_hour, interview_duration=timedelta(minutes=s.interview_minutes),
        thank_you_max_lateness=timedelta(hours=s.thank_you_max_lateness_hours),
        followup_1_delay_days=s.followup_1_days, followup_2_delay_days=s.followup_2_days,
        final_delay_days=s.final_days, stop_after_days=s.stop_days, max_followups=s.max_followups,
        reply_to_early_rejection=s.reply_to_early_rejection, confidence_threshold=s.confidence_threshold,
    )


def user_address_for(config: Config, account_name: str) -> Address:
    """The From of drafts placed in this account."""
    account = config.account(account_name)
    email = account.address or (account.username if isinstance(account, ImapAccount) and "@" in account.username
                                else None) or next(iter(sorted(config.user.addresses)), None)
    return Address(name=config.user.name, email=(email or "me@localhost").lower())


def run_engine(mailbox: Mailbox, store: Store, config: Config, now: datetime, *, env=None) -> EngineReport:
    """Reconcile, track fates, decide and place for one account (see the module docstring).

    Raises MailboxError (the caller retries later; the journal keeps it exactly-once) or StoreError.
    """
    from followup.core.compose import default_template_environment

    account = mailbox.account
    report = EngineReport(account=account)
    report.reconciled = reconcile_journal(mailbox, store, now)
    report.fates = track_fates(store, account, now)
    settings = policy_settings(config)
    if env is None:
        templates = config.schedule.templates_dir
        env = default_template_environment(Path(templates).expanduser() if templates else None)
    user = user_address_for(config, account)
    users = config.user_addresses() | {user.email}
    fingerprint = decision_fingerprint(config, user)
    for row in store.applications(account):
        if not needs_decision(store, row, now, fingerprint):
            wake = datetime.fromisoformat(row["next_wakeup"]) if row["next_wakeup"] else None
            if wake is not None and (report.next_wakeup is None or wake < report.next_wakeup):
                report.next_wakeup = wake
            continue
        history = load_history(store, row, users)
        decision = decide(history, now, settings)
        _apply_stages(store, row, decision.stage, decision.changes, now, report)
        report.notes.extend((row["id"], note) for note in decision.notes)
        upcoming = [i.due for i in decision.drafts if i.due > now and store.draft(i.key) is None]
        for moment in (*upcoming, decision.next_wakeup):
            if moment is not None and moment > now and (report.next_wakeup is None or moment < report.next_wakeup):
                report.next_wakeup = moment
        for intent in decision.drafts:
            if intent.due > now or store.draft(intent.key) is not None:
                continue
            try:
                placed = place_draft(mailbox, store, intent, history, user=user, now=now, env=env,
                                     signature_name=config.user.name or None)
            except DraftRefused as exc:
                # One hostile or broken message must not stop every other draft of the account.
                log.warning("%s: %s draft for %s not made: %s", account, intent.kind.value, row["id"], exc)
                report.refused.append((row["id"], intent.kind.value, str(exc)))
                continue
            report.placed.append(placed)
        wake = min((m for m in (*upcoming, decision.next_wakeup) if m is not None and m > now), default=None)
        with store.transaction():
            store.update_application(row["id"], now, decided_at=now.isoformat(), decided_with=fingerprint,
                                     next_wakeup=wake.isoformat() if wake else None)
    return report


def decision_fingerprint(config: Config, user: Address) -> str:
    """What, besides the store, a decision depends on: the program's version and the settings."""
    from followup import __version__

    parts = (__version__, repr(policy_settings(config)), str(config.schedule.templates_dir), user.email,
             config.user.name, repr(sorted(config.user_addresses())))
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def needs_decision(store: Store, app, now: datetime, fingerprint: str) -> bool:
    """False only when nothing the policy reads changed since the last decision and its
    ``next_wakeup`` (the first moment the answer can change by time alone) has not come:
    the policy is a pure function of the stored history, the settings and ``now``."""
    keys = app.keys()
    decided_at = app["decided_at"] if "decided_at" in keys else None
    if not decided_at or app["decided_with"] != fingerprint:
        return True
    if datetime.fromisoformat(decided_at) > now:
        return True  # the clock went back (or a simulation restarted): decide afresh
    if app["next_wakeup"] and datetime.fromisoformat(app["next_wakeup"]) <= now:
        return True
    return store.changed_since(app["id"], decided_at)


def load_history(store: Store, app: object, user_addresses: frozenset[str]) -> ApplicationHistory:
    """Build the policy's view of one application from the store."""
    app_id = app["id"]
    items = []
    for thread in store.threads_of_application(app_id):
        for row in store.messages_in_thread(app["account"], thread):
            if row.outbound and row.sent_at is None:
                continue  # still a draft (ours or the user's): not something the user has sent
            items.append(_history_item(row))
    items.sort(key=lambda item: (item.message.date or _EPOCH, item.message.message_id))
    drafts = tuple(
        DraftRecord(key=d["key"], kind=DraftKind(d["kind"]), fate=DraftFate(d["fate"]),
                    created_at=datetime.fromisoformat(d["placed_at"] or d["journalled_at"]),
                    sent_at=datetime.fromisoformat(d["sent_at"]) if d["sent_at"] else None,
                    recipient=d["recipient"])
        for d in store.drafts(application_id=app_id))
    return ApplicationHistory(
        account=app["account"], application_id=app_id, company=app["company"], role=app["role"],
        items=tuple(items), drafts=drafts, notes=tuple(store.notes(app_id)), user_addresses=user_addresses)


def _history_item(row: MessageRow) -> HistoryItem:
    message = parse_message(row.raw or b"", received_at=datetime.fromisoformat(row.learned_at))
    if row.outbound and row.sent_at:
        message = replace(message, date=datetime.fromisoformat(row.sent_at))
    classification = None
    if not row.outbound:
        if row.confirmed_label:
            classification = Classification(Label(row.confirmed_label), 1.0, ("confirmed by the user",))
        elif row.label:
            classification = Classification(Label(row.label), row.confidence or 0.0, row.evidence)
    return HistoryItem(message=message, outbound=row.outbound, classification=classification,
                       facts=facts_from_json(row.facts), learned_at=datetime.fromisoformat(row.learned_at),
                       draft_key=row.followup_key)


def facts_from_json(data: dict) -> Facts:
    def address(value):
        return Address(value.get("name") or "", value["email"]) if value and value.get("email") else None

    def moment(value):
        return datetime.fromisoformat(value) if value else None

    return Facts(
        company=data.get("company"), role=data.get("role"), contact=address(data.get("contact")),
        interview_start=moment(data.get("interview_start")), interview_end=moment(data.get("interview_end")),
        interviewers=tuple(a for a in (address(v) for v in data.get("interviewers") or []) if a),
        decision_date=date.fromisoformat(data["decision_date"]) if data.get("decision_date") else None,
        ooo_return=date.fromisoformat(data["ooo_return"]) if data.get("ooo_return") else None,
    )


def _apply_stages(store: Store, app, stage: Stage, changes, now: datetime, report: EngineReport) -> None:
    recorded = {(e["stage"], e["cause"]) for e in store.events(app["id"])}
    with store.transaction():
        for change in changes:
            if (change.stage.value, change.cause) in recorded:
                continue
            store.record_event(app["id"], change.at, change.stage.value, change.cause, now)
            recorded.add((change.stage.value, change.cause))
            report.stages.append(StageEvent(change.at, app["id"], change.stage.value, change.cause))
        if app["stage"] != stage.value:
            store.update_application(app["id"], now, stage=stage.value)


def place_draft(mailbox: Mailbox, store: Store, intent: DraftIntent, history: ApplicationHistory, *,
                user: Address, now: datetime, env, signature_name: str | None) -> PlacedDraft:
    """Compose, journal (committed), APPEND with \\Draft, confirm. Raises MailboxError after journalling:
    the next cycle's reconcile decides whether the APPEND happened."""
    from followup.core.compose import compose_draft

    try:
        raw = compose_draft(intent, history, user=user, now=now, env=env, signature_name=signature_name)
    except (ValueError, UnicodeError, LookupError, TypeError) as exc:
        raise DraftRefused(f"{type(exc).__name__}: {exc}") from exc
    head = parse_message(raw)
    with store.transaction():
        store.journal_draft(
            key=intent.key, account=history.account, application_id=history.application_id,
            kind=intent.kind.value, fate=DraftFate.JOURNALLED.value,
            recipient=intent.to.email if intent.to else None, subject=head.subject,
            message_id=head.message_id, in_reply_to=intent.reply_to.message_id if intent.reply_to else None,
            body_sha256=hashlib.sha256(raw).hexdigest(), due_at=intent.due.isoformat(),
            journalled_at=now.isoformat())
    ref = mailbox.append(FolderRole.DRAFTS, raw, flags=("\\Draft", "\\Seen"), when=now)
    with store.transaction():
        store.update_draft(intent.key, fate=DraftFate.PLACED.value, ref=ref, placed_at=now.isoformat(),
                           fate_at=now.isoformat())
    log.info("%s: placed %s draft for %s", history.account, intent.kind.value, history.application_id)
    return PlacedDraft(at=now, key=intent.key, kind=intent.kind.value, application=history.application_id,
                       to=intent.to.email if intent.to else None, subject=head.subject, raw=raw)


def reconcile_journal(mailbox: Mailbox, store: Store, now: datetime) -> int:
    """Settle drafts journalled but not confirmed (see the module docstring); return how many."""
    settled = 0
    for draft in store.drafts(account=mailbox.account, fates=[DraftFate.JOURNALLED.value]):
        key = draft["key"]
        refs = mailbox.find_by_header(FolderRole.DRAFTS, FOLLOWUP_KEY_HEADER, key)
        with store.transaction():
            if refs:
                store.update_draft(key, fate=DraftFate.PLACED.value, ref=refs[0],
                                   placed_at=draft["journalled_at"], fate_at=now.isoformat())
            elif mailbox.find_by_header(FolderRole.SENT, FOLLOWUP_KEY_HEADER, key):
                store.update_draft(key, fate=DraftFate.SENT.value, placed_at=draft["journalled_at"],
                                   sent_at=now.isoformat(), fate_at=now.isoformat())
            else:
                store.db.execute("DELETE FROM drafts WHERE key=?", (key,))
        settled += 1
        log.warning("%s: reconciled interrupted draft %s (%s)", mailbox.account, key,
                    "found in Drafts" if refs else "re-made this cycle or found in Sent")
    return settled


def track_fates(store: Store, account: str, now: datetime) -> dict[str, str]:
    """Update the fate of every placed/edited/dismissed draft from what the sync saw; return changes."""
    changed: dict[str, str] = {}
    watch = [DraftFate.PLACED.value, DraftFate.EDITED.value, DraftFate.DISMISSED.value]
    for draft in store.drafts(account=account, fates=watch):
        fate = DraftFate(draft["fate"])
        placed_at = datetime.fromisoformat(draft["placed_at"] or draft["journalled_at"])
        sent = _find_sent(store, account, draft, placed_at)
        if sent is not None:
            new, sent_at = DraftFate.SENT, sent
        elif fate is DraftFate.PLACED:
            ref = store.location_of(account, FolderRole.DRAFTS, draft["message_id"])
            if ref is None:
                new = DraftFate.EDITED if _edited_copy(store, account, draft) else DraftFate.DISMISSED
            elif draft["ref"] and ref != draft["ref"]:
                new = DraftFate.EDITED  # re-saved by a client under a new UID / file name
            else:
                continue
            sent_at = None
        else:
            continue
        if new is fate:
            continue
        with store.transaction():
            store.update_draft(draft["key"], fate=new.value, fate_at=now.isoformat(),
                               sent_at=sent_at.isoformat() if sent_at else None)
        changed[draft["key"]] = new.value
    return changed


def _find_sent(store: Store, account: str, draft, placed_at: datetime) -> datetime | None:
    """The time the user sent this draft, when the Sent folder shows it."""
    # Three indexed lookups: one OR over the three columns would read every stored message.
    rows = store.db.execute(
        "SELECT sent_at FROM ("
        " SELECT sent_at FROM messages WHERE account=? AND followup_key=? AND sent_at IS NOT NULL"
        " UNION ALL SELECT sent_at FROM messages WHERE account=? AND message_id=? AND sent_at IS NOT NULL"
        " UNION ALL SELECT sent_at FROM messages WHERE account=? AND in_reply_to=? AND sent_at>=?"
        ") ORDER BY sent_at LIMIT 1",
        (account, draft["key"], account, draft["message_id"], account, draft["in_reply_to"],
         placed_at.isoformat())).fetchone()
    if rows is None or not rows[0]:
        return None
    sent_at = datetime.fromisoformat(rows[0])
    if draft["fate"] == DraftFate.DISMISSED.value and sent_at - placed_at > LATE_SENT_WINDOW:
        return None
    return sent_at


def _edited_copy(store: Store, account: str, draft) -> bool:
    """Another message now in Drafts carries this draft's key or answers the same message."""
    row = store.db.execute(
        "SELECT 1 FROM messages m JOIN locations l ON l.account=m.account AND l.message_id=m.message_id "
        "AND l.folder_role='drafts' WHERE m.account=? AND m.message_id<>? AND "
        "(m.followup_key=? OR (m.in_reply_to IS NOT NULL AND m.in_reply_to=?)) LIMIT 1",
        (account, draft["message_id"], draft["key"], draft["in_reply_to"])).fetchone()
    return row is not None
