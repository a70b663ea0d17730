"""The real pipeline on a Maildir with a simulated clock (``followup simulate`` and ``demo``).

The source Maildir holds the whole story: INBOX in ``cur/`` and ``new/``, the user's own mail
in ``.Sent/``. A working copy starts empty; as the simulated clock passes each message's Date,
the message is delivered into it. At every step the same code as ``followup once`` runs (sync,
classify, decide, place drafts into ``.Drafts/``) with ``now`` set to the simulated time. With
``user_sends_after``, a simulated user sends each draft that many hours after it appeared: the
file moves from ``.Drafts/`` to ``.Sent/`` with that Date.

The clock jumps from event to event (a delivery, a simulated send, the next moment the engine
said something falls due, and each day's morning hour) instead of ticking, so a month runs in
seconds.
"""

from __future__ import annotations

import email
import email.policy
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from followup.config import Config, parse_config
from followup.core.model import FolderRole
from followup.core.parse import parse_message
from followup.core.policy import PLACEHOLDER_MARKER
from followup.core.threads import same_application
from followup.engine import EngineReport, run_engine
from followup.mailbox.maildir import MaildirMailbox
from followup.runner import sync_context
from followup.store.db import Store
from followup.sync import sync_account

ACCOUNT = "sample"


@dataclass(frozen=True, order=True)
class _Pending:
    at: datetime
    path: Path = field(compare=False)
    role: FolderRole = field(compare=False)


@dataclass
class SimulationEvent:
    """One line of the simulation's output (see :meth:`as_json`)."""

    at: datetime
    action: str  # draft | stage | user_sent
    data: dict

    def as_json(self) -> dict:
        return {"at": self.at.isoformat(), "action": self.action, **self.data}


@dataclass
class Simulation:
    """The result: every event in order, the store (still open) and the working Maildir."""

    events: list[SimulationEvent]
    store: Store
    workdir: Path
    config: Config
    drafts: dict[str, bytes] = field(default_factory=dict)


def read_source(source: Path) -> tuple[list[_Pending], str | None]:
    """Given a source Maildir, return its messages by Date and the user's address (the usual
    sender of ``.Sent``). Raises FileNotFoundError when ``source`` is no Maildir."""
    if not (source / "cur").is_dir() and not (source / "new").is_dir():
        raise FileNotFoundError(f"{source} is not a Maildir (no cur/ or new/)")
    pending: list[_Pending] = []
    senders: Counter[str] = Counter()
    for role, folder in ((FolderRole.INBOX, source), (FolderRole.SENT, source / ".Sent")):
        for sub in ("cur", "new"):
            directory = folder / sub
            if not directory.is_dir():
                continue
            for path in sorted(directory.iterdir()):
                if path.name.startswith(".") or not path.is_file():
                    continue
                head = parse_message(path.read_bytes())
                if head.date is None:
                    continue
                pending.append(_Pending(head.date.astimezone(UTC), path, role))
                if role is FolderRole.SENT and head.sender:
                    senders[head.sender.email] += 1
    pending.sort()
    user = senders.most_common(1)[0][0] if senders else None
    return pending, user


def simulation_config(workdir: Path, *, tz: str, country: str, user: str | None, user_name: str,
                      subdivision: str | None = None) -> Config:
    addresses = f"[{user}]" if user else "[]"
    text = f"""
timezone: {tz}
country: {country}
subdivision: {subdivision or 'null'}
state_dir: {workdir / 'state'}
user: {{name: "{user_name}", addresses: {addresses}}}
accounts:
  - name: {ACCOUNT}
    type: maildir
    path: {workdir / 'mail'}
    address: {user or 'me@example.invalid'}
digest: {{delivery: none}}
"""
    return parse_config(text)


def run_simulation(source: Path, start: datetime, end: datetime, *, tz: str = "UTC", country: str = "US",
                   subdivision: str | None = None, user_sends_after: float | None = None,
                   workdir: Path | None = None, user_name: str = "", notes: list[dict] | None = None,
                   on_event: Callable[[SimulationEvent], None] | None = None) -> Simulation:
    """Run the pipeline from ``start`` to ``end`` (aware datetimes); return what happened.

    ``notes``: what the user noted about interviews, as ``{"company", "role", "note"}`` items;
    each is added (as ``followup note`` would) to the matching application once it exists.
    """
    pending, user = read_source(source)
    if user and not user_name:
        user_name = _display_name(pending, user)
    workdir = Path(workdir or tempfile.mkdtemp(prefix="followup-sim-"))
    if (workdir / "mail").exists():
        shutil.rmtree(workdir / "mail")
    if (workdir / "state").exists():
        shutil.rmtree(workdir / "state")
    for sub in ("cur", "new", "tmp"):
        (workdir / "mail" / sub).mkdir(parents=True)
    config = simulation_config(workdir, tz=tz, country=country, user=user, user_name=user_name,
                               subdivision=subdivision)
    store = Store.open(config.database_path)
    mailbox = MaildirMailbox(ACCOUNT, workdir / "mail")
    ctx = sync_context(config)
    sim = Simulation(events=[], store=store, workdir=workdir, config=config)
    sends: list[tuple[datetime, str]] = []  # (when the simulated user sends, draft key)
    placed_at: dict[str, datetime] = {}

    def emit(event: SimulationEvent) -> None:
        sim.events.append(event)
        if on_event:
            on_event(event)

    now = start.astimezone(UTC)
    end = end.astimezone(UTC)
    wake: datetime | None = None
    queue = [p for p in pending if p.at <= end]
    while now <= end:
        while queue and queue[0].at <= now:
            item = queue.pop(0)
            mailbox.append(item.role, item.path.read_bytes(), flags=("\\Seen",), when=item.at)
        for when, key in [s for s in sends if s[0] <= now]:
            sends.remove((when, key))
            if _user_sends(mailbox, store, key, when):
                emit(SimulationEvent(when, "user_sent", {"key": key}))
        sync_account(mailbox, store, ctx, now)
        _attach_notes(store, notes or [], now)
        report = run_engine(mailbox, store, config, now)
        for change in report.stages:
            emit(SimulationEvent(change.at, "stage", {"stage": change.stage, "application": change.application,
                                                      "cause": change.cause}))
        for draft in report.placed:
            sim.drafts[draft.key] = draft.raw
            placed_at[draft.key] = now
            emit(SimulationEvent(now, "draft", {"kind": draft.kind, "to": draft.to,
                                                "application": draft.application, "subject": draft.subject}))
            if user_sends_after is not None and draft.to:
                sends.append((now + timedelta(hours=user_sends_after), draft.key))
        wake = _next_moment(now, end, queue, sends, report, ZoneInfo(tz), config.schedule.morning_hour)
        if wake is None:
            break
        now = wake
    return sim


def _attach_notes(store: Store, notes: list[dict], now: datetime) -> None:
    for row in store.applications():
        if store.notes(row["id"]):
            continue
        for item in notes:
            if same_application(row["company"], row["role"], item.get("company"), item.get("role")):
                with store.transaction():
                    store.add_note(row["id"], now, str(item["note"]))
                break


def load_notes(path: Path) -> list[dict]:
    """Read a notes file: a YAML list of {company, role, note}. Raises ValueError when malformed."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(data, list) or not all(isinstance(i, dict) and i.get("note") for i in data):
        raise ValueError(f"{path}: expected a list of {{company, role, note}} items")
    return data


def _next_moment(now: datetime, end: datetime, queue: list[_Pending], sends: list[tuple[datetime, str]],
                 report: EngineReport, tz: ZoneInfo, morning_hour: int) -> datetime | None:
    candidates = [p.at for p in queue[:1]] + [s[0] for s in sends]
    if report.next_wakeup is not None:
        candidates.append(report.next_wakeup)
    local = now.astimezone(tz)
    morning = datetime.combine(local.date(), time(morning_hour), tzinfo=tz)
    if morning <= local:
        morning = datetime.combine(local.date() + timedelta(days=1), time(morning_hour), tzinfo=tz)
    candidates.append(morning.astimezone(UTC))
    later = [c.astimezone(UTC) for c in candidates if c.astimezone(UTC) > now]
    if not later:
        return None
    nxt = min(later)
    return nxt if nxt <= end else (end if now < end else None)


def _user_sends(mailbox: MaildirMailbox, store: Store, key: str, when: datetime) -> bool:
    """Move the draft with this key from Drafts to Sent, dated ``when``. False when it is gone."""
    refs = mailbox.find_by_header(FolderRole.DRAFTS, "X-Followup-Key", key)
    if not refs:
        return False
    drafts = mailbox.folder_path(FolderRole.DRAFTS)
    raw = mailbox.fetch_raw(FolderRole.DRAFTS, refs[:1]).get(refs[0])
    if raw is None:
        return False
    # A user fills in the marked spot before sending (a placeholder left in sent mail is a
    # mistake the engine answers with a correction draft; the simulated user does not make it).
    raw = raw.replace(PLACEHOLDER_MARKER.encode(), b"I especially enjoyed our conversation.")
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    del message["Date"]
    message["Date"] = format_datetime(when)
    mailbox.append(FolderRole.SENT, message.as_bytes(), flags=("\\Seen",), when=when)
    for sub in ("cur", "new"):
        for path in (drafts / sub).glob(f"{refs[0]}*"):
            path.unlink()
    return True


def _display_name(pending: list[_Pending], user: str) -> str:
    for item in pending:
        if item.role is FolderRole.SENT:
            head = parse_message(item.path.read_bytes())
            if head.sender and head.sender.email == user and head.sender.name:
                return head.sender.name
    return ""


def bundled_sample() -> Path:
    """The sample mailbox shipped in the package."""
    return Path(__file__).resolve().parent / "sample" / "mailbox"
