"""A FAKE of Gmail's IMAP service as far as logging in and finding folders go, for tests that
must not reach Google: an imapclient stand-in (``client_factory``) that records every login
(XOAUTH2 or password), can refuse chosen tokens or passwords the way Gmail does
(``[AUTHENTICATIONFAILED] Invalid credentials (Failure)``), answers LIST and STATUS with
Gmail's English folder layout, records ``X-GM-RAW`` searches, answering them with the UIDs
a test sets in ``search_hits``, and answers ``UID FETCH`` of ``FLAGS`` / ``X-GM-LABELS`` from
``flags`` and ``labels`` (UID -> values as imapclient parses them: bytes, modified UTF-7 for
labels, system labels with a backslash as Gmail shows them), recording the items asked for.
It is not Gmail and knows nothing else about messages."""

from __future__ import annotations

from imapclient.exceptions import LoginError


class FakeGmailImap:
    def __init__(self) -> None:
        self.logins: list[tuple[str, str, str]] = []  # (method, user, token or password)
        self.refused: set[str] = set()
        self.connections = 0
        self.searches: list[tuple[list, str | None]] = []  # (criteria, charset)
        self.search_hits: set[int] = set()
        self.flags: dict[int, tuple[bytes, ...]] = {}
        self.labels: dict[int, tuple[bytes, ...]] = {}
        self.fetches: list[tuple[list[int], list]] = []  # (uids, items)

    def client(self, settings) -> FakeGmailImapClient:
        """The ``client_factory``: one new connection."""
        self.connections += 1
        return FakeGmailImapClient(self)

    @property
    def tokens(self) -> list[str]:
        return [secret for method, _, secret in self.logins if method == "xoauth2"]


class FakeGmailImapClient:
    def __init__(self, server: FakeGmailImap) -> None:
        self.server = server

    def _login(self, method: str, user: str, secret: str):
        self.server.logins.append((method, user, secret))
        if secret in self.server.refused:
            raise LoginError("[AUTHENTICATIONFAILED] Invalid credentials (Failure)")
        return b"OK"

    def oauth2_login(self, user: str, token: str):
        return self._login("xoauth2", user, token)

    def login(self, user: str, password: str):
        return self._login("password", user, password)

    def capabilities(self):
        return (b"IMAP4REV1", b"X-GM-EXT-1", b"SPECIAL-USE", b"IDLE", b"UIDPLUS")

    def list_folders(self):
        return [((b"\\HasNoChildren",), b"/", "INBOX"),
                ((b"\\HasChildren", b"\\Noselect"), b"/", "[Gmail]"),
                ((b"\\Drafts", b"\\HasNoChildren"), b"/", "[Gmail]/Drafts"),
                ((b"\\HasNoChildren", b"\\Sent"), b"/", "[Gmail]/Sent Mail")]

    def select_folder(self, name, readonly=False):
        return {b"UIDVALIDITY": 1, b"EXISTS": 0, b"UIDNEXT": 1}

    def search(self, criteria, charset=None):
        self.server.searches.append((list(criteria), charset))
        uid_set = criteria[criteria.index(b"UID") + 1].decode() if b"UID" in criteria else ""
        wanted: set[int] = set()
        for run in filter(None, uid_set.split(",")):
            low, _, high = run.partition(":")
            wanted.update(range(int(low), int(high or low) + 1))
        return sorted(self.server.search_hits & wanted)

    def noop(self):
        return b"NOOP completed", []

    def fetch(self, uids, items):
        self.server.fetches.append((list(uids), list(items)))
        out = {}
        for uid in uids:
            if uid not in self.server.flags and uid not in self.server.labels:
                continue
            data = {b"SEQ": uid, b"FLAGS": self.server.flags.get(uid, ())}
            if "X-GM-LABELS" in items:
                data[b"X-GM-LABELS"] = self.server.labels.get(uid, ())
            out[uid] = data
        return out

    def folder_status(self, name, items):
        return {b"UIDVALIDITY": 1, b"UIDNEXT": 1, b"MESSAGES": 0}

    def logout(self):
        return b"BYE"

    def shutdown(self):
        pass
