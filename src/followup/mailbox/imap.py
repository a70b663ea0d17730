"""The IMAP backend: :class:`ImapMailbox` over imapclient.

What it relies on, and why:

- Folders are found by SPECIAL-USE attributes (``\\Sent``, ``\\Drafts``; RFC 6154) in one ``LIST``,
  then by well-known names (English, Gmail, ``INBOX.`` prefixes, a few localised ones). Names
  from the config win. A role that cannot be found raises :class:`FolderNotFound` naming what
  was tried: a missing Drafts folder is never created or guessed.
- ``folder_state`` is one ``STATUS`` and never selects: an idle poll costs one command per folder.
  STATUS of the folder that is open reports the session's stale view (Dovecot, as RFC 3501
  §6.3.10 warns), so that folder is closed first (one more command, once).
- Reads happen in a folder opened read-only (``EXAMINE``), so nothing the daemon does can set
  ``\\Seen``; bodies are fetched with ``BODY.PEEK[]`` for the same reason. The opened folder is
  remembered; a later SEARCH in it is preceded by ``NOOP`` (Dovecot, as RFC 3501 allows, shows
  messages that arrived from other sessions only at such a point, not during ``SEARCH``).
- ``UID SEARCH UID n:*`` always matches the highest UID, even when it is below ``n`` (RFC 3501
  §6.4.8: ``*`` is the largest UID in use): results are filtered.
- CONDSTORE (RFC 7162) is enabled when offered, so ``STATUS`` reports ``HIGHESTMODSEQ``.
- Every library, socket and TLS exception is mapped at this boundary into
  :mod:`followup.errors`; after a connection-level failure the connection is dropped and the next
  call reconnects.
"""

from __future__ import annotations

import imaplib
import ipaddress
import logging
import re
import socket
import ssl
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Literal

from followup.core.model import FolderRole
from followup.errors import (
    AuthError,
    ConfigError,
    FolderNotFound,
    ProtocolError,
    TransientError,
)
from followup.mailbox.base import SYNC_HEADER_FIELDS, FolderState, HeaderRecord
from followup.mailbox.fetch_response import parse_fetch_lean

log = logging.getLogger(__name__)

Security = Literal["tls", "starttls", "plain"]

#: UIDs per FETCH of headers / of whole messages (keeps command lines and responses bounded).
HEADER_CHUNK = 500
RAW_CHUNK = 50
#: A partial fetch (``limit``) asks for as many messages per command as fit in this many bytes.
PARTIAL_FETCH_BYTES = 16 * 1024 * 1024

#: Name fallbacks per role, tried in this order when no folder carries the SPECIAL-USE flag.
#: Compared case-insensitively with the hierarchy separator normalised to "/"; each is also tried
#: under an "INBOX" prefix (Courier, Cyrus and old Dovecot layouts: "INBOX.Sent").
FALLBACK_NAMES: dict[FolderRole, tuple[str, ...]] = {
    FolderRole.SENT: (
        "Sent", "Sent Items", "Sent Messages", "Sent Mail", "Sent-Mail",
        "[Gmail]/Sent Mail", "[Google Mail]/Sent Mail",
        "Gesendet", "Gesendete Objekte", "Gesendete Elemente", "Gesendete Nachrichten",
        "Envoyés", "Éléments envoyés", "Messages envoyés", "Enviados", "Elementos enviados",
        "Posta inviata", "Inviati", "Verzonden", "Verzonden items", "Skickat", "Skickade objekt",
        "Sendt", "Sendte elementer", "Lähetetyt", "Wysłane", "Elemente trimise", "Отправленные",
    ),
    FolderRole.DRAFTS: (
        "Drafts", "Draft", "[Gmail]/Drafts", "[Google Mail]/Drafts",
        "Entwürfe", "Brouillons", "Borradores", "Bozze", "Concepten", "Utkast", "Kladder",
        "Luonnokset", "Kopie robocze", "Rascunhos", "Schiţe", "Черновики",
    ),
}

_SPECIAL_USE_FLAG = {FolderRole.SENT: b"\\SENT", FolderRole.DRAFTS: b"\\DRAFTS"}

_MAX_UID = 4294967295  # UIDs are 32-bit (RFC 3501 §2.3.1.1)
_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]", re.IGNORECASE)
_RESPONSE_CODE = re.compile(r"\[([A-Z-]+)")

#: Response codes (RFC 5530) that say "try again later" rather than "this cannot work".
_TRANSIENT_CODES = {"UNAVAILABLE", "INUSE", "SERVERBUG", "LIMIT", "EXPUNGEISSUED", "CORRUPTION"}
_MISSING_CODES = {"NONEXISTENT", "TRYCREATE"}


@dataclass(frozen=True, slots=True)
class ImapSettings:
    """How to reach and log in to one IMAP account.

    ``security``: ``tls`` (implicit TLS, port 993), ``starttls`` (port 143 upgraded before login)
    or ``plain`` (only to a server on this machine). Exactly one of ``password`` and
    ``oauth2_token`` (a ready XOAUTH2 access token) is used, or ``oauth2_token_provider``: called
    at every login, it returns a fresh access token (refreshing it when expired; it may raise
    AuthError or TransientError, and may have a ``forget()`` the login calls when the server
    refuses the token). ``folders`` maps a role
    (``"inbox"``, ``"sent"``, ``"drafts"``) to a folder name that overrides discovery.
    ``timeout`` (seconds) applies to connecting and to every read and write on the socket.
    """

    host: str
    port: int | None = None
    security: Security = "tls"
    username: str = ""
    password: str | None = field(default=None, repr=False)
    oauth2_token: str | None = field(default=None, repr=False)
    oauth2_token_provider: Callable[[], str] | None = field(default=None, repr=False, compare=False)
    timeout: float = 30.0
    folders: Mapping[str, str] = field(default_factory=dict)
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    @property
    def effective_port(self) -> int:
        return self.port or (993 if self.security == "tls" else 143)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1); no DNS lookup."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


ClientFactory = Callable[[ImapSettings], Any]


def default_client_factory(settings: ImapSettings) -> Any:
    """Open the TCP (and, for ``tls``, TLS) connection; returns an unauthenticated IMAPClient."""
    import imapclient  # imported here: the rest of the program never needs it

    context = settings.ssl_context
    if settings.security in ("tls", "starttls") and context is None:
        context = ssl.create_default_context()
    return imapclient.IMAPClient(
        settings.host,
        port=settings.effective_port,
        ssl=settings.security == "tls",
        ssl_context=context if settings.security == "tls" else None,
        timeout=settings.timeout,
    )


@dataclass(slots=True)
class _Selected:
    name: str
    uidvalidity: int | None


class ImapMailbox:
    """One IMAP account behind the :class:`followup.mailbox.base.Mailbox` interface.

    Refs are UIDs as strings. The constructor does no IO; :meth:`connect` logs in, and every
    other method connects on demand (so a call after a dropped connection reconnects).
    ``commands_issued`` counts the IMAP commands sent over the mailbox's lifetime (all
    connections), for measuring what a poll costs.

    *client_factory* takes the settings and returns a connected, not yet authenticated
    ``imapclient.IMAPClient`` (or a test double with the same methods).
    """

    def __init__(
        self,
        account: str,
        settings: ImapSettings,
        *,
        client_factory: ClientFactory | None = None,
    ) -> None:
        self.account = account
        self.settings = settings
        self._client_factory = client_factory or default_client_factory
        self._client: Any = None
        self._capabilities: frozenset[str] = frozenset()
        self._folders: dict[FolderRole, str] = {}
        self._folder_listing: list[tuple[tuple[bytes, ...], str, str]] | None = None
        self._selected: _Selected | None = None
        self._commands_before = 0  # commands sent on connections already closed

    # -- connection ----------------------------------------------------------------------

    @property
    def commands_issued(self) -> int:
        """IMAP commands sent so far (imaplib numbers each command's tag; summed over connections)."""
        return self._commands_before + self._tags_used(self._client)

    @staticmethod
    def _tags_used(client: Any) -> int:
        imap = getattr(client, "_imap", None)
        return int(getattr(imap, "tagnum", 0) or 0)

    @property
    def connected(self) -> bool:
        return self._client is not None

    @property
    def capabilities(self) -> frozenset[str]:
        """The capabilities the server announced after login (upper case); empty before."""
        return self._capabilities

    @property
    def has_gmail_extensions(self) -> bool:
        """True when the server offers X-GM-EXT-1 (known after :meth:`connect`)."""
        return "X-GM-EXT-1" in self._capabilities

    @property
    def has_condstore(self) -> bool:
        return "CONDSTORE" in self._capabilities

    def connect(self) -> None:
        """Connect, log in and learn capabilities; enable CONDSTORE when offered. Idempotent.

        Raises :class:`ConfigError` for ``plain`` to a non-loopback host or missing credentials
        (before any network IO), :class:`AuthError` when the server refuses the login,
        :class:`TransientError` when the server cannot be reached or drops the connection.
        """
        if self._client is not None:
            return
        settings = self.settings
        if settings.security not in ("tls", "starttls", "plain"):
            raise ConfigError(f"{self.account}: unknown IMAP security {settings.security!r}")
        if settings.security == "plain" and not is_loopback(settings.host):
            raise ConfigError(
                f"{self.account}: refusing to send a password in clear text to {settings.host}; "
                "security: plain is only allowed for 127.0.0.1, ::1 or localhost (use tls or starttls)"
            )
        if not settings.password and not settings.oauth2_token and settings.oauth2_token_provider is None:
            raise ConfigError(f"{self.account}: no IMAP password or OAuth2 token")
        where = f"{settings.host}:{settings.effective_port}"
        token = self._oauth2_token()  # may refresh it over HTTPS, before any IMAP connection
        with self._guard(f"connect to {where}"):
            client = self._client_factory(settings)
        _quiet_imaplib(client)
        self._client = client
        try:
            with self._guard(f"log in to {where}"):
                if settings.security == "starttls":
                    context = settings.ssl_context or ssl.create_default_context()
                    client.starttls(context)
                client.normalise_times = False  # keep INTERNALDATE timezone-aware
                if token is not None:
                    self._oauth2_login(client, token)
                else:
                    client.login(settings.username, settings.password)
                self._capabilities = frozenset(
                    c.decode("ascii", "replace").upper() if isinstance(c, bytes) else str(c).upper()
                    for c in client.capabilities()
                )
                if "CONDSTORE" in self._capabilities and "ENABLE" in self._capabilities:
                    client.enable("CONDSTORE")
        except BaseException:
            self._drop()
            raise
        self._selected = None
        log.debug("%s: logged in to %s (%s)", self.account, where, settings.security)

    def _oauth2_token(self) -> str | None:
        """The XOAUTH2 access token for this login: the provider's (fresh) or the fixed one; None: a password."""
        provider = self.settings.oauth2_token_provider
        if provider is not None:
            return provider()
        return self.settings.oauth2_token or None

    def _oauth2_login(self, client: Any, token: str) -> None:
        """AUTHENTICATE XOAUTH2; when refused, a refreshing provider is told to get a new token next time."""
        try:
            client.oauth2_login(self.settings.username, token)
        except imaplib.IMAP4.error as exc:
            forget = getattr(self.settings.oauth2_token_provider, "forget", None)
            if forget is None or isinstance(exc, imaplib.IMAP4.abort):
                raise
            mapped = self._map_imap_error("log in with OAuth2", exc)
            if not isinstance(mapped, AuthError):
                raise mapped from exc
            forget()
            raise AuthError(f"{mapped} (check the username; a revoked token, or one without the scope "
                            "https://mail.google.com/, is refused too: run "
                            f"`followup auth gmail --account {self.account}` again)") from exc

    def close(self) -> None:
        """Log out and close the connection. Never raises."""
        client = self._client
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - closing must not fail; the socket may be dead already
            try:
                client.shutdown()
            except Exception:  # noqa: BLE001
                pass
        finally:
            self._commands_before += self._tags_used(client)
            self._client = None
            self._selected = None

    def __enter__(self) -> ImapMailbox:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _drop(self) -> None:
        """Forget a connection that can no longer be trusted (no logout: it may hang)."""
        client, self._client = self._client, None
        self._selected = None
        self._folder_listing = None
        if client is None:
            return
        self._commands_before += self._tags_used(client)
        try:
            client.shutdown()
        except Exception:  # noqa: BLE001 - the socket is probably gone already
            pass

    def _live(self) -> Any:
        self.connect()
        client = self._client
        # imaplib keeps every unsolicited response until someone asks for it: on a long-lived
        # connection that grows without bound, and stale ones could be mistaken for fresh.
        untagged = getattr(getattr(client, "_imap", None), "untagged_responses", None)
        if isinstance(untagged, dict):
            untagged.clear()
        return client

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Map library, socket and TLS exceptions into :mod:`followup.errors` (``raise … from``)."""
        try:
            yield
        except (ConfigError, AuthError, TransientError, FolderNotFound, ProtocolError):
            raise
        except imaplib.IMAP4.abort as exc:  # includes BYE and "socket error: EOF"
            self._drop()
            raise TransientError(f"{self.account}: {action}: connection lost: {exc}") from exc
        except ssl.SSLCertVerificationError as exc:
            self._drop()
            raise ConfigError(
                f"{self.account}: {action}: the server's TLS certificate failed verification: "
                f"{exc.verify_message or exc}"
            ) from exc
        except (TimeoutError, socket.timeout) as exc:
            self._drop()
            raise TransientError(
                f"{self.account}: {action}: no answer within {self.settings.timeout:g} s"
            ) from exc
        except (OSError, EOFError) as exc:  # refused, reset, unreachable, TLS errors
            self._drop()
            raise TransientError(f"{self.account}: {action}: {exc}") from exc
        except imaplib.IMAP4.error as exc:  # NO / BAD, LoginError, CapabilityError, parse errors
            raise self._map_imap_error(action, exc) from exc
        except (ValueError, KeyError, IndexError, TypeError) as exc:  # an answer imapclient cannot parse
            self._drop()
            raise ProtocolError(f"{self.account}: {action}: unexpected server answer: {exc!r}") from exc

    def _map_imap_error(self, action: str, exc: imaplib.IMAP4.error) -> Exception:
        from imapclient.exceptions import LoginError

        text = str(exc)
        codes = set(_RESPONSE_CODE.findall(text.upper()))
        message = f"{self.account}: {action}: {text}"
        if codes & _TRANSIENT_CODES:
            return TransientError(message)
        if isinstance(exc, LoginError) or "AUTHENTICATIONFAILED" in codes or "AUTHORIZATIONFAILED" in codes:
            self._drop()
            if "EXPIRED" in codes:
                return AuthError(f"{message} (the password or token has expired)")
            return AuthError(message)
        if codes & _MISSING_CODES or "doesn't exist" in text.lower() or "not exist" in text.lower():
            return FolderNotFound(message)
        return ProtocolError(message)

    # -- folders -------------------------------------------------------------------------

    def folder_name(self, role: FolderRole) -> str:
        """Return the server's name of the folder with ``role`` (discovered once, then cached)."""
        role = FolderRole(role)
        name = self._folders.get(role)
        if name is not None:
            return name
        overrides = {str(FolderRole(k)): v for k, v in self.settings.folders.items()}
        if str(role) in overrides:
            name = overrides[str(role)]
        elif role is FolderRole.INBOX:
            name = "INBOX"
        else:
            name = self._discover(role)
        self._folders[role] = name
        return name

    def _forget_folder(self, role: FolderRole) -> None:
        self._folders.pop(role, None)
        self._folder_listing = None

    def _listing(self) -> list[tuple[tuple[bytes, ...], str, str]]:
        """One ``LIST "" "*"`` per connection: (upper-cased flags, name, name with "/" as
        separator) per folder. Discovering Sent and Drafts shares it."""
        if self._folder_listing is not None:
            return self._folder_listing
        client = self._live()
        with self._guard("LIST folders"):
            rows = client.list_folders()
        listing = []
        for flags, delimiter, name in rows:
            flags = tuple(f.upper() if isinstance(f, bytes) else str(f).upper().encode() for f in flags)
            if b"\\NOSELECT" in flags or b"\\NONEXISTENT" in flags:
                continue
            sep = delimiter.decode() if isinstance(delimiter, bytes) else (delimiter or "")
            name = str(name)
            normalised = name.replace(sep, "/") if sep and sep != "/" else name
            listing.append((flags, name, normalised))
        self._folder_listing = listing
        return listing

    def _discover(self, role: FolderRole) -> str:
        listing = self._listing()
        flag = _SPECIAL_USE_FLAG[role]
        for flags, name, _ in listing:
            if flag in flags:
                log.debug("%s: %s folder is %r (SPECIAL-USE %s)", self.account, role, name, flag.decode())
                return name
        by_name = {normalised.casefold(): name for _, name, normalised in listing}
        candidates = FALLBACK_NAMES[role]
        for candidate in candidates:
            for variant in (candidate, "INBOX/" + candidate):
                found = by_name.get(variant.casefold())
                if found is not None:
                    log.debug("%s: %s folder is %r (by name)", self.account, role, found)
                    return found
        tried = ", ".join(candidates)
        raise FolderNotFound(
            f"{self.account}: no {role} folder: no folder has the SPECIAL-USE flag "
            f"{flag.decode().title()} and none of these names exists (also tried under INBOX/ "
            f"and INBOX.): {tried}. Set folders.{role} in the config to the folder's name"
        )

    def _select(self, role: FolderRole, *, refresh: bool) -> Any:
        """Open the folder read-only (EXAMINE) unless it is open already.

        ``refresh``: when the folder is open already, send NOOP first, so a SEARCH sees mail that
        arrived from other sessions meanwhile (a FETCH by UID of known messages needs no NOOP).
        """
        name = self.folder_name(role)
        client = self._live()
        selected = self._selected
        if selected is not None and selected.name == name:
            if not refresh:
                return client
            with self._guard(f"NOOP in {name}"):
                _, responses = client.noop()
            # A folder deleted or recreated under us shows up as an untagged NO (Dovecot) or a
            # new UIDVALIDITY; a fresh EXAMINE then sorts it out.
            if not any(_is_trouble(r) for r in responses):
                return client
            self._selected = None
        try:
            with self._guard(f"EXAMINE {name}"):
                info = client.select_folder(name, readonly=True)
        except FolderNotFound:
            self._forget_folder(role)  # look it up again next time: it may have been renamed
            raise
        self._selected = _Selected(name, _int_or_none(info.get(b"UIDVALIDITY")))
        return client

    # -- the Mailbox interface -----------------------------------------------------------

    def folder_state(self, role: FolderRole) -> FolderState:
        """Return UIDVALIDITY, UIDNEXT, MESSAGES (and HIGHESTMODSEQ with CONDSTORE) via one STATUS."""
        name = self.folder_name(role)
        client = self._live()
        if self._selected is not None and self._selected.name == name:
            # STATUS of the selected folder reports the session's view, not the folder's
            # (Dovecot: mail delivered meanwhile and a recreated folder stay invisible):
            # close the read-only view first. CLOSE after EXAMINE expunges nothing.
            with self._guard(f"UNSELECT {name}"):
                if "UNSELECT" in self._capabilities:
                    client.unselect_folder()
                else:
                    client.close_folder()
            self._selected = None
        items = ["MESSAGES", "UIDNEXT", "UIDVALIDITY"]
        if self.has_condstore:
            items.append("HIGHESTMODSEQ")
        try:
            with self._guard(f"STATUS {name}"):
                status = client.folder_status(name, items)
        except FolderNotFound:
            self._forget_folder(role)
            raise
        try:
            validity = int(status[b"UIDVALIDITY"])
            state = FolderState(
                validity=validity,
                next_ref=_int_or_none(status.get(b"UIDNEXT")),
                messages=int(status.get(b"MESSAGES", 0)),
                modseq=_int_or_none(status.get(b"HIGHESTMODSEQ")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolError(f"{self.account}: STATUS {name}: unusable answer {status!r}") from exc
        return state

    def list_refs(
        self, role: FolderRole, *, after: int | None = None, since: date | None = None
    ) -> list[str]:
        """Return UIDs (as strings, ascending) with UID > ``after`` and/or received since ``since``."""
        if after is not None and int(after) >= _MAX_UID:
            return []
        client = self._select(role, refresh=True)
        criteria: list[Any] = []
        if after is not None:
            criteria += ["UID", f"{int(after) + 1}:*"]
        if since is not None:
            criteria += ["SINCE", since]
        if not criteria:
            criteria = ["ALL"]
        with self._guard(f"UID SEARCH in {self.folder_name(role)}"):
            uids = client.search(criteria)
        floor = int(after) if after is not None else 0
        # "n:*" also matches the highest UID when it is below n (RFC 3501 §6.4.8).
        return [str(uid) for uid in sorted(int(u) for u in uids) if uid > floor]

    def fetch_headers(self, role: FolderRole, refs: Sequence[str]) -> list[HeaderRecord]:
        """Fetch the sync header fields, size, flags and INTERNALDATE of ``refs`` (never sets \\Seen).

        One ``UID FETCH`` per :data:`HEADER_CHUNK` UIDs; X-GM-MSGID and X-GM-THRID are added when
        the server offers X-GM-EXT-1. Refs that no longer exist are left out.
        """
        uids = _uids(refs)
        if not uids:
            return []
        client = self._select(role, refresh=False)
        fields = " ".join(SYNC_HEADER_FIELDS)
        items = [f"BODY.PEEK[HEADER.FIELDS ({fields})]", "RFC822.SIZE", "FLAGS", "INTERNALDATE"]
        if self.has_gmail_extensions:
            items += ["X-GM-MSGID", "X-GM-THRID"]
        records: list[HeaderRecord] = []
        for chunk in _chunks(uids, HEADER_CHUNK):
            with self._guard(f"UID FETCH headers in {self.folder_name(role)}"):
                response = self._uid_fetch(client, chunk, items)
            for uid in chunk:
                data = response.get(uid)
                if data is None:
                    continue
                records.append(self._header_record(uid, data))
        return records

    @staticmethod
    def _uid_fetch(client: Any, uids: Sequence[int], items: Sequence[str]) -> Mapping[int, Mapping[bytes, Any]]:
        """``UID FETCH uids (items)``: ``{uid: {ITEM: value}}`` as imapclient's ``fetch`` returns
        it (answers for other UIDs left out; a NO raises ``imaplib.IMAP4.error`` for
        :meth:`_guard`). The answer is read by the lean parser of :mod:`fetch_response` (a
        third of imapclient's cost on a cold sync's header blocks), by imapclient's own parser
        when the lean one refuses its shape. Clients that are not imapclient over imaplib
        (test doubles) are asked through ``fetch``."""
        imap = getattr(client, "_imap", None)
        if not isinstance(imap, imaplib.IMAP4):
            return client.fetch(list(uids), list(items))
        typ, data = imap.uid("FETCH", _uid_set(uids).decode("ascii"), "(" + " ".join(items) + ")")
        if typ != "OK":
            detail = data[0] if data else b""
            raise imaplib.IMAP4.error(
                f"UID FETCH failed: {detail.decode('utf-8', 'replace') if isinstance(detail, bytes) else detail}")
        parsed: Mapping[int, Mapping[bytes, Any]] | None = parse_fetch_lean(data)
        if parsed is None:
            from imapclient.response_parser import parse_fetch_response

            parsed = parse_fetch_response(data, normalise_times=False, uid_is_key=True)
        wanted = set(uids)
        return {uid: fields for uid, fields in parsed.items() if uid in wanted}

    def _header_record(self, uid: int, data: Mapping[bytes, Any]) -> HeaderRecord:
        headers = b""
        for key, value in data.items():
            if key.upper().startswith(b"BODY[HEADER"):
                headers = bytes(value or b"")
                break
        flags = frozenset(
            (f.decode("utf-8", "replace") if isinstance(f, bytes) else str(f))
            for f in data.get(b"FLAGS", ())
        ) - {"\\Recent"}
        received = data.get(b"INTERNALDATE")
        if isinstance(received, datetime):
            received = received.astimezone(timezone.utc) if received.tzinfo else received.replace(tzinfo=timezone.utc)
        else:
            received = None
        msgid = data.get(b"X-GM-MSGID")
        thrid = data.get(b"X-GM-THRID")
        return HeaderRecord(
            ref=str(uid),
            raw_headers=headers,
            size=int(data.get(b"RFC822.SIZE", 0) or 0),
            flags=flags,
            received_at=received,
            gm_msgid=str(msgid) if msgid is not None else None,
            gm_thrid=str(thrid) if thrid is not None else None,
        )

    def fetch_raw(self, role: FolderRole, refs: Sequence[str], *, limit: int | None = None) -> dict[str, bytes]:
        """Fetch messages with ``BODY.PEEK[]`` (never sets \\Seen), only their first ``limit``
        bytes when given (``BODY.PEEK[]<0.limit>``, RFC 3501 partial fetch); vanished refs are left out."""
        uids = _uids(refs)
        if not uids:
            return {}
        client = self._select(role, refresh=False)
        out: dict[str, bytes] = {}
        size = max(RAW_CHUNK, min(HEADER_CHUNK, PARTIAL_FETCH_BYTES // limit)) if limit else RAW_CHUNK
        for chunk in _chunks(uids, size):
            with self._guard(f"UID FETCH bodies in {self.folder_name(role)}"):
                response = self._uid_fetch(client, chunk, [f"BODY.PEEK[]<0.{limit}>" if limit else "BODY.PEEK[]"])
            for uid in chunk:
                data = response.get(uid)
                if data is None:
                    continue
                body = data.get(b"BODY[]") if not limit else data.get(b"BODY[]<0>", data.get(b"BODY[]"))
                if body is None:
                    raise ProtocolError(f"{self.account}: UID {uid}: FETCH answer without BODY[]")
                out[str(uid)] = bytes(body)
        return out

    def search_text(self, role: FolderRole, refs: Sequence[str], query: str, *,
                    since: datetime | None = None) -> set[str] | None:
        """Given refs and a Gmail search query, return the refs among them that the server's
        own index matches (``UID SEARCH X-GM-RAW``), or None on servers without X-GM-EXT-1
        (a plain IMAP ``SEARCH BODY`` reads every message on servers without a full-text
        index: 2 s per word over 15,000 messages on Dovecot, slower than fetching the first
        bytes ourselves). ``since`` is ignored: the UID set already bounds the search."""
        if not self.has_gmail_extensions:
            return None
        uids = _uids(refs)
        if not uids:
            return set()
        client = self._select(role, refresh=False)
        found: set[str] = set()
        for chunk in _chunks(uids, HEADER_CHUNK):
            with self._guard(f"UID SEARCH X-GM-RAW in {self.folder_name(role)}"):
                hits = client.search([b"X-GM-RAW", query, b"UID", _uid_set(chunk)], charset="UTF-8")
            found.update(str(uid) for uid in hits)
        return found

    def tags_of(self, role: FolderRole, refs: Sequence[str]) -> dict[str, frozenset[str]]:
        """The keywords of each ref (lower-cased; system flags such as ``\\Seen`` left out), and on
        Gmail (X-GM-EXT-1) its labels too: Gmail shows user labels in ``X-GM-LABELS``, not in
        FLAGS. One ``UID FETCH (FLAGS)`` per :data:`HEADER_CHUNK` UIDs, after a NOOP (or a fresh
        EXAMINE) so flags other sessions changed are seen; vanished refs are left out."""
        from imapclient.imap_utf7 import decode as decode_utf7

        uids = _uids(refs)
        if not uids:
            return {}
        client = self._select(role, refresh=True)
        items = ["FLAGS", "X-GM-LABELS"] if self.has_gmail_extensions else ["FLAGS"]
        tags: dict[str, frozenset[str]] = {}
        for chunk in _chunks(uids, HEADER_CHUNK):
            with self._guard(f"UID FETCH FLAGS in {self.folder_name(role)}"):
                response = client.fetch(chunk, items)
            for uid in chunk:
                data = response.get(uid)
                if data is None:
                    continue
                names = [f.decode("utf-8", "replace") if isinstance(f, bytes) else str(f)
                         for f in data.get(b"FLAGS", ())]
                names += [decode_utf7(label if isinstance(label, bytes | str) else str(label))
                          for label in data.get(b"X-GM-LABELS", ()) or ()]
                tags[str(uid)] = frozenset(n.lower() for n in names if n and not n.startswith("\\"))
        return tags

    def append(self, role: FolderRole, raw: bytes, *, flags: Iterable[str], when: datetime) -> str | None:
        """APPEND ``raw`` with ``flags`` and INTERNALDATE ``when``; return the UID (APPENDUID) or None."""
        name = self.folder_name(role)
        client = self._live()
        try:
            with self._guard(f"APPEND to {name}"):
                response = client.append(name, raw, flags=tuple(flags), msg_time=when)
        except FolderNotFound:
            self._forget_folder(role)
            raise
        match = _APPENDUID.search(response if isinstance(response, bytes) else str(response).encode())
        if match is None:
            return None
        if self._selected is not None and self._selected.name == name:
            if self._selected.uidvalidity not in (None, int(match.group(1))):
                self._selected = None
        return match.group(2).decode("ascii")

    def find_by_header(self, role: FolderRole, name: str, value: str) -> list[str]:
        """``UID SEARCH HEADER name value`` in the folder; UIDs as strings, ascending.

        Gmail answers IMAP SEARCH from its search index, which does not index every header and
        lags behind an APPEND by seconds or more: on a Gmail server (X-GM-EXT-1) an empty answer
        in Drafts (a small folder) is checked by reading that header of every draft.
        """
        client = self._select(role, refresh=True)
        charset = None if value.isascii() and name.isascii() else "UTF-8"
        with self._guard(f"UID SEARCH HEADER {name} in {self.folder_name(role)}"):
            uids = client.search(["HEADER", name, value], charset=charset)
        found = [str(uid) for uid in sorted(int(u) for u in uids)]
        if not found and self.has_gmail_extensions and FolderRole(role) is FolderRole.DRAFTS:
            found = self._find_by_reading_headers(role, name, value)
        return found

    def _find_by_reading_headers(self, role: FolderRole, name: str, value: str) -> list[str]:
        client = self._select(role, refresh=False)
        with self._guard(f"UID SEARCH ALL in {self.folder_name(role)}"):
            uids = sorted(int(u) for u in client.search(["ALL"]))
        wanted, needle = name.lower().encode() + b":", value.lower().encode("utf-8", "replace")
        found = []
        for chunk in _chunks(uids, HEADER_CHUNK):
            with self._guard(f"UID FETCH {name} in {self.folder_name(role)}"):
                response = client.fetch(chunk, [f"BODY.PEEK[HEADER.FIELDS ({name})]"])
            for uid in chunk:
                headers = next((bytes(v or b"") for k, v in (response.get(uid) or {}).items()
                                if k.upper().startswith(b"BODY[HEADER")), b"")
                unfolded = headers.replace(b"\r\n ", b" ").replace(b"\r\n\t", b" ").lower()
                if any(line.startswith(wanted) and needle in line for line in unfolded.split(b"\r\n")):
                    found.append(str(uid))
        return found

    # -- IDLE (RFC 2177), for the daemon's push wake-ups -----------------------------------

    @property
    def supports_idle(self) -> bool:
        """True when the server offers IDLE (known after :meth:`connect`)."""
        return "IDLE" in self._capabilities

    def idle_wait(self, timeout: float, *, role: FolderRole = FolderRole.INBOX,
                  should_stop: Callable[[], bool] | None = None, tick: float = 2.0) -> bool:
        """Open the folder read-only, IDLE until something changes in it or ``timeout`` seconds pass,
        then end the IDLE (``DONE``). Return True when the server reported new mail (``EXISTS``);
        flag changes (``FETCH``) and expunges say nothing the daemon needs to react to.

        Use a dedicated mailbox object: no other command may run on the connection meanwhile.
        ``should_stop`` is asked every ``tick`` seconds, so a stopping daemon is never held up
        longer than that. Callers re-IDLE at most every 9 minutes (servers drop idle
        connections after 10-30; RFC 2177 asks for at most 29). Raises TransientError when the
        connection drops (``BYE``, EOF), like every other method.
        """
        import time

        client = self._select(role, refresh=False)
        name = self.folder_name(role)
        with self._guard(f"IDLE in {name}"):
            client.idle()
        changed = False
        quiet_returns = 0
        deadline = time.monotonic() + timeout
        try:
            while not changed:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (should_stop is not None and should_stop()):
                    break
                wait = min(tick, remaining)
                started = time.monotonic()
                with self._guard(f"IDLE in {name}"):
                    responses = client.idle_check(timeout=wait)
                changed = _idle_activity(responses, self.account, name)
                if not responses and time.monotonic() - started < wait / 2:
                    # imapclient returns an empty list at once when the socket is readable but
                    # at EOF: a dead connection would otherwise spin here.
                    quiet_returns += 1
                    if quiet_returns >= 3:
                        raise TransientError(f"{self.account}: IDLE in {name}: connection lost")
                else:
                    quiet_returns = 0
            with self._guard(f"DONE (end IDLE) in {name}"):
                _, responses = client.idle_done()
            return _idle_activity(responses, self.account, name) or changed
        except BaseException:
            self._drop()  # mid-IDLE or closing: nothing else can run on this connection
            raise


def _idle_activity(responses: Any, account: str, folder: str) -> bool:
    """True when IDLE responses report new mail in the folder; raises TransientError on BYE."""
    changed = False
    for response in responses or ():
        if not isinstance(response, tuple) or not response:
            continue
        if isinstance(response[0], bytes) and response[0].upper() == b"BYE":
            raise TransientError(f"{account}: IDLE in {folder}: the server said BYE")
        if len(response) > 1 and isinstance(response[1], bytes) and \
                response[1].upper() == b"EXISTS":
            changed = True
    return changed


def _is_trouble(response: Any) -> bool:
    """True for untagged responses after NOOP that mean the open folder is no longer usable."""
    if isinstance(response, tuple) and response and isinstance(response[0], bytes):
        head = response[0].upper()
        if head in (b"NO", b"BAD", b"BYE"):
            return True
        if head == b"OK" and len(response) > 1 and b"UIDVALIDITY" in bytes(response[1]).upper():
            return True
    return False


def _int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _uids(refs: Sequence[str]) -> list[int]:
    out = []
    for ref in refs:
        try:
            uid = int(ref)
        except (TypeError, ValueError):
            raise ValueError(f"not an IMAP UID: {ref!r}") from None
        if uid <= 0:
            raise ValueError(f"not an IMAP UID: {ref!r}")
        out.append(uid)
    return out


def _chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def _quiet_imaplib(client: Any) -> None:
    """imapclient sets imaplib's debug level to 5 and hands its messages to the
    ``imapclient.imaplib`` logger; at that level imaplib formats the repr of every response
    (literals and all) and, after each command, of the whole list of them, before the logger
    drops the text: ~0.5 s of a cold sync's CPU. Set back to 0 unless that logger would print."""
    imap = getattr(client, "_imap", None)
    if isinstance(imap, imaplib.IMAP4) and not logging.getLogger("imapclient.imaplib").isEnabledFor(logging.DEBUG):
        imap.debug = 0


def _uid_set(uids: Sequence[int]) -> bytes:
    """A compact IMAP sequence set ("1:5,9,12:14") for sorted ``uids`` (RFC 3501 section 9)."""
    runs: list[str] = []
    start = prev = None
    for uid in sorted(set(uids)):
        if prev is not None and uid == prev + 1:
            prev = uid
            continue
        if start is not None:
            runs.append(f"{start}:{prev}" if start != prev else str(start))
        start = prev = uid
    if start is not None:
        runs.append(f"{start}:{prev}" if start != prev else str(start))
    return ",".join(runs).encode("ascii")
