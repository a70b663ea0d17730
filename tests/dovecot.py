"""pytest plugin: throwaway Dovecot IMAP servers on 127.0.0.1 for the real-server tests.

Register it with ``pytest_plugins = ["dovecot"]`` in ``tests/conftest.py``. Fixtures:

``dovecot_server`` (session)
    One Dovecot whose personal namespace flags Drafts, Sent, Trash and Junk with SPECIAL-USE
    (RFC 6154), auto-subscribed. Tests share the process but not the mail: each takes its own
    user with ``server.new_user()`` -> ``(username, password)``. Never kill this one.
``dovecot_user`` (function)
    A fresh ``(username, password)`` on ``dovecot_server``.
``dovecot_factory`` (session)
    ``dovecot_factory(name, mailboxes={...}, tls=False)`` starts a server of its own the first
    time a name is asked for: other special folders (a French ``Brouillons`` flagged
    ``\\Drafts``, none at all), a self-signed certificate (``tls=True``: implicit TLS on
    ``tls_port``, STARTTLS on ``port``, the certificate at ``cert_path``), or just one a test
    may :meth:`~DovecotServer.kill` (``dovecot_factory("killable")``).

A server offers ``host``, ``port``, ``users``, ``maildir(user)``, ``client(user)`` (a logged-in
imapclient), ``append_messages(user, folder, [bytes], flags=..., when=...)`` (MULTIAPPEND, returns
the UIDs), ``recreate_folder(user, folder)`` (a new UIDVALIDITY), ``kill()`` (SIGKILL to the
whole server: connections drop) and ``restart()`` (same port).

Everything an instance needs lives in one temp dir under ``/dev/shm`` (tmpfs; ``/tmp`` as
fallback) that the unprivileged server user can reach, as ``../shared/notes/imap-test-server.md``
describes. As root (CI) the master runs as ``nobody:nogroup``: Dovecot refuses to run its login
and mail processes as root. Users need no file: a static passdb gives every name the password
``<per-server prefix><name>`` (a passwd-file is re-read at most once a second). The auth-penalty
socket is disabled, or a wrong-password test would delay every later login from 127.0.0.1 by
seconds; a failed login still takes 0.5 s (Dovecot's fixed failure delay). Servers stop with
SIGTERM at the end of the session and die with pytest if it is killed.

Without Dovecot the tests are skipped, or failed when ``CI=true``. ``$FOLLOWUP_DOVECOT`` names
another ``dovecot`` binary. A test that uses these fixtures is marked ``dovecot`` automatically,
so ``pytest -m "not dovecot"`` leaves them out.
"""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import pytest

DOVECOT_SEARCH_PATH = os.pathsep.join(
    [os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/local/sbin"]
)

#: The special folders of the default server: name -> SPECIAL-USE flag.
DEFAULT_MAILBOXES: dict[str, str | None] = {
    "Drafts": "\\Drafts",
    "Sent": "\\Sent",
    "Trash": "\\Trash",
    "Junk": "\\Junk",
}

FIXTURE_NAMES = ("dovecot_server", "dovecot_factory")


def find_dovecot() -> str | None:
    """Return the path of the ``dovecot`` binary, or None when it is not installed.

    ``$FOLLOWUP_DOVECOT`` names another binary (a path that does not exist acts as "not installed").
    """
    override = os.environ.get("FOLLOWUP_DOVECOT")
    if override is not None:
        return override if os.access(override, os.X_OK) else None
    return shutil.which("dovecot", path=DOVECOT_SEARCH_PATH)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _instance_parent() -> str:
    """A world-traversable place for instance dirs (tmpfs when there is one)."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK):
        return str(shm)
    return tempfile.gettempdir()


def _load_prctl():  # -> callable | None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl() if sys.platform.startswith("linux") else None


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when pytest dies, so no server outlives a killed run."""
    if _PRCTL is not None:
        _PRCTL(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG


def _conf_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class DovecotServer:
    """One Dovecot instance: ``host``, ``port``, users made on demand and a few helpers.

    The server is started by :meth:`start` and stopped by :meth:`stop`; :meth:`kill` and
    :meth:`restart` exist for tests of a server that dies under a client.
    """

    host = "127.0.0.1"

    def __init__(self, binary: str, *, name: str = "default",
                 mailboxes: Mapping[str, str | None] | None = None, tls: bool = False) -> None:
        self.binary = binary
        self.name = name
        self.mailboxes = dict(DEFAULT_MAILBOXES if mailboxes is None else mailboxes)
        self.tls = tls
        self.root = Path(tempfile.mkdtemp(prefix=f"followup-dovecot-{name}-", dir=_instance_parent()))
        os.chmod(self.root, 0o755)
        self.port = _free_port()
        #: implicit-TLS port (``tls=True`` only; ``port`` then offers STARTTLS)
        self.tls_port = _free_port() if tls else 0
        #: the self-signed certificate (PEM) to trust, for ``tls=True``
        self.cert_path = self.root / "cert.pem"
        self.users: dict[str, str] = {}
        self._users_lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._reapers: list[threading.Thread] = []
        if os.geteuid() == 0:
            self.uid = pwd.getpwnam("nobody").pw_uid
            self.gid = grp.getgrnam("nogroup").gr_gid
            self.run_user = "nobody"
            self.run_group = "nogroup"
        else:
            self.uid = os.getuid()
            self.gid = os.getgid()
            self.run_user = pwd.getpwuid(self.uid).pw_name
            self.run_group = grp.getgrgid(self.gid).gr_name
        for sub in ("base", "state", "mail", "home"):
            (self.root / sub).mkdir()
        if tls:
            self._make_certificate()
        # Users need no file: the static passdb accepts any name with its own password (a
        # passwd-file is re-read at most once a second, too slow for a user per test).
        self._password_prefix = "pw-" + secrets.token_hex(4) + "-"
        (self.root / "dovecot.conf").write_text(self._config())
        self._chown_tree(self.root)

    # -- configuration -----------------------------------------------------------------

    def _config(self) -> str:
        root = self.root
        mailbox_sections = []
        for mailbox, flag in self.mailboxes.items():
            special = f"    special_use = {flag}\n" if flag else ""
            mailbox_sections.append(
                f"  mailbox {_conf_string(mailbox)} {{\n{special}    auto = subscribe\n  }}\n"
            )
        return f"""# throwaway test instance, generated by tests/dovecot.py
instance_name = followup-test-{root.name}
base_dir = {root}/base
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{self._ssl_settings()}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {self.run_user}
default_internal_group = {self.run_group}
default_login_user = {self.run_user}
first_valid_uid = {self.uid}
first_valid_gid = {self.gid}
mail_location = maildir:{root}/mail/%u
mail_fsync = never
mail_max_userip_connections = 200
auth_failure_delay = 0
passdb {{
  driver = static
  args = password={self._password_prefix}%u
}}
userdb {{
  driver = static
  args = uid={self.uid} gid={self.gid} home={root}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
{''.join(mailbox_sections)}}}
service imap-login {{
  chroot =
  service_count = 0
  process_min_avail = 1
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
  }}
}}
service anvil {{
  chroot =
  # No socket for auth penalties: after a failed login Dovecot would delay the next login
  # from 127.0.0.1 by seconds (the wrong-password tests share the server with all others).
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""

    def _ssl_settings(self) -> str:
        if not self.tls:
            return "ssl = no"
        return (f"ssl = yes\nssl_cert = <{self.cert_path}\nssl_key = <{self.root / 'key.pem'}\n"
                "ssl_min_protocol = TLSv1.2")

    def _make_certificate(self) -> None:
        openssl = shutil.which("openssl")
        if openssl is None:
            raise RuntimeError("openssl is needed to make a test certificate")
        subprocess.run(  # noqa: S603 - fixed argv
            [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-days", "2", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", str(self.root / "key.pem"), "-out", str(self.cert_path)],
            check=True, capture_output=True,
        )

    def _chown_tree(self, path: Path) -> None:
        if os.geteuid() != 0:
            return
        os.chown(path, self.uid, self.gid)
        for dirpath, dirnames, filenames in os.walk(path):
            for entry in dirnames + filenames:
                os.lchown(os.path.join(dirpath, entry), self.uid, self.gid)

    # -- process -----------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> None:
        """Start the master and wait until the port greets with ``* OK``."""
        kwargs: dict[str, object] = {"preexec_fn": _die_with_parent}
        if os.geteuid() == 0:
            kwargs.update(user=self.uid, group=self.gid, extra_groups=[])
        with open(self.root / "stderr.log", "ab") as err:
            self._proc = subprocess.Popen(  # noqa: S603 - fixed argv
                [self.binary, "-F", "-c", str(self.root / "dovecot.conf")],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,
                **kwargs,  # type: ignore[arg-type]
            )
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(f"dovecot exited with {self._proc.returncode}: {self.log_tail()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1.0) as sock:
                    if sock.recv(64).startswith(b"* OK"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"dovecot did not greet on port {self.port}: {self.log_tail()}")
            time.sleep(0.01)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def kill(self) -> None:
        """Kill the whole server at once (SIGKILL to its process group): connections drop."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        self._wait_port_closed()

    def restart(self) -> None:
        """Start the server again on the same port (after :meth:`kill` or :meth:`stop`)."""
        if self.running:
            self.kill()
        self.start()

    def stop(self, *, wait: bool = False) -> None:
        """Stop the server with SIGTERM; the master is reaped in the background unless ``wait``."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return

        def reap() -> None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()

        reaper = threading.Thread(target=reap, name=f"reap-dovecot-{self.name}", daemon=True)
        reaper.start()
        self._reapers.append(reaper)
        if wait:
            reaper.join()

    def cleanup(self) -> None:
        """Stop the server (waiting for it) and remove its directory."""
        self.stop()
        for reaper in self._reapers:
            reaper.join(timeout=6)
        shutil.rmtree(self.root, ignore_errors=True)

    def _wait_port_closed(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection((self.host, self.port), timeout=0.2).close()
            except OSError:
                return
            time.sleep(0.01)

    def log_tail(self, lines: int = 20) -> str:
        text = ""
        for name in ("stderr.log", "dovecot.log"):
            path = self.root / name
            if path.exists():
                text += path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    # -- users and mail ----------------------------------------------------------------

    def new_user(self, prefix: str = "user") -> tuple[str, str]:
        """Create a fresh user; return ``(username, password)``."""
        with self._users_lock:
            username = f"{prefix}{len(self.users) + 1}x{secrets.token_hex(3)}"
            password = self._password_prefix + username
            self.users[username] = password
        return username, password

    def maildir(self, user: str) -> Path:
        """The user's Maildir root (files written there by a test must be chowned with :meth:`chown`)."""
        return self.root / "mail" / user

    def chown(self, path: Path) -> None:
        """Give ``path`` (recursively) to the server user, so Dovecot can read it."""
        self._chown_tree(path)

    def client(self, user: str):  # -> imapclient.IMAPClient
        """Return an IMAPClient logged in as ``user`` (the caller logs out)."""
        import imapclient

        client = imapclient.IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(user, self.users[user])
        return client

    def append_messages(
        self,
        user: str,
        folder: str,
        messages: Sequence[bytes],
        *,
        flags: Iterable[str] = (),
        when: datetime | None = None,
        batch: int = 2000,
    ) -> list[int]:
        """Append ``messages`` to ``folder`` with MULTIAPPEND (one command per ``batch``).

        Returns the new UIDs (from APPENDUID), in order.
        """
        flags = tuple(flags)
        uids: list[int] = []
        client = self.client(user)
        try:
            for start in range(0, len(messages), batch):
                items = []
                for raw in messages[start:start + batch]:
                    item: dict[str, object] = {"msg": raw, "flags": flags}
                    if when is not None:
                        item["date"] = when
                    items.append(item)
                response = client.multiappend(folder, items)
                uids.extend(_appenduid(response))
        finally:
            client.logout()
        return uids

    def draft_keys(self, user: str) -> Counter:
        """How many messages in the user's Drafts carry each X-Followup-Key (exactly-once checks)."""
        client = self.client(user)
        try:
            client.select_folder("Drafts", readonly=True)
            uids = client.search(["ALL"])
            fetched = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (X-FOLLOWUP-KEY)]"]) if uids else {}
        finally:
            client.logout()
        keys: Counter = Counter()
        for data in fetched.values():
            header = data[b"BODY[HEADER.FIELDS (X-FOLLOWUP-KEY)]"].decode().strip()
            keys[header.split(":", 1)[1].strip() if ":" in header else ""] += 1
        return keys

    def recreate_folder(self, user: str, folder: str) -> None:
        """Delete ``folder`` and create it again: its UIDVALIDITY changes and old UIDs are gone."""
        client = self.client(user)
        try:
            client.delete_folder(folder)
            client.create_folder(folder)
            client.subscribe_folder(folder)
        finally:
            client.logout()


def _appenduid(response: object) -> list[int]:
    """UIDs from an ``[APPENDUID validity uid-set]`` response code (ranges expanded)."""
    text = response.decode() if isinstance(response, bytes) else str(response)
    marker = "APPENDUID "
    if marker not in text:
        return []
    uid_set = text.split(marker, 1)[1].split("]", 1)[0].split()[1]
    out: list[int] = []
    for part in uid_set.split(","):
        low, _, high = part.partition(":")
        out.extend(range(int(low), int(high or low) + 1))
    return out


def _missing_dovecot() -> None:
    reason = "Dovecot is not installed (Debian: apt-get install dovecot-imapd; `make test` does it)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI=true requires the real-server tests to run", pytrace=False)
    pytest.skip(reason)


def _sweep_stale_instances(parent: str, min_age: float = 600.0) -> None:
    """Remove instance dirs left by runs that were killed (no live master, older than ``min_age``)."""
    for path in Path(parent).glob("followup-dovecot-*"):
        try:
            if time.time() - path.stat().st_mtime < min_age:
                continue
            pid_file = path / "base" / "master.pid"
            if pid_file.exists():
                os.kill(int(pid_file.read_text().split()[0]), 0)
                continue  # its master still runs
        except ProcessLookupError:
            pass
        except (OSError, ValueError, IndexError):
            continue
        shutil.rmtree(path, ignore_errors=True)


class DovecotFactory:
    """Starts extra servers with other mailbox layouts, one per name per session."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.servers: dict[str, DovecotServer] = {}

    def __call__(self, name: str, *, mailboxes: Mapping[str, str | None] | None = None,
                 tls: bool = False) -> DovecotServer:
        """Return the server called ``name``, starting it (with ``mailboxes``, ``tls``) the first time."""
        server = self.servers.get(name)
        if server is None:
            if tls and shutil.which("openssl") is None:
                pytest.skip("openssl is not installed: no certificate for the TLS server")
            for attempt in range(3):  # the free port may be taken before Dovecot binds it
                server = DovecotServer(self.binary, name=name, mailboxes=mailboxes, tls=tls)
                try:
                    server.start()
                    break
                except RuntimeError:
                    server.cleanup()
                    if attempt == 2:
                        raise
                except BaseException:
                    server.cleanup()
                    raise
            self.servers[name] = server
        elif mailboxes is not None and dict(mailboxes) != server.mailboxes:
            raise ValueError(f"dovecot server {name!r} already runs with other mailboxes")
        if not server.running:
            server.restart()
        return server

    def cleanup(self) -> None:
        for server in self.servers.values():
            server.stop()
        for server in self.servers.values():
            server.cleanup()


@pytest.fixture(scope="session")
def dovecot_factory() -> Iterator[DovecotFactory]:
    """Start Dovecot servers by name (session-scoped, cleaned up at the end)."""
    binary = find_dovecot()
    if binary is None:
        _missing_dovecot()
    _sweep_stale_instances(_instance_parent())
    factory = DovecotFactory(binary)  # type: ignore[arg-type]
    try:
        yield factory
    finally:
        factory.cleanup()


@pytest.fixture(scope="session")
def dovecot_server(dovecot_factory: DovecotFactory) -> Iterator[DovecotServer]:
    """The shared Dovecot server with SPECIAL-USE Drafts/Sent/Trash/Junk (one per session).

    Do not kill it: a test that kills a server takes its own, ``dovecot_factory("killable")``.
    """
    server = dovecot_factory("default", mailboxes=DEFAULT_MAILBOXES)
    yield server


@pytest.fixture(autouse=False)
def dovecot_user(dovecot_server: DovecotServer) -> tuple[str, str]:
    """A fresh user on the shared server: ``(username, password)``."""
    if not dovecot_server.running:
        dovecot_server.restart()
    return dovecot_server.new_user()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(name in getattr(item, "fixturenames", ()) for name in FIXTURE_NAMES + ("dovecot_user",)):
            item.add_marker(pytest.mark.dovecot)
