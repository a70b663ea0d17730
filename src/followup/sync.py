"""Incremental sync of one account's INBOX, Sent and Drafts into the store.

Per folder (see ``docs`` in :func:`sync_folder`):

1. ``folder_state`` (IMAP STATUS: one command, no SELECT). Same validity, next UID, message
   count and HIGHESTMODSEQ as the stored cursor: nothing changed, stop here.
2. New refs: UIDs above the cursor's last UID (the first run: everything received in the last
   ``window_days``). A changed validity (UIDVALIDITY) forgets the folder's locations and rescans
   the window; messages are identified by account + Message-ID, so nothing is stored twice.
3. Headers first, in batches; then bodies as :mod:`followup.core.prefilter` decides from the
   headers: ``FULL`` (job signals, or a reply in an application's thread) fetched up to
   :data:`CANDIDATE_BYTES`; ``PROBE`` (personal mail, notifications) asked of the server's
   text search where there is one (Gmail), else fetched up to ``PROBE_BYTES`` and parsed only
   when :func:`~followup.core.prefilter.mentions_job` passes; ``NONE`` (list mail) left out.
   What is not parsed is stored as headers.
4. Each batch is stored, classified, threaded and grouped, and the cursor advanced, **in one
   transaction** (lieer's rule: the cursor moves only after the batch is committed). A crash
   or a dropped connection loses at most the batch in flight; the next run resumes there.

Backends with a change feed (the Gmail API: ``changes_since(role, token) -> (added refs,
removed refs, new token)``) are synced by :func:`_sync_folder_by_changes` instead of steps 2-3's
listing: the first run lists the window (``messages.list``) and stores the token read *before*
the listing (the historyId from ``folder_state``); later runs ask for the changes since the stored
token. The token lives in the cursor's ``modseq`` and moves only in the transaction that stores
the folder's last batch (batches before it keep the old one, so a crash replays, never skips).
When the backend says the token is too old (:class:`~followup.errors.CursorExpired`), the window
is rescanned; the cursor's ``last_ref`` (unused by such backends) counts consecutive rescans,
and from :data:`RESYNC_ALERT` on each one is logged as an error (a feed that keeps expiring).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from followup.core.model import Classification, Facts, FolderRole, Label, Message, Stage
from followup.core.parse import parse_headers, parse_message
from followup.core.prefilter import PROBE_BYTES, BodyNeed, gmail_query, mentions_job
from followup.core.threads import application_id_for, employer_domain, same_application, subject_key
from followup.errors import CursorExpired
from followup.mailbox.base import FolderState, HeaderRecord, Mailbox
from followup.store.db import Store, StoredCursor, named_ids

log = logging.getLogger(__name__)

#: Bodies larger than this are stored reduced (headers + text); a 20 MB attachment says nothing
#: about an application.
MAX_STORED_RAW = 2 * 1024 * 1024
#: How much of a candidate message is fetched: enough for every text and calendar part of
#: real job mail, not the PDFs and images attached after them.
CANDIDATE_BYTES = 256 * 1024
#: Replies whose References were lost still join a thread with the same subject and a shared
#: correspondent when they are this close in time.
SUBJECT_THREAD_WINDOW = timedelta(days=45)

#: How long a server's text index (Gmail search) may take to see a new message: younger
#: PROBE messages are probed locally even where the server can search.
SEARCH_INDEX_LAG = timedelta(minutes=30)

#: Consecutive rescans of a change feed (Gmail history expired) from which each is an error.
RESYNC_ALERT = 3

#: The first stage of an application opened by a message with this label (the follow-up engine
#: owns every later change).
OPENING_STAGE = {
    Label.ACKNOWLEDGEMENT: Stage.APPLIED,
    Label.INTERVIEW_INVITATION: Stage.INVITED,
    Label.INTERVIEW_SCHEDULED: Stage.SCHEDULED,
    Label.INTERVIEW_CANCELLED: Stage.INVITED,
    Label.POSITIVE: Stage.ADVANCING,
    Label.REJECTION: Stage.REJECTED,
    Label.TIMELINE_UPDATE: Stage.WAITING,
}

Reader = Callable[[Message], tuple[Classification, Facts]]
#: Given headers, how much body the sync needs.
Prefilter = Callable[[Message], BodyNeed]
Progress = Callable[[str, int, int], None]


@dataclass
class FolderReport:
    """What one folder's sync did."""

    role: FolderRole
    unchanged: bool = False
    rescanned: bool = False
    new_refs: int = 0
    headers_fetched: int = 0
    bodies_fetched: int = 0
    probed: int = 0  # PROBE messages looked at (bytes fetched, or asked of the server's search)
    stored: int = 0
    already_known: int = 0
    vanished: int = 0
    resyncs: int = 0  # change-feed backends: consecutive rescans after an expired token


@dataclass
class SyncReport:
    """What one account's sync did; ``new_message_ids`` lists what was stored, oldest first."""

    account: str
    folders: list[FolderReport] = field(default_factory=list)
    new_message_ids: list[str] = field(default_factory=list)
    applications_opened: int = 0

    @property
    def bodies_fetched(self) -> int:
        return sum(f.bodies_fetched for f in self.folders)

    @property
    def stored(self) -> int:
        return sum(f.stored for f in self.folders)


@dataclass(frozen=True)
class SyncContext:
    """Everything a sync needs besides the mailbox and the store."""

    reader: Reader
    could_matter: Prefilter
    user_addresses: frozenset[str]
    tz: tzinfo
    window_days: int = 90
    batch_size: int = 500
    progress: Progress | None = None
    probe: Callable[[bytes], bool] = mentions_job


def sync_account(mailbox: Mailbox, store: Store, ctx: SyncContext, now: datetime) -> SyncReport:
    """Sync INBOX, Sent and Drafts of ``mailbox`` into ``store``; raises MailboxError / StoreError.

    Whatever was committed before an error stays committed; the next call resumes from there.
    """
    report = SyncReport(account=mailbox.account)
    for role in (FolderRole.SENT, FolderRole.INBOX, FolderRole.DRAFTS):
        report.folders.append(sync_folder(mailbox, store, ctx, role, now, report))
    return report


def sync_folder(mailbox: Mailbox, store: Store, ctx: SyncContext, role: FolderRole, now: datetime,
                report: SyncReport) -> FolderReport:
    """Sync one folder (the steps are in the module docstring) and return what was done."""
    account = mailbox.account
    folder = FolderReport(role=role)
    state = mailbox.folder_state(role)
    cursor = store.cursor(account, role)
    if cursor is not None and _unchanged(cursor, state):
        folder.unchanged = True
        return folder
    if callable(getattr(mailbox, "changes_since", None)):
        return _sync_folder_by_changes(mailbox, store, ctx, role, now, report, folder, state, cursor)

    after: int | None = None
    since = None
    if cursor is None or cursor.validity != state.validity:
        if cursor is not None and cursor.validity != 0:  # 0: the folder did not exist before
            folder.rescanned = True
            log.warning("%s: %s was renumbered (UIDVALIDITY %s -> %s); rescanning the last %d days",
                        account, role.value, cursor.validity, state.validity, ctx.window_days)
            with store.transaction():
                store.forget_locations(account, role)
        since = (now - timedelta(days=ctx.window_days)).date()
    elif state.next_ref is not None:
        after = cursor.last_ref

    # Drafts come and go: a full listing (only when the folder changed; drafts folders are small)
    # tells which drafts vanished (sent or deleted by the user). Maildir listings are always full.
    full_listing = role is FolderRole.DRAFTS or state.next_ref is None
    if full_listing:
        refs = mailbox.list_refs(role, since=since if role is not FolderRole.DRAFTS else None)
    else:
        refs = mailbox.list_refs(role, after=after, since=since)
    known = store.known_refs(account, role)
    vanished = known - set(refs) if full_listing else set()
    if vanished:
        folder.vanished = len(vanished)
        with store.transaction():
            store.forget_locations(account, role, vanished)

    new_refs = [r for r in refs if r not in known]
    folder.new_refs = len(new_refs)
    last_ref = cursor.last_ref if cursor is not None and not folder.rescanned else None
    for start in range(0, len(new_refs), ctx.batch_size):
        batch = new_refs[start:start + ctx.batch_size]
        if ctx.progress:
            ctx.progress(f"{account} {role.value}", start, len(new_refs))
        last_ref = _sync_batch(mailbox, store, ctx, role, state, batch, now, folder, report, last_ref)
    if ctx.progress and new_refs:
        ctx.progress(f"{account} {role.value}", len(new_refs), len(new_refs))

    with store.transaction():
        store.save_cursor(account, role, StoredCursor(
            validity=state.validity, last_ref=_max_ref(refs, last_ref), next_ref=state.next_ref,
            messages=state.messages, modseq=state.modseq), now)
    return folder


def _sync_folder_by_changes(mailbox: Mailbox, store: Store, ctx: SyncContext, role: FolderRole, now: datetime,
                            report: SyncReport, folder: FolderReport, state: FolderState,
                            cursor: StoredCursor | None) -> FolderReport:
    """Sync one folder of a backend with a change feed (see the module docstring)."""
    account = mailbox.account
    if cursor is not None and cursor.validity != state.validity and cursor.validity != 0:
        folder.rescanned = True
        log.warning("%s: %s belongs to another mailbox now (validity %s -> %s); rescanning the last %d days",
                    account, role.value, cursor.validity, state.validity, ctx.window_days)
        with store.transaction():
            store.forget_locations(account, role)
        cursor = None
    token = cursor.modseq if cursor is not None else None
    resyncs = (cursor.last_ref or 0) if cursor is not None else 0
    removed: list[str] = []
    if token is not None:
        try:
            added, removed, new_token = mailbox.changes_since(role, token)  # type: ignore[attr-defined]
        except CursorExpired as exc:
            token = None
            resyncs += 1
            folder.rescanned = True
            level = logging.ERROR if resyncs >= RESYNC_ALERT else logging.WARNING
            log.log(level, "%s: %s: %s; rescanning the last %d days (rescan %d in a row%s)", account, role.value,
                    exc, ctx.window_days, resyncs,
                    "; the change history keeps expiring: is the account polled often enough?"
                    if resyncs >= RESYNC_ALERT else "")
        else:
            resyncs = 0
    if token is None:
        # The first run, an unfinished first run, or an expired token: list the window (Drafts
        # whole: a small folder whose listing also tells which drafts vanished). The token to
        # continue from is the one read before listing, so changes meanwhile are seen again.
        since = None if role is FolderRole.DRAFTS else (now - timedelta(days=ctx.window_days)).date()
        added = mailbox.list_refs(role, since=since)
        new_token = state.modseq
        if role is FolderRole.DRAFTS:
            removed = sorted(store.known_refs(account, role) - set(added))
    folder.resyncs = resyncs
    known = store.known_refs(account, role)
    vanished = set(removed) & known
    if vanished:
        folder.vanished = len(vanished)
        with store.transaction():
            store.forget_locations(account, role, vanished)
    new_refs = [r for r in dict.fromkeys(added) if r not in known and r not in vanished]
    folder.new_refs = len(new_refs)
    # Batches before the last keep the old token (None on a listing): a crash replays, never
    # skips. The last batch commits the new token with itself.
    pending = StoredCursor(validity=state.validity, last_ref=resyncs, next_ref=None, messages=-1, modseq=token)
    final = StoredCursor(validity=state.validity, last_ref=resyncs, next_ref=state.next_ref,
                         messages=state.messages, modseq=new_token)
    for start in range(0, len(new_refs), ctx.batch_size):
        batch = new_refs[start:start + ctx.batch_size]
        if ctx.progress:
            ctx.progress(f"{account} {role.value}", start, len(new_refs))
        last = start + ctx.batch_size >= len(new_refs)
        _sync_batch(mailbox, store, ctx, role, state, batch, now, folder, report, None,
                    pending=final if last else pending)
    if ctx.progress and new_refs:
        ctx.progress(f"{account} {role.value}", len(new_refs), len(new_refs))
    if not new_refs:
        with store.transaction():
            store.save_cursor(account, role, final, now)
    return folder


def _unchanged(cursor: StoredCursor, state: FolderState) -> bool:
    return (cursor.validity == state.validity and cursor.next_ref == state.next_ref
            and cursor.messages == state.messages and cursor.modseq == state.modseq)


def _max_ref(refs: Sequence[str], last_ref: int | None) -> int | None:
    numbers = [int(r) for r in refs if r.isdigit()]
    if not numbers:
        return last_ref
    return max(numbers + ([last_ref] if last_ref is not None else []))


def _sync_batch(mailbox: Mailbox, store: Store, ctx: SyncContext, role: FolderRole, state: FolderState,
                batch: list[str], now: datetime, folder: FolderReport, report: SyncReport,
                last_ref: int | None, *, pending: StoredCursor | None = None) -> int | None:
    """Fetch, store and classify one batch; save the mid-folder cursor (``pending`` when given)
    in the same transaction."""
    account = mailbox.account
    records = mailbox.fetch_headers(role, batch)
    folder.headers_fetched += len(records)
    heads: list[tuple[HeaderRecord, Message, bool]] = []
    wanted: list[str] = []
    probed: list[HeaderRecord] = []
    sent_drafts: set[str] = set()  # drafts (ours or the user's) that now show up in Sent
    parsed = [(record, parse_headers(record.raw_headers, received_at=record.received_at)) for record in records]
    stored = store.known_message_ids(account, (head.message_id for _, head in parsed))
    view = _BatchStore(store, account, [head for _, head in parsed if head.message_id not in stored])
    for record, head in parsed:
        known = head.message_id in stored
        heads.append((record, head, known))
        if known:
            if role is FolderRole.SENT and store.is_unsent_draft(account, head.message_id):
                sent_drafts.add(record.ref)
                wanted.append(record.ref)  # what the user actually sent may differ from our draft
            continue
        need = _body_need(store, ctx, account, role, head, view)
        if need is BodyNeed.FULL:
            wanted.append(record.ref)
        elif need is BodyNeed.PROBE:
            probed.append(record)
    bodies: dict[str, bytes] = {}
    if probed:
        folder.probed += len(probed)
        wanted += _probe(mailbox, ctx, role, probed, bodies, now)
    # Drafts are ours and small; of everything else the first CANDIDATE_BYTES hold the text,
    # the calendar part and the headers the classifier reads, and leave the attachments out.
    limit = None if role is FolderRole.DRAFTS else CANDIDATE_BYTES
    if wanted:
        bodies.update(mailbox.fetch_raw(role, wanted, limit=limit))
    folder.bodies_fetched += len(bodies)

    stored_now: set[str] = set()  # a folder may hold the same message twice
    with store.transaction():
        # Read again inside the transaction: the store as it is now, not before the fetch.
        view = _BatchStore(store, account, [head for _, head, known in heads if not known], storing=True)
        for record, head, known in heads:
            if known or head.message_id in stored_now:
                folder.already_known += 1
                if record.ref in sent_drafts:
                    view.flush()  # it writes messages: nothing may be held then (see _BatchStore)
                    _record_sent_draft(store, ctx, account, record, head, bodies.get(record.ref), now)
            else:
                raw = bodies.get(record.ref)
                _store_message(store, ctx, account, role, record, head, raw, now, report, view)
                stored_now.add(head.message_id)
                folder.stored += 1
                report.new_message_ids.append(head.message_id)
        view.flush()
        # Nothing above reads locations: one statement for all of the batch's.
        store.add_locations(account, role, state.validity, [(record.ref, head.message_id) for record, head, _ in heads])
        new_last = _max_ref(batch, last_ref) if state.next_ref is not None else None
        # Mid-folder progress: next_ref=None marks the cursor as "not finished", so the next run
        # looks again even if STATUS did not change.
        store.save_cursor(account, role, pending or StoredCursor(
            validity=state.validity, last_ref=new_last, next_ref=None, messages=-1, modseq=None), now)
    return new_last


def _record_sent_draft(store: Store, ctx: SyncContext, account: str, record: HeaderRecord, head: Message,
                       raw: bytes | None, now: datetime) -> None:
    """A draft (ours or the user's) turned up in Sent under the same Message-ID: keep what was
    actually sent (the user may have edited it), when, and when we learned of it."""
    sent_at = head.date or record.received_at or now
    columns: dict[str, object] = {"outbound": 1, "sent_at": sent_at.isoformat(), "learned_at": now.isoformat()}
    if raw is not None:
        message = parse_message(raw, received_at=record.received_at)
        columns.update(raw=raw if len(raw) <= MAX_STORED_RAW else record.raw_headers + message.text.encode(),
                       headers_only=0, subject=message.subject, subject_key=subject_key(message.subject),
                       date=message.date.isoformat() if message.date else None)
        try:
            _, facts = ctx.reader(message)
            columns["facts"] = _facts_json(facts)
        except Exception:  # noqa: BLE001 - the sent copy is kept even if it cannot be read
            log.exception("%s: could not read the sent copy of %s", account, head.message_id)
    store.update_message(account, head.message_id, **columns)


def _body_need(store: Store, ctx: SyncContext, account: str, role: FolderRole, head: Message,
               view: _BatchStore) -> BodyNeed:
    """Our own drafts and replies in an application's thread: FULL; replies in a thread the user
    wrote in: at least PROBE; else what the header prefilter says. ``view``: the batch's
    :class:`_BatchStore`, made after the store's last write."""
    if role is FolderRole.DRAFTS:
        return BodyNeed.FULL if head.header("x-followup-key") else BodyNeed.NONE
    thread = _known_thread(view, head)
    if thread is not None and store.application_of_thread(account, thread):
        return BodyNeed.FULL
    need = ctx.could_matter(head)
    if need is BodyNeed.NONE and thread is not None and store.thread_has_outbound(account, thread):
        return BodyNeed.PROBE
    return need


def _probe(mailbox: Mailbox, ctx: SyncContext, role: FolderRole, records: list[HeaderRecord],
           bodies: dict[str, bytes], now: datetime) -> list[str]:
    """Look at PROBE messages; return the refs whose body must still be fetched. A probe that
    holds the whole message goes straight into ``bodies`` (no second fetch)."""
    wanted: list[str] = []
    found = _search_server(mailbox, role, records)
    if found is not None:
        wanted = [r.ref for r in records if r.ref in found]
        # Gmail indexes new mail with a delay: what arrived in the last SEARCH_INDEX_LAG and
        # was not found is still probed here, as a miss would leave it unread for good.
        records = [r for r in records if r.ref not in found
                   and (r.received_at is None or r.received_at > now - SEARCH_INDEX_LAG)]
    if not records:
        return wanted
    sizes = {r.ref: r.size for r in records}
    for ref, raw in mailbox.fetch_raw(role, [r.ref for r in records], limit=PROBE_BYTES).items():
        if not ctx.probe(raw):
            continue
        if len(raw) < PROBE_BYTES or len(raw) >= sizes.get(ref, 0) > 0:
            bodies[ref] = raw  # the whole message came with the probe
        else:
            wanted.append(ref)
    return wanted


def _search_server(mailbox: Mailbox, role: FolderRole, records: list[HeaderRecord]) -> set[str] | None:
    """The refs among ``records`` the server's own text index finds job words in (Gmail: no
    probe bytes on the wire), or None where the backend cannot search. The search is bounded
    to a day before the oldest message (unbounded when a date is unknown)."""
    search = getattr(mailbox, "search_text", None)
    if not callable(search):
        return None
    dates = [r.received_at for r in records if r.received_at is not None]
    since = min(dates) - timedelta(days=1) if len(dates) == len(records) else None
    return search(role, [r.ref for r in records], gmail_query(), since=since)


class _BatchStore:
    """The store as one batch sees it while it is stored: the same answers as the store's own
    lookups, with far fewer statements. The batch's messages are stored one by one, in order,
    inside one transaction, and nothing else writes messages meanwhile; so

    - lookups known to find nothing are not made: which Message-IDs the batch's messages name
      (In-Reply-To, References) are stored, and (``storing``) which of their own Message-IDs
      stored mail names, is asked once, when the view is made; each :meth:`insert` takes back
      what it changes. (Most mail names no stored message and is named by none.)
    - new messages are held and written together (:meth:`flush`, one statement for many rows,
      in order, so row ids are the same as one by one): a lookup that could see a held message
      flushes first, except :meth:`thread_by_subject`, which looks at them itself. The caller
      flushes before any other write to messages, and at the end.
    """

    def __init__(self, store: Store, account: str, heads: list[Message], *, storing: bool = False) -> None:
        self.store, self.account = store, account
        named = {m for head in heads for m in (head.in_reply_to, *head.references) if m}
        self._absent = named - store.known_message_ids(account, named)  # named, not stored
        own = {head.message_id for head in heads} if storing else set()
        self._unnamed = own - store.named_message_ids(account, own)  # the batch's, named by none
        self._held: list[dict[str, object]] = []
        # What the held rows hold that a lookup could match.
        self._held_ids: set[str] = set()
        self._held_named: set[str] = set()
        self._held_thrids: set[str] = set()
        self._held_threads: set[str] = set()

    def thread_of(self, message_ids: Sequence[str]) -> str | None:
        """:meth:`Store.thread_of` for this account."""
        ids = [m for m in message_ids if m]
        if all(m in self._absent for m in ids):
            return None
        if not self._held_ids.isdisjoint(ids):
            self.flush()
        return self.store.thread_of(self.account, ids)

    def threads_replying_to(self, message_id: str) -> list[str]:
        """:meth:`Store.threads_replying_to` for this account (spares the lookup only for the
        Message-IDs of a ``storing`` view's heads)."""
        if message_id in self._unnamed:
            return []
        if message_id in self._held_named:
            self.flush()
        return self.store.threads_replying_to(self.account, message_id)

    def thread_by_subject(self, subject_key: str, since_iso: str, until_iso: str,
                          counterparts: Iterable[str]) -> str | None:
        """:meth:`Store.thread_by_subject` for this account, which looks at the held messages
        itself (replies in the same batch are common: a flush for each would undo the saving)."""
        return self.store.thread_by_subject(self.account, subject_key, since_iso, until_iso, counterparts,
                                            unstored=self._held)

    def thread_of_gmail(self, gm_thrid: str) -> str | None:
        """:meth:`Store.thread_of_gmail` for this account."""
        if gm_thrid in self._held_thrids:
            self.flush()
        return self.store.thread_of_gmail(self.account, gm_thrid)

    def merge_threads(self, into: str, others: Sequence[str]) -> None:
        """:meth:`Store.merge_threads` for this account."""
        if not self._held_threads.isdisjoint(set(others) - {into}):
            self.flush()  # the merge rewrites their thread key
        self.store.merge_threads(self.account, into, others)

    def insert(self, columns: dict[str, object]) -> None:
        """:meth:`Store.insert_message`, held until the next :meth:`flush`."""
        self._held.append(columns)
        message_id = str(columns["message_id"])
        named = named_ids(columns["in_reply_to"], columns["refs"])  # type: ignore[arg-type]
        self._absent.discard(message_id)
        self._unnamed.difference_update(named)
        self._held_ids.add(message_id)
        self._held_named.update(named)
        if columns["gm_thrid"]:
            self._held_thrids.add(str(columns["gm_thrid"]))
        self._held_threads.add(str(columns["thread_key"]))

    def flush(self) -> None:
        """Write the held messages (in order)."""
        if self._held:
            self.store.insert_messages(self._held)
            self._held = []
            self._held_ids.clear()
            self._held_named.clear()
            self._held_thrids.clear()
            self._held_threads.clear()


def _known_thread(view: _BatchStore, head: Message) -> str | None:
    """The thread of the first stored message ``head`` answers or references (the nearest first)."""
    if not head.in_reply_to and not head.references:
        return None  # most mail names no other message
    return view.thread_of([head.in_reply_to or "", *reversed(head.references)])


def _store_message(store: Store, ctx: SyncContext, account: str, role: FolderRole, record: HeaderRecord,
                   head: Message, raw: bytes | None, now: datetime, report: SyncReport,
                   view: _BatchStore) -> None:
    """Classify (when there is a body), thread and store one new message (through ``view``,
    which may hold the row back), and group its thread into an application."""
    message = parse_message(raw, received_at=record.received_at) if raw is not None else head
    if message.message_id != head.message_id:
        message = head  # a server that lied about the headers; trust what we indexed
    outbound = role is not FolderRole.INBOX or (
        message.sender is not None and message.sender.email in ctx.user_addresses)
    classification: Classification | None = None
    facts = Facts()
    read_facts = raw is not None and role is not FolderRole.DRAFTS
    if read_facts:
        try:
            classification, facts = ctx.reader(message)
            if outbound:
                # The user's own mail gets no label; its facts (the company it names) let the
                # policy notice a follow-up sent with the wrong company in it.
                classification = None
        except Exception:  # noqa: BLE001 - a classifier bug must not stop the sync; the message is kept
            log.exception("%s: could not classify %s; stored unclassified", account, message.message_id)

    thread_key = _thread_for(view, message, record)
    stored_raw = raw if raw is not None else record.raw_headers
    if raw is not None and len(raw) > MAX_STORED_RAW:
        stored_raw = record.raw_headers + message.text.encode("utf-8", "replace")
    view.insert(dict(
        account=account, message_id=message.message_id,
        date=message.date.isoformat() if message.date else None,
        sender=message.sender.email if message.sender else None,
        sender_name=message.sender.name if message.sender else None,
        recipients=",".join(a.email for a in (*message.to, *message.cc)),
        subject=message.subject, subject_key=subject_key(message.subject),
        in_reply_to=message.in_reply_to, refs=" ".join(message.references),
        gm_msgid=record.gm_msgid, gm_thrid=record.gm_thrid, outbound=int(outbound),
        sent_at=(message.date or record.received_at or now).isoformat()
        if outbound and role is not FolderRole.DRAFTS else None,
        followup_key=message.header("x-followup-key") or None, thread_key=thread_key,
        raw=stored_raw, headers_only=int(raw is None),  # headers-only rows keep the header block
        label=classification.label.value if classification else None,
        confidence=classification.confidence if classification else None,
        evidence=list(classification.evidence) if classification else None,
        facts=_facts_json(facts) if read_facts else None,
        learned_at=now.isoformat(),
    ))
    if classification is not None:
        _group(store, account, thread_key, message, classification, facts, now, report)


def _thread_for(view: _BatchStore, message: Message, record: HeaderRecord) -> str:
    """Thread key: X-GM-THRID, else References / In-Reply-To, else subject + correspondent + time."""
    if record.gm_thrid:
        found = view.thread_of_gmail(record.gm_thrid)
        return found or f"gm:{record.gm_thrid}"
    found = _known_thread(view, message)
    # Messages stored earlier may be replies to this one (they arrived first): join them.
    followers = view.threads_replying_to(message.message_id)
    if found is None and not followers and message.date is not None:
        # The cheap test first: most mail is no reply.
        if (message.in_reply_to or message.subject[:3].lower() in ("re:", "aw:", "sv:")) and (
                subject := subject_key(message.subject)):
            people = {a.email for a in (message.sender, *message.to, *message.cc) if a is not None}
            found = view.thread_by_subject(subject, (message.date - SUBJECT_THREAD_WINDOW).isoformat(),
                                           (message.date + SUBJECT_THREAD_WINDOW).isoformat(), people)
    key = found or (followers[0] if followers else message.message_id)
    if followers:
        view.merge_threads(key, followers)
    return key


def _group(store: Store, account: str, thread_key: str, message: Message, classification: Classification,
           facts: Facts, now: datetime, report: SyncReport) -> None:
    """Attach the thread to an application: its own, else one with the same company and role,
    else (for job mail) a new one opened at the stage the message implies."""
    app_id = store.application_of_thread(account, thread_key)
    if app_id is None:
        app_id = _matching_application(store, account, message, facts)
    if app_id is None:
        stage = OPENING_STAGE.get(classification.label)
        if stage is None:
            return  # other / out-of-office: only joins an application through its thread
        app_id = application_id_for(account, thread_key, facts.company)
        at = message.date or now
        store.create_application(app_id, account, facts.company, facts.role, stage.value, at)
        store.record_event(app_id, at, stage.value, f"{message.message_id} ({classification.label.value})", now)
        report.applications_opened += 1
    store.link_thread(account, thread_key, app_id)
    row = store.application(app_id)
    updates = {}
    if row is not None:
        if not row["company"] and facts.company:
            updates["company"] = facts.company
        if not row["role"] and facts.role:
            updates["role"] = facts.role
        if facts.contact is not None and not facts.contact.is_no_reply:
            updates["contact_name"] = facts.contact.name
            updates["contact_email"] = facts.contact.email
    if updates:
        store.update_application(app_id, now, **updates)


def _matching_application(store: Store, account: str, message: Message, facts: Facts) -> str | None:
    """An open application this message belongs to although it starts a new thread: same
    company (and role, when both are known), else the same employer domain as its contact."""
    rows = store.applications_to_match(account)
    if facts.company:
        for app_id, company, role, _ in rows:
            if same_application(company, role, facts.company, facts.role):
                return app_id
    domains = {employer_domain(a.email) for a in (message.sender, facts.contact) if a is not None} - {""}
    if domains:
        for app_id, _, role, contact_email in rows:
            if employer_domain(contact_email) in domains and (
                    not facts.role or not role or same_application("x", role, "x", facts.role)):
                return app_id
    return None


def _facts_json(facts: Facts) -> dict:
    def address(a):
        return {"name": a.name, "email": a.email} if a is not None else None

    return {
        "company": facts.company, "role": facts.role, "contact": address(facts.contact),
        "interview_start": facts.interview_start.isoformat() if facts.interview_start else None,
        "interview_end": facts.interview_end.isoformat() if facts.interview_end else None,
        "interviewers": [address(a) for a in facts.interviewers],
        "decision_date": facts.decision_date.isoformat() if facts.decision_date else None,
        "ooo_return": facts.ooo_return.isoformat() if facts.ooo_return else None,
    }
