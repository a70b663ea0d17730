"""The Gmail API backend: :class:`GmailMailbox` over google-api-python-client.

How the narrow :class:`~followup.mailbox.base.Mailbox` interface maps onto the Gmail REST API:

- **Roles are labels**: INBOX → ``INBOX``, Sent → ``SENT``, Drafts → the drafts collection
  (label ``DRAFT``). Refs are Gmail message ids (a draft's ref is its *message's* id: it changes
  whenever the draft is edited and saved, which is how an edit is noticed; the stable draft id
  is remembered beside it).
- ``folder_state``: ``users.getProfile`` (the mailbox's current ``historyId``, which becomes the
  state's ``modseq``) and ``labels.get`` (``messagesTotal``). Gmail ids never change, so the
  validity only changes when the account turns out to be another Gmail address.
- ``changes_since(role, historyId)``: ``history.list`` from the stored historyId (one or more
  pages) → (refs added to the label, refs removed from it, the new historyId). A 404 (history
  is kept about a week) raises :class:`~followup.errors.CursorExpired`; :mod:`followup.sync`
  then rescans the window. This is how every sync after the first finds new mail.
- ``list_refs``: ``messages.list`` on the label (``drafts.list`` for Drafts), ``after:`` the
  window's first day, oldest first.
- ``fetch_headers``: batched ``messages.get`` ``format=metadata`` with the sync header fields
  (at most 50 a batch, as Google recommends); ``fetch_raw``: the same with ``format=raw``.
  Reading through the API never marks anything read.
- ``append(DRAFTS, raw)``: ``drafts.create`` with the ``threadId`` of the message the draft
  answers (found through its ``In-Reply-To`` with ``rfc822msgid:``); the composed draft carries
  ``In-Reply-To``, ``References`` and a matching subject, which Gmail needs as well. A create is
  never retried after an answer that may have come after the draft was made (5xx, a dropped
  connection): the engine's journal looks it up by its key instead.
- ``find_by_header``: Drafts are few, so their headers are read and compared; elsewhere a
  ``Message-ID`` (and the program's own drafts' ``<followup.KEY@domain>`` Message-IDs) are found
  with ``rfc822msgid:``, anything else among the recent messages of the label.
- ``search_text(role, refs, query, since=…)``: ``messages.list`` on the label with ``q`` = the
  query and ``after:`` ``since`` (the sync's text prefilter, :func:`followup.core.prefilter.gmail_query`).
  The match set is listed once per folder sync and kept for that sync's later batches;
  ``folder_state``, ``list_refs`` and ``changes_since`` (which start a folder sync) forget it.
- ``tags_of(role, refs)``: the user labels of messages by name (batched ``messages.get``
  ``format=minimal``, names from ``labels.list``, cached per connection), for confirmations by
  a ``followup/<label>`` label (:mod:`followup.confirmations`).

With ``labels: true``, :meth:`GmailMailbox.apply_stage_labels` puts a ``Jobs/…`` label for the
application's stage on its threads (``labels.create``, ``threads.modify``; scope ``gmail.modify``).

Errors are mapped at this boundary: 401 and ``invalid_grant`` → :class:`AuthError` (one line:
run ``followup auth gmail`` again); 429, 403 ``rateLimitExceeded``/``userRateLimitExceeded`` and
5xx → retried with exponential backoff, then :class:`TransientError`; network errors →
:class:`TransientError`; anything unusable → :class:`ProtocolError`.

This module never sends mail. The one send in the program is the digest's, in
:mod:`followup.delivery`; a test checks that no other code calls a send method.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import socket
import ssl
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

from followup.core.model import FolderRole
from followup.errors import (
    AuthError,
    ConfigError,
    CursorExpired,
    FolderNotFound,
    MailboxError,
    ProtocolError,
    TransientError,
)
from followup.mailbox.base import SYNC_HEADER_FIELDS, FolderState, HeaderRecord

log = logging.getLogger(__name__)

LABELS = {FolderRole.INBOX: "INBOX", FolderRole.SENT: "SENT", FolderRole.DRAFTS: "DRAFT"}
#: Calls per batch request ("sending batches larger than 50 requests is not recommended").
BATCH_SIZE = 50
PAGE_SIZE = 500
#: Statuses and 403 reasons that mean "slow down / try again" (guides/handle-errors).
RETRY_STATUSES = {429, 500, 502, 503, 504}
RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "backendError", "concurrentLimitExceeded"}
#: Without a better search, ``find_by_header`` reads the headers of at most this many recent messages.
FIND_SCAN_LIMIT = 200
FIND_SCAN_DAYS = 30
_HISTORY_TYPES = ["messageAdded", "messageDeleted", "labelAdded", "labelRemoved"]
#: Stage labels (``labels: true``): an application's stage -> the label on its threads.
STAGE_LABELS = {
    "applied": "Jobs/Applied", "invited": "Jobs/Interview", "scheduled": "Jobs/Interview",
    "interviewed": "Jobs/Interview", "waiting": "Jobs/Waiting", "followed_up": "Jobs/Waiting",
    "advancing": "Jobs/Advancing", "rejected": "Jobs/Rejected", "no_response": "Jobs/No response",
}

ServiceFactory = Callable[[], Any]


def build_service(credentials: Any, *, timeout: float = 30.0, root_url: str | None = None) -> Any:
    """A Gmail v1 service from the discovery document shipped in google-api-python-client.

    ``credentials``: ``google.oauth2.credentials.Credentials`` (refreshed on demand, also on a
    401) or None for no authorisation header. ``root_url`` replaces ``https://gmail.googleapis.com/``
    for every call, batches included (the test suite's fake server). No network IO here.
    """
    import httplib2
    from googleapiclient.discovery import build_from_document
    from googleapiclient.discovery_cache import get_static_doc

    document = json.loads(get_static_doc("gmail", "v1"))
    if root_url:
        document["rootUrl"] = root_url if root_url.endswith("/") else root_url + "/"
        document.pop("mtlsRootUrl", None)
    http: Any = httplib2.Http(timeout=timeout)
    if credentials is not None:
        import google_auth_httplib2

        http = google_auth_httplib2.AuthorizedHttp(credentials, http=http)
    return build_from_document(document, http=http)


class GmailMailbox:
    """One Gmail account through the Gmail REST API (see the module docstring).

    *service_factory* returns a ready ``googleapiclient`` Gmail service (credentials loaded and
    refreshed); it is called by :meth:`connect`, never by the constructor. *addresses* are the
    account's addresses (the domain of our drafts' Message-IDs). *sleep* waits between retries
    (tests pass a no-op). ``requests_issued`` counts API calls (a batch counts its calls).
    """

    def __init__(self, account: str, service_factory: ServiceFactory, *, addresses: Iterable[str] = (),
                 labels: bool = False, max_retries: int = 5, sleep: Callable[[float], None] = time.sleep) -> None:
        self.account = account
        self.labels = labels
        self._service_factory = service_factory
        self._addresses = [a.lower() for a in addresses if "@" in a]
        self._max_retries = max_retries
        self._sleep = sleep
        self._service: Any = None
        self._email: str | None = None
        self._draft_ids: dict[str, str] = {}  # message id -> draft id
        self._label_ids: dict[str, str] | None = None  # stage label name -> label id
        self._label_list: dict[str, tuple[str, bool]] | None = None  # label id -> (name, a user label?)
        self._labelled: dict[str, str] = {}  # thread id -> stage label this process put on it
        # (role, query) -> (the after: bound listed, None for none; the ids Gmail matched).
        self._text_matches: dict[tuple[FolderRole, str], tuple[int | None, frozenset[str]]] = {}
        self.requests_issued = 0
        self.retries = 0

    # -- lifecycle -------------------------------------------------------------------------

    def connect(self) -> None:
        """Build the service and check the token with ``getProfile``. Idempotent."""
        if self._service is not None:
            return
        with self._guard("connect to the Gmail API"):
            service = self._service_factory()
        self._service = service
        try:
            profile = self._execute(lambda s: s.users().getProfile(userId="me"), "getProfile")
        except BaseException:
            self._service = None
            raise
        self._email = str(profile.get("emailAddress") or "").lower() or None
        if self._email and self._email not in self._addresses:
            self._addresses.append(self._email)
        log.debug("%s: Gmail API as %s", self.account, self._email)

    def close(self) -> None:
        """Forget the service (and its HTTP connections). Never raises."""
        service, self._service = self._service, None
        self._label_list = None  # listed again on the next connection: labels may be renamed
        if service is None:
            return
        try:
            service.close()
        except Exception:  # noqa: BLE001 - closing must not fail
            pass

    def __enter__(self) -> GmailMailbox:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def has_gmail_extensions(self) -> bool:
        """Always: every record carries Gmail's message and thread ids (as X-GM-MSGID/X-GM-THRID)."""
        return True

    @property
    def email_address(self) -> str | None:
        """The account's address as Gmail reports it (known after :meth:`connect`)."""
        return self._email

    # -- the Mailbox interface -------------------------------------------------------------

    def folder_state(self, role: FolderRole) -> FolderState:
        """The mailbox's current historyId (as ``modseq``) and the label's message count."""
        self._forget_text_matches(role)
        label = LABELS[FolderRole(role)]
        profile = self._execute(lambda s: s.users().getProfile(userId="me"), "getProfile")
        info = self._execute(lambda s: s.users().labels().get(userId="me", id=label), f"labels.get {label}",
                             missing=FolderNotFound)
        try:
            email = str(profile.get("emailAddress") or self._email or self.account).lower()
            return FolderState(validity=zlib.crc32(email.encode()) or 1, next_ref=None,
                               messages=int(info.get("messagesTotal") or 0), modseq=int(profile["historyId"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolError(f"{self.account}: getProfile/labels.get: unusable answer: {exc!r}") from exc

    def list_refs(self, role: FolderRole, *, after: int | None = None, since: date | None = None) -> list[str]:
        """Message ids on the label (drafts: their messages' ids), oldest first; ``after`` is ignored."""
        role = FolderRole(role)
        self._forget_text_matches(role)
        query = f"after:{int(datetime(since.year, since.month, since.day, tzinfo=UTC).timestamp())}" if since else None
        ids: list[str] = []
        if role is FolderRole.DRAFTS:
            for draft in self._drafts(query):
                ids.append(draft["message"]["id"])
        else:
            label = LABELS[role]
            for page in self._pages(lambda s, token: s.users().messages().list(
                    userId="me", labelIds=[label], q=query, maxResults=PAGE_SIZE, pageToken=token,
                    includeSpamTrash=False), f"messages.list {label}"):
                ids.extend(str(m["id"]) for m in page.get("messages", ()))
        ids.reverse()  # Gmail lists newest first
        return list(dict.fromkeys(ids))

    def changes_since(self, role: FolderRole, token: int) -> tuple[list[str], list[str], int]:
        """Refs added to / removed from the role's label since historyId ``token``, and the new
        historyId. Raises CursorExpired when Gmail no longer has history that old (404)."""
        self._forget_text_matches(role)
        label = LABELS[FolderRole(role)]
        state: dict[str, bool] = {}  # message id -> on the label after the change (in order)
        new_token = int(token)
        try:
            for page in self._pages(lambda s, page_token: s.users().history().list(
                    userId="me", startHistoryId=str(int(token)), historyTypes=_HISTORY_TYPES,
                    maxResults=PAGE_SIZE, pageToken=page_token), "history.list", missing=CursorExpired):
                for record in page.get("history", ()):
                    _apply_history(record, label, state)
                if page.get("historyId"):
                    new_token = max(new_token, int(page["historyId"]))
        except CursorExpired as exc:
            raise CursorExpired(f"{self.account}: history since {token} is no longer kept by Gmail") from exc
        added = [ref for ref, present in state.items() if present]
        removed = [ref for ref, present in state.items() if not present]
        return added, removed, new_token

    def fetch_headers(self, role: FolderRole, refs: Sequence[str]) -> list[HeaderRecord]:
        """Headers (the sync fields), size, labels as flags, date, Gmail ids; vanished refs left out."""
        answers = self._batch_get(refs, {"format": "metadata", "metadataHeaders": list(SYNC_HEADER_FIELDS)},
                                  "messages.get metadata")
        records = []
        for ref in refs:
            message = answers.get(ref)
            if message is None:
                continue
            headers = (message.get("payload") or {}).get("headers") or []
            raw_headers = b"".join(
                f"{h.get('name', '')}: {h.get('value', '')}\r\n".encode("utf-8", "surrogateescape")
                for h in headers if h.get("name")) + b"\r\n"
            records.append(HeaderRecord(
                ref=ref, raw_headers=raw_headers, size=int(message.get("sizeEstimate") or 0),
                flags=_flags(message.get("labelIds") or ()), received_at=_internal_date(message),
                gm_msgid=_decimal(message.get("id")), gm_thrid=_decimal(message.get("threadId"))))
        return records

    def fetch_raw(self, role: FolderRole, refs: Sequence[str], *, limit: int | None = None) -> dict[str, bytes]:
        """The messages (``format=raw``; the API has no partial fetch, so ``limit`` only trims
        what is kept); vanished refs are left out."""
        answers = self._batch_get(refs, {"format": "raw"}, "messages.get raw")
        out = {}
        for ref in refs:
            message = answers.get(ref)
            if message is None:
                continue
            try:
                out[ref] = base64.urlsafe_b64decode(_padded(message["raw"]))[:limit] if limit else \
                    base64.urlsafe_b64decode(_padded(message["raw"]))
            except (KeyError, TypeError, ValueError) as exc:
                raise ProtocolError(f"{self.account}: message {ref}: answer without usable raw: {exc!r}") from exc
        return out

    def search_text(self, role: FolderRole, refs: Sequence[str], query: str, *,
                    since: datetime | None = None) -> set[str]:
        """Given refs of the role's label (as listed by :meth:`list_refs` / :meth:`changes_since`),
        a Gmail search ``query`` and optionally ``since`` (no ref was received before it), return
        the refs among them that Gmail's own index matches: ``messages.list`` on the label with
        ``q`` = ``query`` ``after:`` ``since`` (none without ``since``), every page. Raises
        AuthError / TransientError (after the usual backoff) / ProtocolError like every call.

        The match set is listed once and reused for every later call with the same role and
        query, until :meth:`folder_state`, :meth:`list_refs` or :meth:`changes_since` of the role
        (the start of a folder sync) forgets it: a sync's batches cost one listing, not one each,
        and every ref listed before the set was built is covered. A ``since`` earlier than the
        listed bound lists again. Never None: the Gmail API can always search.
        """
        role = FolderRole(role)
        refs = list(refs)
        if not refs:
            return set()
        bound = _epoch(since) if since is not None else None
        key = (role, query)
        cached = self._text_matches.get(key)
        if cached is None or not _covers(cached[0], bound):
            q = f"{query} after:{bound}" if bound is not None else query
            cached = (bound, frozenset(self._search(q, LABELS[role])))
            self._text_matches[key] = cached
            log.debug("%s: %s: %d message(s) match the text search", self.account, role.value, len(cached[1]))
        return {ref for ref in refs if ref in cached[1]}

    def _forget_text_matches(self, role: FolderRole) -> None:
        role = FolderRole(role)
        for key in [k for k in self._text_matches if k[0] is role]:
            del self._text_matches[key]

    def append(self, role: FolderRole, raw: bytes, *, flags: Iterable[str], when: datetime) -> str | None:
        """Drafts only: ``drafts.create`` in the thread of the answered message; return the
        draft message's id. Other roles raise ProtocolError (storing mail needs more scopes)."""
        role = FolderRole(role)
        if role is not FolderRole.DRAFTS:
            raise ProtocolError(f"{self.account}: the Gmail API backend only writes drafts "
                                f"(storing into {role.value} would need another scope)")
        message: dict[str, Any] = {"raw": base64.urlsafe_b64encode(raw).decode("ascii")}
        thread_id = self.thread_of_reply(raw)
        if thread_id:
            message["threadId"] = thread_id
        created = self._execute(lambda s: s.users().drafts().create(userId="me", body={"message": message}),
                                "drafts.create", create=True)
        try:
            message_id = str(created["message"]["id"])
            self._draft_ids[message_id] = str(created["id"])
        except (KeyError, TypeError) as exc:
            raise ProtocolError(f"{self.account}: drafts.create: unusable answer {created!r}") from exc
        log.debug("%s: draft %s created (thread %s)", self.account, created["id"], thread_id)
        return message_id

    def find_by_header(self, role: FolderRole, name: str, value: str) -> list[str]:
        """Refs of messages whose header ``name`` contains ``value`` (checked on the headers)."""
        role = FolderRole(role)
        wanted = name.lower()
        if role is FolderRole.DRAFTS:
            candidates = [d["message"]["id"] for d in self._drafts(None)]
        else:
            label = LABELS[role]
            candidates = []
            for message_id in self._message_ids_for(name, value):
                candidates.extend(self._search(f"rfc822msgid:{message_id.strip('<>')}", label))
            if not candidates:
                candidates = self._search(f"newer_than:{FIND_SCAN_DAYS}d", label, limit=FIND_SCAN_LIMIT)
        candidates = list(dict.fromkeys(candidates))
        answers = self._batch_get(candidates, {"format": "metadata", "metadataHeaders": [name]},
                                  f"messages.get {name}")
        found = []
        for ref in candidates:
            message = answers.get(ref)
            if message is None:
                continue
            for header in (message.get("payload") or {}).get("headers") or []:
                if str(header.get("name", "")).lower() == wanted and value.lower() in str(header.get("value", "")).lower():
                    found.append(ref)
                    break
        return found

    # -- stage labels (labels: true; needs the gmail.modify scope) ---------------------------

    def apply_stage_labels(self, stages: dict[str, str]) -> int:
        """Put ``Jobs/…`` labels on threads: ``stages`` maps a thread (X-GM-THRID in decimal, as
        stored) to its application's stage. Missing labels are created; the thread's other
        stage labels are removed. Threads labelled alike earlier by this process are skipped.
        Returns how many threads were changed; does nothing unless the account has ``labels``."""
        if not self.labels:
            return 0
        changed = 0
        for thrid, stage in sorted(stages.items()):
            name = STAGE_LABELS.get(stage)
            if name is None:
                continue
            try:
                thread_id = f"{int(thrid):x}"
            except ValueError:
                continue
            if self._labelled.get(thread_id) == name:
                continue
            ids = self._stage_label_ids()
            if name not in ids:
                created = self._execute(lambda s, n=name: s.users().labels().create(userId="me", body={
                    "name": n, "labelListVisibility": "labelShow", "messageListVisibility": "show"}),
                    "labels.create")
                ids[name] = str(created["id"])
                if self._label_list is not None:
                    self._label_list[ids[name]] = (name, True)
            others = sorted({ids[n] for n in ids if n != name})
            body = {"addLabelIds": [ids[name]], "removeLabelIds": others}
            try:
                self._execute(lambda s, t=thread_id, b=body: s.users().threads().modify(userId="me", id=t, body=b),
                              "threads.modify", missing=FolderNotFound)
            except FolderNotFound:
                continue  # the thread is gone (deleted by the user)
            self._labelled[thread_id] = name
            changed += 1
        return changed

    def _stage_label_ids(self) -> dict[str, str]:
        if self._label_ids is None:
            wanted = set(STAGE_LABELS.values())
            self._label_ids = {name: label_id for label_id, (name, _) in self._labels().items() if name in wanted}
        return self._label_ids

    def _labels(self, *, refresh: bool = False) -> dict[str, tuple[str, bool]]:
        """Label id -> (name, whether it is a user label), from one ``labels.list`` per connection
        (``refresh``: list again)."""
        if self._label_list is None or refresh:
            answer = self._execute(lambda s: s.users().labels().list(userId="me"), "labels.list")
            self._label_list = {str(lab["id"]): (str(lab.get("name") or lab["id"]), lab.get("type") == "user")
                                for lab in answer.get("labels", ()) if lab.get("id")}
        return self._label_list

    # -- the user's labels (confirmations by tag, followup.confirmations) ---------------------

    def tags_of(self, role: FolderRole, refs: Sequence[str]) -> dict[str, frozenset[str]]:
        """The user labels of each ref by name, lower-cased (system labels such as INBOX, UNREAD
        or CATEGORY_… left out): batched ``messages.get`` ``format=minimal`` for the label ids,
        their names from ``labels.list`` (listed once per connection, and again when a message
        carries a label created since). Vanished refs are left out."""
        answers = self._batch_get(refs, {"format": "minimal"}, "messages.get minimal")
        found = {ref: [str(i) for i in (answers[ref] or {}).get("labelIds") or ()]
                 for ref in dict.fromkeys(refs) if answers.get(ref) is not None}
        labels = self._labels()
        if any(i not in labels for ids in found.values() for i in ids):
            labels = self._labels(refresh=True)
        return {ref: frozenset(labels[i][0].lower() for i in ids if i in labels and labels[i][1])
                for ref, ids in found.items()}

    # -- drafts and threads ------------------------------------------------------------------

    def draft_id(self, message_ref: str) -> str | None:
        """The stable draft id of a draft message (None when no draft holds that message now)."""
        if message_ref not in self._draft_ids:
            self._drafts(None)
        return self._draft_ids.get(message_ref)

    def thread_of_reply(self, raw: bytes) -> str | None:
        """The Gmail thread of the message ``raw`` answers (its In-Reply-To), or None."""
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
        in_reply_to = str(headers.get("In-Reply-To") or "").strip()
        if not in_reply_to.startswith("<") or ">" not in in_reply_to:
            return None
        message_id = in_reply_to[1:in_reply_to.index(">")]
        page = self._execute(lambda s: s.users().messages().list(
            userId="me", q=f"rfc822msgid:{message_id}", maxResults=10, includeSpamTrash=False),
            "messages.list rfc822msgid")
        for found in page.get("messages", ()):
            if found.get("threadId"):
                return str(found["threadId"])
        return None

    def _drafts(self, query: str | None) -> list[dict]:
        drafts = []
        for page in self._pages(lambda s, token: s.users().drafts().list(
                userId="me", q=query, maxResults=PAGE_SIZE, pageToken=token), "drafts.list"):
            for draft in page.get("drafts", ()):
                if draft.get("message", {}).get("id"):
                    drafts.append(draft)
                    self._draft_ids[str(draft["message"]["id"])] = str(draft["id"])
        return drafts

    def _message_ids_for(self, name: str, value: str) -> list[str]:
        """Message-IDs a header search can be turned into (Gmail searches Message-IDs, not headers)."""
        if name.lower() == "message-id":
            return [value]
        if name.lower() == "x-followup-key" and value and all(c.isalnum() or c in "-_." for c in value):
            # The program's drafts carry Message-ID <followup.KEY@domain> (core/compose.py).
            domains = dict.fromkeys(a.rsplit("@", 1)[1] for a in self._addresses)
            return [f"<followup.{value}@{domain}>" for domain in domains]
        return []

    def _search(self, query: str, label: str, *, limit: int | None = None) -> list[str]:
        ids: list[str] = []
        for page in self._pages(lambda s, token: s.users().messages().list(
                userId="me", labelIds=[label], q=query, maxResults=min(PAGE_SIZE, limit or PAGE_SIZE),
                pageToken=token, includeSpamTrash=False), "messages.list"):
            ids.extend(str(m["id"]) for m in page.get("messages", ()))
            if limit is not None and len(ids) >= limit:
                return ids[:limit]
        return ids

    # -- calls, batches, errors --------------------------------------------------------------

    def call(self, make: Callable[[Any], Any], action: str, *, create: bool = False) -> dict:
        """Run one API request ``make(service)`` with this mailbox's backoff and error mapping
        (``create``: retried only on answers proving nothing was made). For :mod:`followup.delivery`."""
        return self._execute(make, action, create=create)

    def _live(self) -> Any:
        self.connect()
        return self._service

    def _pages(self, make: Callable[[Any, str | None], Any], action: str,
               missing: type[MailboxError] | None = None) -> Iterator[dict]:
        token: str | None = None
        while True:
            page = self._execute(lambda s: make(s, token), action, missing=missing)
            yield page
            token = page.get("nextPageToken")
            if not token:
                return

    def _execute(self, make: Callable[[Any], Any], action: str, *, missing: type[MailboxError] | None = None,
                 create: bool = False) -> dict:
        """Run one API call with backoff on rate limits and server errors; map errors.

        ``missing``: the error a 404 becomes (default ProtocolError). ``create``: the call makes
        something, so only answers that prove nothing was made (429, 403 rate limits) are retried.
        """
        from googleapiclient.errors import HttpError

        attempt = 0
        while True:
            service = self._live()
            try:
                with self._guard(action, missing=missing):
                    self.requests_issued += 1
                    return make(service).execute()
            except TransientError as exc:
                cause = exc.__cause__
                status = cause.resp.status if isinstance(cause, HttpError) else None
                retry_safe = not create or status in (429, 403)
                if attempt >= self._max_retries or not retry_safe:
                    raise
            attempt += 1
            self.retries += 1
            self._sleep(_backoff(attempt))

    def _batch_get(self, refs: Sequence[str], params: dict, action: str) -> dict[str, dict | None]:
        """``messages.get`` of every ref, :data:`BATCH_SIZE` to a batch request; a 404 gives None.
        Calls that hit a rate limit or a server error are retried (only those) with backoff."""
        from googleapiclient.errors import HttpError

        results: dict[str, dict | None] = {}
        pending = list(dict.fromkeys(refs))
        attempt = 0
        while pending:
            retry: list[str] = []
            failure: Exception | None = None
            for start in range(0, len(pending), BATCH_SIZE):
                chunk = pending[start:start + BATCH_SIZE]
                answers: dict[str, tuple[dict | None, Exception | None]] = {}

                def collect(request_id: str, response: Any, exception: Exception | None) -> None:
                    answers[request_id] = (response, exception)

                service = self._live()
                try:
                    with self._guard(f"{action} (batch of {len(chunk)})"):
                        batch = service.new_batch_http_request(callback=collect)
                        for ref in chunk:
                            batch.add(service.users().messages().get(userId="me", id=ref, **params), request_id=ref)
                        self.requests_issued += len(chunk)
                        batch.execute()
                except TransientError as exc:
                    retry.extend(chunk)
                    failure = exc
                    continue
                for ref in chunk:
                    response, exception = answers.get(ref, (None, None))
                    if exception is None:
                        if response is None:
                            retry.append(ref)  # no answer for it in the batch: ask again
                            failure = ProtocolError(f"{self.account}: {action}: no answer for {ref}")
                        else:
                            results[ref] = response
                        continue
                    status = exception.resp.status if isinstance(exception, HttpError) else None
                    if status == 404:
                        results[ref] = None  # deleted meanwhile
                        continue
                    mapped = self._map_http_error(f"{action} {ref}", exception) if isinstance(exception, HttpError) \
                        else ProtocolError(f"{self.account}: {action} {ref}: {exception}")
                    if isinstance(mapped, TransientError):
                        retry.append(ref)
                        failure = mapped
                    else:
                        raise mapped from exception
            if not retry:
                break
            if attempt >= self._max_retries:
                assert failure is not None
                raise failure
            attempt += 1
            self.retries += 1
            self._sleep(_backoff(attempt))
            pending = retry
        return results

    @contextmanager
    def _guard(self, action: str, *, missing: type[MailboxError] | None = None) -> Iterator[None]:
        """Map googleapiclient, google-auth, httplib2 and socket exceptions to :mod:`followup.errors`."""
        from google.auth import exceptions as gexc
        from googleapiclient.errors import BatchError, HttpError

        from followup.mailbox.gmail_auth import refresh_error

        try:
            yield
        except (MailboxError, ConfigError):
            raise
        except HttpError as exc:
            if exc.resp.status == 404 and missing is not None:
                raise missing(f"{self.account}: {action}: not found") from exc
            raise self._map_http_error(action, exc) from exc
        except gexc.RefreshError as exc:
            raise refresh_error(self.account, exc) from exc
        except gexc.TransportError as exc:
            raise TransientError(f"{self.account}: {action}: {exc}") from exc
        except BatchError as exc:
            raise ProtocolError(f"{self.account}: {action}: unusable batch answer: {exc}") from exc
        except ssl.SSLCertVerificationError as exc:
            raise TransientError(f"{self.account}: {action}: TLS certificate not trusted: {exc}") from exc
        except (TimeoutError, socket.timeout) as exc:
            raise TransientError(f"{self.account}: {action}: no answer in time") from exc
        except OSError as exc:
            raise TransientError(f"{self.account}: {action}: {exc}") from exc
        except Exception as exc:
            import httplib2

            if isinstance(exc, httplib2.HttpLib2Error):
                raise TransientError(f"{self.account}: {action}: {exc}") from exc
            if isinstance(exc, ValueError | KeyError | TypeError | IndexError):
                raise ProtocolError(f"{self.account}: {action}: unexpected answer: {exc!r}") from exc
            raise

    def _map_http_error(self, action: str, exc: Any) -> MailboxError:
        from followup.mailbox.gmail_auth import reauth_hint

        status = int(exc.resp.status)
        reason, message = _error_details(exc)
        where = f"{self.account}: {action}"
        if status == 401:
            return AuthError(f"{where}: Google refused the token (401): {reauth_hint(self.account)}")
        if status in RETRY_STATUSES or (status == 403 and reason in RATE_LIMIT_REASONS):
            return TransientError(f"{where}: HTTP {status} {reason or ''} {message}".rstrip())
        if status == 403:
            return AuthError(f"{where}: not allowed ({reason or 'forbidden'}: {message}); "
                             f"{reauth_hint(self.account)}")
        if status == 404:
            return ProtocolError(f"{where}: not found (404)")
        return ProtocolError(f"{where}: HTTP {status} {reason or ''} {message}".rstrip())


# -- helpers -----------------------------------------------------------------------------------


def _apply_history(record: dict, label: str, state: dict[str, bool]) -> None:
    """Fold one history record into ``state`` (message id -> on the label), in order."""
    for item in record.get("messagesAdded", ()):
        message = item.get("message") or {}
        if label in (message.get("labelIds") or ()) and message.get("id"):
            state[str(message["id"])] = True
    for item in record.get("labelsAdded", ()):
        message = item.get("message") or {}
        if label in (item.get("labelIds") or ()) and message.get("id"):
            state[str(message["id"])] = True
    for item in record.get("labelsRemoved", ()):
        message = item.get("message") or {}
        if label in (item.get("labelIds") or ()) and message.get("id"):
            state[str(message["id"])] = False
    for item in record.get("messagesDeleted", ()):
        message = item.get("message") or {}
        if message.get("id"):
            state[str(message["id"])] = False


def _flags(label_ids: Iterable[str]) -> frozenset[str]:
    labels = set(label_ids)
    flags = set()
    if "UNREAD" not in labels:
        flags.add("\\Seen")
    if "DRAFT" in labels:
        flags.add("\\Draft")
    if "STARRED" in labels:
        flags.add("\\Flagged")
    return frozenset(flags)


def _internal_date(message: dict) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(message["internalDate"]) / 1000, UTC)
    except (KeyError, TypeError, ValueError, OverflowError):
        return None


def _decimal(gmail_id: Any) -> str | None:
    """Gmail API ids are the hexadecimal form of IMAP's X-GM-MSGID / X-GM-THRID."""
    try:
        return str(int(str(gmail_id), 16))
    except (TypeError, ValueError):
        return None


def _epoch(moment: datetime) -> int:
    """Whole seconds since the epoch, rounded down (a naive datetime is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() // 1)


def _covers(listed: int | None, wanted: int | None) -> bool:
    """Whether a listing ``after:listed`` (None: unbounded) holds everything ``after:wanted``."""
    return listed is None or (wanted is not None and wanted >= listed)


def _padded(data: str) -> str:
    return data + "=" * (-len(data) % 4)


def _backoff(attempt: int) -> float:
    """Exponential backoff with jitter: about 1, 2, 4, 8 … seconds, at most 64."""
    return min(64.0, 2.0 ** (attempt - 1)) + random.random()


def _error_details(exc: Any) -> tuple[str | None, str]:
    """(reason, message) from a Gmail error body ``{"error": {"errors": [{"reason"}], "message"}}``."""
    try:
        body = json.loads(exc.content.decode("utf-8") if isinstance(exc.content, bytes) else exc.content)
        error = body.get("error") or {}
        if isinstance(error, str):  # OAuth-style {"error": "invalid_grant"}
            return error, str(body.get("error_description") or "")
        errors = error.get("errors") or [{}]
        return errors[0].get("reason") or error.get("status"), str(error.get("message") or "")[:200]
    except Exception:  # noqa: BLE001 - an error body we cannot read still has its status
        return None, ""


def stage_threads(store: Any, account: str) -> dict[str, str]:
    """Gmail thread (X-GM-THRID, decimal) -> stage, for the account's applications in ``store``."""
    rows = store.db.execute(
        "SELECT DISTINCT m.gm_thrid, a.stage FROM applications a "
        "JOIN threads t ON t.application_id = a.id AND t.account = a.account "
        "JOIN messages m ON m.account = t.account AND m.thread_key = t.thread_key "
        "WHERE a.account = ? AND m.gm_thrid IS NOT NULL ORDER BY a.updated_at", (account,))
    return {str(thrid): str(stage) for thrid, stage in rows}
