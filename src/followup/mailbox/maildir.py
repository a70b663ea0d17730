"""A local Maildir (Maildir++ layout) as a mailbox: INBOX is the root, Sent and Drafts are
``.Sent`` and ``.Drafts`` (configurable).

Refs are Maildir keys (the file name before ``:2,``). Maildir has no UIDVALIDITY or UIDNEXT:
the folder directory's inode stands in for the validity (a deleted and recreated folder gets a
new one) and the newest mtime of ``cur/`` and ``new/`` for the change stamp, so an unchanged
folder costs two ``stat`` calls. ``since`` filters on the file's mtime (its delivery time).
``tags_of`` reads Dovecot's Maildir keywords (lower-case letters after ``:2,``, named in the
folder's ``dovecot-keywords``).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from followup.core.model import FolderRole
from followup.errors import FolderNotFound, TransientError
from followup.mailbox.base import FolderState, HeaderRecord

#: Maildir info letters (after ``:2,``) and the IMAP flags they stand for.
_FLAG_LETTERS = {"D": "\\Draft", "F": "\\Flagged", "R": "\\Answered", "S": "\\Seen", "T": "\\Deleted"}
_HEADER_LIMIT = 256 * 1024
#: Dovecot's list of a Maildir folder's keywords ("0 name" per line; the index is a letter a-z).
KEYWORDS_FILE = "dovecot-keywords"


class MaildirMailbox:
    """One Maildir account. Constructing it touches nothing on disk."""

    def __init__(self, account: str, root: Path | str, *, sent_folder: str = ".Sent",
                 drafts_folder: str = ".Drafts") -> None:
        self.account = account
        self.root = Path(os.path.expanduser(str(root)))
        self._folders = {FolderRole.INBOX: self.root, FolderRole.SENT: self.root / sent_folder,
                         FolderRole.DRAFTS: self.root / drafts_folder}
        self._counter = 0

    # -- lifecycle -------------------------------------------------------------------------

    def connect(self) -> None:
        if not (self.root / "cur").is_dir() and not (self.root / "new").is_dir():
            raise FolderNotFound(f"{self.root} is not a Maildir (no cur/ or new/ inside)")

    def close(self) -> None:
        return None

    @property
    def has_gmail_extensions(self) -> bool:
        return False

    # -- reading ---------------------------------------------------------------------------

    def folder_path(self, role: FolderRole) -> Path:
        return self._folders[role]

    def folder_state(self, role: FolderRole) -> FolderState:
        folder = self._folders[role]
        try:
            validity = folder.stat().st_ino or 1
        except FileNotFoundError:
            if role is FolderRole.INBOX:
                raise FolderNotFound(f"{folder} does not exist") from None
            return FolderState(validity=0, next_ref=None, messages=0, modseq=0)  # 0: no folder yet
        except OSError as exc:
            raise TransientError(f"cannot read {folder}: {exc.strerror}") from exc
        stamps = []
        for sub in ("cur", "new"):
            try:
                stamps.append((folder / sub).stat().st_mtime_ns)
            except FileNotFoundError:
                stamps.append(0)
        return FolderState(validity=validity, next_ref=None, messages=len(self._files(role)),
                           modseq=max(stamps))

    def list_refs(self, role: FolderRole, *, after: int | None = None, since: date | None = None) -> list[str]:
        files = self._files(role)
        entries = []
        for key, path in files.items():
            try:
                mtime = path.stat().st_mtime
            except FileNotFoundError:
                continue  # moved between listing and stat: it will show up under its new name
            if since is not None and datetime.fromtimestamp(mtime, UTC).date() < since:
                continue
            entries.append((mtime, key))
        return [key for _, key in sorted(entries)]

    def fetch_headers(self, role: FolderRole, refs: Sequence[str]) -> list[HeaderRecord]:
        files = self._files(role)
        records = []
        for ref in refs:
            path = files.get(ref)
            if path is None:
                continue
            try:
                with path.open("rb") as handle:
                    head = handle.read(_HEADER_LIMIT)
                info = path.stat()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise TransientError(f"cannot read {path}: {exc.strerror}") from exc
            end = _header_end(head)
            records.append(HeaderRecord(
                ref=ref, raw_headers=head[:end], size=info.st_size, flags=_flags_of(path.name),
                received_at=datetime.fromtimestamp(info.st_mtime, UTC)))
        return records

    def fetch_raw(self, role: FolderRole, refs: Sequence[str], *, limit: int | None = None) -> dict[str, bytes]:
        files = self._files(role)
        out = {}
        for ref in refs:
            path = files.get(ref)
            if path is None:
                continue
            try:
                with path.open("rb") as handle:
                    out[ref] = handle.read(limit if limit else -1)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise TransientError(f"cannot read {path}: {exc.strerror}") from exc
        return out

    def find_by_header(self, role: FolderRole, name: str, value: str) -> list[str]:
        wanted = name.lower().encode() + b":"
        needle = value.encode("utf-8", "replace").lower()
        found = []
        for record in self.fetch_headers(role, list(self._files(role))):
            for line in _unfold(record.raw_headers):
                if line.lower().startswith(wanted) and needle in line.lower():
                    found.append(record.ref)
                    break
        return found

    def tags_of(self, role: FolderRole, refs: Sequence[str]) -> dict[str, frozenset[str]]:
        """The Dovecot keywords of each ref, lower-cased: the lower-case letters of the file
        name's info part (``:2,Sab``) index the lines of the folder's ``dovecot-keywords``
        ("0 name" is ``a``, "1 name" is ``b`` …). Without that file, no keywords; vanished refs
        are left out."""
        folder = self._folders[role]
        try:
            text = (folder / KEYWORDS_FILE).read_text("utf-8", "replace")
        except FileNotFoundError:
            text = ""
        except OSError as exc:
            raise TransientError(f"cannot read {folder / KEYWORDS_FILE}: {exc.strerror}") from exc
        names = _keyword_names(text)
        files = self._files(role)
        tags = {}
        for ref in refs:
            path = files.get(ref)
            if path is None:
                continue
            _, _, info = path.name.partition(":2,")
            tags[ref] = frozenset(names[c] for c in info if c in names)
        return tags

    # -- writing ---------------------------------------------------------------------------

    def append(self, role: FolderRole, raw: bytes, *, flags: Iterable[str], when: datetime) -> str | None:
        """Deliver ``raw`` into ``cur/`` of the folder (created when missing) as Maildir says:
        write into ``tmp/``, fsync, then rename, so a crash never leaves half a message."""
        folder = self._folders[role]
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        if folder != self.root:
            (folder / "maildirfolder").touch(exist_ok=True)
        self._counter += 1
        key = f"{int(when.timestamp())}.M{time.time_ns() % 10**9}P{os.getpid()}Q{self._counter}.{socket.gethostname()}"
        letters = "".join(sorted(l for l, f in _FLAG_LETTERS.items() if f in set(flags)))
        tmp = folder / "tmp" / key
        final = folder / "cur" / f"{key}:2,{letters}"
        try:
            with tmp.open("wb") as handle:
                handle.write(raw)
                handle.flush()
                os.fsync(handle.fileno())
            os.utime(tmp, (when.timestamp(), when.timestamp()))
            os.rename(tmp, final)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise TransientError(f"cannot write to {folder}: {exc.strerror}") from exc
        return key

    # -- helpers ---------------------------------------------------------------------------

    def _files(self, role: FolderRole) -> dict[str, Path]:
        folder = self._folders[role]
        files: dict[str, Path] = {}
        for sub in ("new", "cur"):
            try:
                names = os.listdir(folder / sub)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise TransientError(f"cannot list {folder / sub}: {exc.strerror}") from exc
            for name in names:
                if name.startswith("."):
                    continue
                files[name.split(":", 1)[0]] = folder / sub / name
        return files


def _flags_of(name: str) -> frozenset[str]:
    _, _, info = name.partition(":2,")
    return frozenset(_FLAG_LETTERS[c] for c in info if c in _FLAG_LETTERS)


def _keyword_names(text: str) -> dict[str, str]:
    """Dovecot's ``dovecot-keywords`` as letter -> lower-cased keyword (indexes 0-25: a-z)."""
    names = {}
    for line in text.splitlines():
        index, _, name = line.strip().partition(" ")
        if index.isdigit() and int(index) < 26 and name.strip():
            names[chr(ord("a") + int(index))] = name.strip().lower()
    return names


def dovecot_keeps_keywords(root: Path | str) -> bool:
    """True when Dovecot serves the Maildir at ``root`` (its ``dovecot-uidlist`` or
    ``dovecot-keywords`` is there): only then can a mail client tag its messages."""
    base = Path(os.path.expanduser(str(root)))
    return (base / KEYWORDS_FILE).is_file() or (base / "dovecot-uidlist").is_file()


def _header_end(head: bytes) -> int:
    for sep in (b"\r\n\r\n", b"\n\n"):
        index = head.find(sep)
        if index >= 0:
            return index + len(sep)
    return len(head)


def _unfold(raw_headers: bytes) -> list[bytes]:
    lines: list[bytes] = []
    for line in raw_headers.splitlines():
        if line[:1] in (b" ", b"\t") and lines:
            lines[-1] += b" " + line.strip()
        else:
            lines.append(line.rstrip())
    return lines
