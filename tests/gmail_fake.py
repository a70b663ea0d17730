"""A FAKE Gmail REST server for the test suite: ``http.server`` on 127.0.0.1, in the test process.

It is not Google's server and makes no claim to behave like it beyond what is written here. It
answers the endpoints the Gmail backend uses, with the request and response shapes of the
discovery document shipped in google-api-python-client (``gmail.v1.json``) and the published
API reference:

- ``users.getProfile``, ``users.labels.get`` (system labels with ``messagesTotal``),
- ``users.messages.list`` (``labelIds``, ``q`` with the few operators the program uses:
  ``rfc822msgid:``, ``after:``, ``before:``, ``newer_than:Nd``, and one ``{...}`` OR-group of
  bare words, ``"quoted phrases"`` and ``filename:ics``, see :func:`_text_matches`; anything else
  is a 400 so a test notices), ``users.messages.get`` (``format=metadata`` with ``metadataHeaders``, ``raw``,
  ``minimal``), ``users.messages.send`` (records the message, and delivers it to the INBOX
  when it is addressed to the account),
- ``users.history.list`` (``startHistoryId``, ``historyTypes``, paging; **404** for a
  ``startHistoryId`` older than the kept history, see :meth:`FakeGmail.expire_history`),
- ``users.drafts.create`` / ``list`` / ``get`` / ``update`` / ``delete``,
- ``users.labels.list`` / ``create`` and ``users.threads.modify`` (the optional stage labels),
- batch requests (``POST /batch``, ``multipart/mixed`` of ``application/http`` parts, at most 100),
- the OAuth token endpoint (``POST /token``, ``grant_type=refresh_token``; ``invalid_grant`` for a
  revoked refresh token), and ``Authorization: Bearer`` checks (401 for an unknown access token).

Threading follows Gmail's published rule: a message (or a draft given a ``threadId``) joins a
thread only when it refers to a message of that thread (``In-Reply-To``/``References``) **and**
its subject matches; otherwise it starts a thread of its own. What the published documentation
leaves open is decided here and marked *[assumption]*: a draft keeps the Message-ID and headers
it was created with; a draft the user sends keeps its message id (``DRAFT`` is replaced by
``SENT``); a draft the user edits gets a new message id in the same thread.

Helpers simulate the user and the world: :meth:`deliver`, :meth:`user_sends_draft`,
:meth:`user_edits_draft`, :meth:`user_deletes_draft`, :meth:`mark_read`, :meth:`user_adds_label`; :meth:`fail` injects
errors (429, 403 ``rateLimitExceeded``, 5xx, …) into the next matching calls; ``log`` records
every call (batched ones too) for assertions about cost.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SYSTEM_LABELS = ("INBOX", "SENT", "DRAFT", "UNREAD", "STARRED", "IMPORTANT", "SPAM", "TRASH",
                 "CATEGORY_PERSONAL", "CATEGORY_UPDATES")
API = "/gmail/v1/users/"


@dataclass
class FakeMessage:
    id: str
    thread_id: str
    raw: bytes
    labels: set[str]
    internal_date: int  # ms since the epoch
    history_id: int

    def headers(self) -> list[tuple[str, str]]:
        parsed = BytesHeaderParser(policy=email.policy.compat32).parsebytes(self.raw)
        return [(name, re.sub(r"\r?\n", "", str(value))) for name, value in parsed.items()]

    def header(self, name: str) -> str:
        for key, value in self.headers():
            if key.lower() == name.lower():
                return value
        return ""


@dataclass
class Fault:
    status: int
    reason: str | None
    path_contains: str | None
    times: int


@dataclass
class FakeGmail:
    """The fake mailbox's state; :meth:`start` serves it on 127.0.0.1 (see the module docstring)."""

    email: str = "dana@gmail.example"
    access_tokens: set[str] = field(default_factory=lambda: {"access-1"})
    refresh_tokens: dict[str, bool] = field(default_factory=lambda: {"refresh-1": True})
    require_auth: bool = True
    messages: dict[str, FakeMessage] = field(default_factory=dict)
    drafts: dict[str, str] = field(default_factory=dict)  # draft id -> message id
    history: list[dict] = field(default_factory=list)
    history_id: int = 5000
    history_floor: int = 0  # startHistoryId below this: 404
    sent: list[bytes] = field(default_factory=list)
    log: list[dict] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    batch_sizes: list[int] = field(default_factory=list)
    now: datetime | None = None  # for newer_than: (default: the real clock)
    user_labels: dict[str, str] = field(default_factory=dict)  # label id -> name

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self._next_id = 0x18C2A00000000000
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tokens_issued = 0

    # -- serving -------------------------------------------------------------------------------

    def start(self) -> FakeGmail:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.02,), name="fake-gmail", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    @property
    def token_uri(self) -> str:
        return self.url + "token"

    # -- the world and the user ----------------------------------------------------------------

    def deliver(self, raw: bytes, *, labels: Iterable[str] = ("INBOX", "UNREAD"),
                when: datetime | None = None) -> str:
        """New mail (or a message the user sent, with ``labels=("SENT",)``); returns its id."""
        with self.lock:
            return self._add_message(raw, set(labels), when=when)

    def mark_read(self, message_id: str) -> None:
        with self.lock:
            self._change_labels(message_id, remove={"UNREAD"})

    def user_adds_label(self, message_id: str, name: str) -> str:
        """The user puts their label ``name`` on a message (creating the label when it does not
        exist, as Gmail's "Label as" menu does); returns the label's id."""
        with self.lock:
            label_id = next((i for i, n in self.user_labels.items() if n == name), None)
            if label_id is None:
                label_id = f"Label_{len(self.user_labels) + 1}"
                self.user_labels[label_id] = name
            self._change_labels(message_id, add={label_id})
            return label_id

    def user_sends_draft(self, draft_id: str) -> str:
        """The user sends a draft from Gmail [assumption: the message keeps its id]."""
        with self.lock:
            message_id = self.drafts.pop(draft_id)
            add = {"SENT"} | ({"INBOX", "UNREAD"} if self.email in self.messages[message_id].header("To").lower() else set())
            self._change_labels(message_id, add=add, remove={"DRAFT"})
            return message_id

    def user_edits_draft(self, draft_id: str, raw: bytes | None = None) -> str:
        """The user edits and saves a draft: a new message replaces the old one (Gmail's draft
        semantics); returns the new message id."""
        with self.lock:
            old = self.messages[self.drafts[draft_id]]
            new_raw = raw if raw is not None else old.raw.replace(b"\r\n\r\n", b"\r\n\r\nEdited. ", 1)
            self._delete_message(old.id)
            new_id = self._add_message(new_raw, {"DRAFT"}, thread_id=old.thread_id)
            self.drafts[draft_id] = new_id
            return new_id

    def user_deletes_draft(self, draft_id: str) -> None:
        with self.lock:
            self._delete_message(self.drafts.pop(draft_id))

    def expire_history(self) -> None:
        """Forget all history so far: a startHistoryId from before now gets 404."""
        with self.lock:
            self.history_floor = self.history_id + 1
            self.history = []

    def fail(self, status: int, *, reason: str | None = None, path_contains: str | None = None,
             times: int = 1) -> None:
        """Answer the next ``times`` calls whose path contains ``path_contains`` with an error."""
        with self.lock:
            self.faults.append(Fault(status, reason, path_contains, times))

    def draft_of(self, message_id: str) -> str | None:
        return next((d for d, m in self.drafts.items() if m == message_id), None)

    def calls(self, kind: str | None = None, **params: str) -> list[dict]:
        """Logged calls whose path ends with ``kind`` and whose query has ``params``."""
        out = []
        for entry in self.log:
            if kind is not None and not re.search(kind, entry["path"]):
                continue
            if all(entry["query"].get(k, [None])[0] == v for k, v in params.items()):
                out.append(entry)
        return out

    def thread(self, thread_id: str) -> list[FakeMessage]:
        return [m for m in self.messages.values() if m.thread_id == thread_id]

    # -- state changes (with history) ---------------------------------------------------------

    def _new_id(self) -> str:
        self._next_id += 0x1F3
        return f"{self._next_id:016x}"

    def _bump(self, record: dict) -> int:
        self.history_id += 1
        record["id"] = str(self.history_id)
        self.history.append(record)
        return self.history_id

    def _minimal(self, message: FakeMessage) -> dict:
        return {"id": message.id, "threadId": message.thread_id, "labelIds": sorted(message.labels)}

    def _add_message(self, raw: bytes, labels: set[str], *, when: datetime | None = None,
                     thread_id: str | None = None, requested_thread: str | None = None) -> str:
        message_id = self._new_id()
        if thread_id is None:
            thread_id = self._thread_for(raw, requested_thread) or message_id
        ms = int((when or self.now or datetime.now(UTC)).timestamp() * 1000)
        message = FakeMessage(message_id, thread_id, raw, set(labels), ms, 0)
        self.messages[message_id] = message
        message.history_id = self._bump({"messages": [{"id": message_id, "threadId": thread_id}],
                                         "messagesAdded": [{"message": self._minimal(message)}]})
        return message_id

    def _delete_message(self, message_id: str) -> None:
        message = self.messages.pop(message_id)
        self._bump({"messages": [{"id": message_id, "threadId": message.thread_id}],
                    "messagesDeleted": [{"message": {"id": message_id, "threadId": message.thread_id}}]})

    def _change_labels(self, message_id: str, *, add: set[str] = frozenset(), remove: set[str] = frozenset()) -> None:
        message = self.messages[message_id]
        removed = sorted(remove & message.labels)
        added = sorted(add - message.labels)
        message.labels -= set(removed)
        message.labels |= set(added)
        ref = [{"id": message_id, "threadId": message.thread_id}]
        if removed:
            message.history_id = self._bump({"messages": ref, "labelsRemoved": [
                {"message": self._minimal(message), "labelIds": removed}]})
        if added:
            message.history_id = self._bump({"messages": ref, "labelsAdded": [
                {"message": self._minimal(message), "labelIds": added}]})

    def _thread_for(self, raw: bytes, requested: str | None) -> str | None:
        """Gmail's rule: a referenced message of the thread and the same subject."""
        parsed = BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
        refs = set(re.findall(r"<[^>]+>", f"{parsed.get('In-Reply-To', '')} {parsed.get('References', '')}"))
        subject = _subject_key(str(parsed.get("Subject", "")))
        for other in self.messages.values():
            if requested is not None and other.thread_id != requested:
                continue
            if other.header("Message-ID").strip() in refs and _subject_key(other.header("Subject")) == subject:
                return other.thread_id
        return None

    # -- the API -------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes,
               *, batched: bool = False) -> tuple[int, dict]:
        """Answer one call: (status, JSON body)."""
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query)
        with self.lock:
            self.log.append({"method": method, "path": path, "query": query, "batched": batched})
            for fault in self.faults:
                if fault.times > 0 and (fault.path_contains is None or fault.path_contains in path) \
                        and path != "/token":
                    fault.times -= 1
                    return fault.status, _error(fault.status, fault.reason)
            self.faults = [f for f in self.faults if f.times > 0]
            if path == "/token":
                return self._token(body)
            if self.require_auth:
                auth = headers.get("authorization", "")
                if not auth.startswith("Bearer ") or auth[7:] not in self.access_tokens:
                    return 401, _error(401, "authError", "Request had invalid authentication credentials.")
            if not path.startswith(API + "me/"):
                return 404, _error(404, "notFound")
            route = path[len(API + "me/"):].strip("/").split("/")
            try:
                return self._route(method, route, query, body)
            except _Answer as answer:
                return answer.status, answer.body

    def _route(self, method: str, route: list[str], query: dict, body: bytes) -> tuple[int, dict]:
        one = lambda name, default=None: query.get(name, [default])[0]  # noqa: E731
        if route == ["profile"] and method == "GET":
            return 200, {"emailAddress": self.email, "messagesTotal": len(self.messages),
                         "threadsTotal": len({m.thread_id for m in self.messages.values()}),
                         "historyId": str(self.history_id)}
        if route == ["labels"] and method == "GET":
            return 200, {"labels": [{"id": x, "name": x, "type": "system"} for x in SYSTEM_LABELS]
                         + [{"id": i, "name": n, "type": "user"} for i, n in self.user_labels.items()]}
        if route == ["labels"] and method == "POST":
            name = json.loads(body)["name"]
            if name in self.user_labels.values() or name in SYSTEM_LABELS:
                raise _Answer(409, _error(409, "duplicate", "Label name exists or conflicts"))
            label_id = f"Label_{len(self.user_labels) + 1}"
            self.user_labels[label_id] = name
            return 200, {"id": label_id, "name": name, "type": "user", "labelListVisibility": "labelShow",
                         "messageListVisibility": "show"}
        if route[0] == "threads" and len(route) == 3 and route[2] == "modify" and method == "POST":
            change = json.loads(body)
            messages = self.thread(route[1])
            if not messages:
                raise _Answer(404, _error(404, "notFound", "Requested entity was not found."))
            known = set(SYSTEM_LABELS) | set(self.user_labels)
            wanted = set(change.get("addLabelIds", [])) | set(change.get("removeLabelIds", []))
            if wanted - known:
                raise _Answer(400, _error(400, "invalidArgument", f"Invalid label: {sorted(wanted - known)}"))
            for message in messages:
                self._change_labels(message.id, add=set(change.get("addLabelIds", [])),
                                    remove=set(change.get("removeLabelIds", [])))
            return 200, {"id": route[1], "messages": [self._minimal(m) for m in messages]}
        if route[0] == "labels" and len(route) == 2 and method == "GET":
            label = route[1]
            if label not in SYSTEM_LABELS and label not in self.user_labels:
                raise _Answer(404, _error(404, "notFound"))
            on = [m for m in self.messages.values() if label in m.labels]
            return 200, {"id": label, "name": self.user_labels.get(label, label),
                         "type": "user" if label in self.user_labels else "system",
                         "messagesTotal": len(on), "messagesUnread": sum("UNREAD" in m.labels for m in on),
                         "threadsTotal": len({m.thread_id for m in on}),
                         "threadsUnread": len({m.thread_id for m in on if "UNREAD" in m.labels})}
        if route == ["messages"] and method == "GET":
            found = self._query(query.get("labelIds", []), one("q"),
                                include_spam_trash=one("includeSpamTrash") == "true")
            page, token = _page(found, one("maxResults", "100"), one("pageToken"))
            out: dict = {"resultSizeEstimate": len(page)}
            if page:
                out["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in page]
            if token:
                out["nextPageToken"] = token
            return 200, out
        if route == ["messages", "send"] and method == "POST":
            raw = base64.urlsafe_b64decode(_padded(json.loads(body)["raw"]))
            self.sent.append(raw)
            parsed = BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
            labels = {"SENT"} | ({"INBOX", "UNREAD"} if self.email in str(parsed.get("To", "")).lower() else set())
            message_id = self._add_message(raw, labels)
            return 200, self._minimal(self.messages[message_id])
        if route[0] == "messages" and len(route) == 2 and method == "GET":
            message = self.messages.get(route[1])
            if message is None:
                raise _Answer(404, _error(404, "notFound", "Requested entity was not found."))
            return 200, self._message_resource(message, one("format", "full"), query.get("metadataHeaders", []))
        if route == ["history"] and method == "GET":
            return self._history(query)
        if route == ["drafts"] and method == "POST":
            return self._create_draft(json.loads(body or b"{}"))
        if route == ["drafts"] and method == "GET":
            found = [self.messages[m] for m in self.drafts.values()]
            if one("q"):
                allowed = {m.id for m in self._query([], one("q"))}
                found = [m for m in found if m.id in allowed]
            found.sort(key=lambda m: (m.internal_date, m.id), reverse=True)
            page, token = _page(found, one("maxResults", "100"), one("pageToken"))
            out = {"resultSizeEstimate": len(page)}
            if page:
                out["drafts"] = [{"id": self.draft_of(m.id), "message": {"id": m.id, "threadId": m.thread_id}}
                                 for m in page]
            if token:
                out["nextPageToken"] = token
            return 200, out
        if route[0] == "drafts" and len(route) == 2:
            draft_id = route[1]
            if draft_id not in self.drafts:
                raise _Answer(404, _error(404, "notFound", "Requested entity was not found."))
            if method == "GET":
                message = self.messages[self.drafts[draft_id]]
                return 200, {"id": draft_id, "message": self._message_resource(message, one("format", "full"), [])}
            if method == "DELETE":
                self.user_deletes_draft(draft_id)
                return 204, {}
            if method == "PUT":
                raw = base64.urlsafe_b64decode(_padded(json.loads(body)["message"]["raw"]))
                new_id = self.user_edits_draft(draft_id, raw)
                return 200, {"id": draft_id, "message": self._minimal(self.messages[new_id])}
        raise _Answer(404, _error(404, "notFound", f"no such method {method} {'/'.join(route)}"))

    def _create_draft(self, body: dict) -> tuple[int, dict]:
        message = body.get("message") or {}
        if "raw" not in message:
            raise _Answer(400, _error(400, "invalidArgument", "Missing draft message"))
        raw = base64.urlsafe_b64decode(_padded(message["raw"]))
        requested = message.get("threadId")
        if requested is not None and not any(m.thread_id == requested for m in self.messages.values()):
            raise _Answer(404, _error(404, "notFound", "Requested entity was not found."))
        thread = self._thread_for(raw, requested) if requested else None
        message_id = self._add_message(raw, {"DRAFT"}, thread_id=thread or None)
        draft_id = f"r{int(message_id, 16) % 10**19}"
        self.drafts[draft_id] = message_id
        return 200, {"id": draft_id, "message": self._minimal(self.messages[message_id])}

    def _history(self, query: dict) -> tuple[int, dict]:
        start = query.get("startHistoryId", [None])[0]
        if start is None or not start.isdigit() or int(start) == 0:
            raise _Answer(400, _error(400, "invalidArgument", "Invalid startHistoryId"))
        if int(start) < self.history_floor:
            raise _Answer(404, _error(404, "notFound", "Requested entity was not found."))
        types = set(query.get("historyTypes", []))
        keys = {"messageAdded": "messagesAdded", "messageDeleted": "messagesDeleted",
                "labelAdded": "labelsAdded", "labelRemoved": "labelsRemoved"}
        wanted = {keys[t] for t in types} if types else set(keys.values())
        label = query.get("labelId", [None])[0]
        records = []
        for record in self.history:
            if int(record["id"]) <= int(start):
                continue
            if not any(k in record for k in wanted):
                continue
            if label is not None and not any(label in (i.get("message", {}).get("labelIds") or [])
                                              for k in wanted for i in record.get(k, [])):
                continue
            records.append({k: v for k, v in record.items() if k in wanted or k in ("id", "messages")})
        page, token = _page(records, query.get("maxResults", ["100"])[0], query.get("pageToken", [None])[0])
        out: dict = {"historyId": str(self.history_id)}
        if page:
            out["history"] = page
        if token:
            out["nextPageToken"] = token
        return 200, out

    def _message_resource(self, message: FakeMessage, fmt: str, metadata_headers: list[str]) -> dict:
        out = {"id": message.id, "threadId": message.thread_id, "labelIds": sorted(message.labels),
               "snippet": "", "sizeEstimate": len(message.raw), "historyId": str(message.history_id),
               "internalDate": str(message.internal_date)}
        if fmt == "raw":
            out["raw"] = base64.urlsafe_b64encode(message.raw).decode("ascii")
        elif fmt in ("metadata", "full"):
            wanted = {h.lower() for h in metadata_headers}
            headers = [{"name": k, "value": v} for k, v in message.headers()
                       if fmt == "full" or not wanted or k.lower() in wanted]
            payload: dict = {"partId": "", "mimeType": message.header("Content-Type").split(";")[0] or "text/plain",
                             "filename": "", "headers": headers, "body": {"size": 0}}
            if fmt == "full":
                parsed = email.message_from_bytes(message.raw, policy=email.policy.default)
                text = parsed.get_body(("plain",))
                content = text.get_content().encode() if text is not None else b""
                payload["body"] = {"size": len(content), "data": base64.urlsafe_b64encode(content).decode()}
            out["payload"] = payload
        elif fmt != "minimal":
            raise _Answer(400, _error(400, "invalidArgument", f"Invalid format {fmt}"))
        return out

    def _query(self, label_ids: list[str], q: str | None, *, include_spam_trash: bool = False) -> list[FakeMessage]:
        found = [m for m in self.messages.values() if all(label in m.labels for label in label_ids)]
        if not include_spam_trash:
            found = [m for m in found if not {"SPAM", "TRASH"} & m.labels]
        for term in _QUERY_TERM.findall(q or ""):
            if term.startswith("{"):
                group = _group_terms(term)
                found = [m for m in found if _text_matches(m.raw, group)]
                continue
            name, _, value = term.partition(":")
            if name == "rfc822msgid":
                wanted = value.strip("<>")
                found = [m for m in found if m.header("Message-ID").strip().strip("<>") == wanted]
            elif name in ("after", "before"):
                moment = _query_time(value)
                found = [m for m in found if (m.internal_date / 1000 > moment) == (name == "after")]
            elif name == "newer_than" and value.endswith("d") and value[:-1].isdigit():
                limit = (self.now or datetime.now(UTC)) - timedelta(days=int(value[:-1]))
                found = [m for m in found if m.internal_date / 1000 >= limit.timestamp()]
            else:
                raise _Answer(400, _error(400, "invalidArgument", f"the fake does not know the query {term!r}"))
        found.sort(key=lambda m: (m.internal_date, m.id), reverse=True)  # newest first, as Gmail lists
        return found

    def _token(self, body: bytes) -> tuple[int, dict]:
        form = parse_qs(body.decode())
        if form.get("grant_type", [""])[0] != "refresh_token":
            return 400, {"error": "unsupported_grant_type"}
        token = form.get("refresh_token", [""])[0]
        if not self.refresh_tokens.get(token):
            return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
        self._tokens_issued += 1
        access = f"access-r{self._tokens_issued}"
        self.access_tokens.add(access)
        return 200, {"access_token": access, "expires_in": 3599, "token_type": "Bearer",
                     "scope": "https://www.googleapis.com/auth/gmail.readonly "
                              "https://www.googleapis.com/auth/gmail.compose"}

    def handle_batch(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes, str]:
        """A batch: ``multipart/mixed`` of ``application/http`` requests -> the same of responses."""
        content_type = headers.get("content-type", "")
        message = email.message_from_bytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body,
                                           policy=email.policy.compat32)
        if not message.is_multipart():
            return 400, json.dumps(_error(400, "invalidArgument", "not multipart")).encode(), "application/json"
        parts = message.get_payload()
        if len(parts) > 100:
            return 400, json.dumps(_error(400, "invalidArgument", "more than 100 calls in a batch")).encode(), \
                "application/json"
        with self.lock:
            self.batch_sizes.append(len(parts))
        boundary = f"batch_{int(time.monotonic() * 1e6)}"
        out = []
        outer_auth = headers.get("authorization", "")
        for part in parts:
            payload = part.get_payload()
            if isinstance(payload, list):
                payload = payload[0].as_string()
            text = payload.replace("\r\n", "\n")
            head, _, inner_body = text.partition("\n\n")
            request_line, *header_lines = head.split("\n")
            method, target, _ = request_line.split(" ", 2)
            inner_headers = {}
            for line in header_lines:
                name, _, value = line.partition(":")
                inner_headers[name.strip().lower()] = value.strip()
            inner_headers.setdefault("authorization", outer_auth)
            status, answer = self.handle(method, target, inner_headers, inner_body.encode(), batched=True)
            content_id = str(part.get("Content-ID", "<x + x>"))
            out.append(
                f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <response-{content_id[1:]}\r\n\r\n"
                f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
                f"{json.dumps(answer)}\r\n")
        out.append(f"--{boundary}--\r\n")
        return 200, "".join(out).encode(), f"multipart/mixed; boundary={boundary}"


class _Answer(Exception):
    def __init__(self, status: int, body: dict) -> None:
        self.status, self.body = status, body


_REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
            404: "Not Found", 409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 409: "ALREADY_EXISTS",
           429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


def _error(status: int, reason: str | None = None, message: str | None = None) -> dict:
    """Google's JSON error body."""
    reason = reason or {429: "rateLimitExceeded", 500: "backendError", 503: "backendError"}.get(status, "failed")
    message = message or {"rateLimitExceeded": "Too many concurrent requests for user",
                          "userRateLimitExceeded": "User-rate limit exceeded"}.get(reason, reason)
    return {"error": {"code": status, "message": message,
                      "errors": [{"message": message, "domain": "global", "reason": reason}],
                      "status": _STATUS.get(status, "UNKNOWN")}}


def _page(items: list, max_results: str | None, token: str | None) -> tuple[list, str | None]:
    size = max(1, min(500, int(max_results or 100)))
    start = int(token or 0)
    page = items[start:start + size]
    return page, (str(start + size) if start + size < len(items) else None)


def _padded(data: str) -> str:
    return data + "=" * (-len(data) % 4)


def _query_time(value: str) -> float:
    if value.isdigit():
        return float(value)
    return datetime.strptime(value, "%Y/%m/%d").replace(tzinfo=UTC).timestamp()


#: A ``q`` term: a ``{...}`` group (kept whole), a "quoted phrase", or anything up to a space.
_QUERY_TERM = re.compile(r'\{[^}]*\}|"[^"]*"|\S+')
_WORD = re.compile(r"\w+")
_TAG = re.compile(r"<[^>]*>")


def _group_terms(group: str) -> list[tuple[str, ...] | str]:
    """The terms of a ``{...}`` OR-group: a word or phrase as its lower-cased words, or the
    marker ``"filename:ics"``. Any other operator is a 400."""
    terms: list[tuple[str, ...] | str] = []
    for term in _QUERY_TERM.findall(group[1:-1]):
        if term.lower() == "filename:ics":
            terms.append("filename:ics")
        elif not term.startswith('"') and (":" in term or term[0] in "-+({}" or term in ("OR", "AND")):
            raise _Answer(400, _error(400, "invalidArgument", f"the fake does not know the query term {term!r}"))
        else:
            words = tuple(_WORD.findall(term.strip('"').casefold()))
            if words:
                terms.append(words)
    if not terms:
        raise _Answer(400, _error(400, "invalidArgument", f"empty query group {group!r}"))
    return terms


def _text_matches(raw: bytes, terms: list[tuple[str, ...] | str]) -> bool:
    """Whether a message matches any term of an OR-group, approximating Gmail's search: a word
    or phrase matches whole words in sequence (case-insensitive; never a substring) in the
    subject or the decoded text of a text/* part (HTML without its tags); ``filename:ics`` a part
    whose filename ends in .ics or a text/calendar part. Gmail's own index (sender names,
    stemming of some languages, accents) is not modelled."""
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    texts = [str(parsed.get("Subject", ""))]
    calendar = False
    for part in parsed.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename() or ""
        if part.get_content_type() == "text/calendar" or filename.lower().endswith(".ics"):
            calendar = True
        if part.get_content_maintype() != "text":
            continue
        try:
            text = part.get_content()
        except (LookupError, ValueError, AssertionError):
            payload = part.get_payload(decode=True)
            text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
        texts.append(_TAG.sub(" ", text) if part.get_content_subtype() == "html" else text)
    words = " " + " ".join(_WORD.findall(" ".join(texts).casefold())) + " "
    for term in terms:
        if term == "filename:ics":
            if calendar:
                return True
        elif f" {' '.join(term)} " in words:
            return True
    return False


def _subject_key(subject: str) -> str:
    return re.sub(r"^((re|fwd?|aw|sv)\s*:\s*)+", "", subject.strip(), flags=re.IGNORECASE).casefold()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body in separate writes would wait for delayed ACKs
    wbufsize = 1 << 16

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet
        return

    def _serve(self) -> None:
        fake: FakeGmail = self.server.fake  # type: ignore[attr-defined]
        if fake._server is None:  # stopped: drop the kept-alive connection without an answer
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        if self.path.startswith("/batch"):
            if fake.require_auth:
                auth = headers.get("authorization", "")
                if not auth.startswith("Bearer ") or auth[7:] not in fake.access_tokens:
                    self._send(401, json.dumps(_error(401, "authError")).encode(), "application/json")
                    return
            status, data, content_type = fake.handle_batch(headers, body)
            self._send(status, data, content_type)
            return
        status, answer = fake.handle(self.command, self.path, headers, body)
        self._send(status, b"" if status == 204 else json.dumps(answer).encode(), "application/json; charset=UTF-8")

    def _send(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _serve


def credentials_for(fake: FakeGmail, *, token: str | None = "access-1", refresh_token: str = "refresh-1"):
    """OAuth credentials of the kind ``followup auth gmail`` stores, for the fake's token endpoint."""
    from google.oauth2.credentials import Credentials

    return Credentials(token=token, refresh_token=refresh_token, token_uri=fake.token_uri,
                       client_id="fake-client.apps.googleusercontent.com", client_secret="fake-secret")


def mailbox_for(fake: FakeGmail, account: str = "gmail", *, credentials=None, sleeps: list | None = None, **kwargs):
    """A GmailMailbox talking to the fake; ``sleeps`` collects the backoff delays (none are slept)."""
    from followup.mailbox.gmail import GmailMailbox, build_service

    creds = credentials or credentials_for(fake)
    waits = sleeps if sleeps is not None else []
    return GmailMailbox(account, lambda: build_service(creds, root_url=fake.url, timeout=10),
                        addresses=[fake.email], sleep=waits.append, **kwargs)
