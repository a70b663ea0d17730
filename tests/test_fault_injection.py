"""Fault injection against a real Dovecot: the program keeps its promises while the world breaks.

Rounds of ``followup once`` and of the daemon (``followup run``, stopped with SIGTERM after its
first cycle) run against a mailbox that keeps receiving mail and interview invitations, while
one fault per round (chosen at random, seeded) hits them:

``sigkill``          the process is SIGKILLed at a random moment (``once`` or ``run``);
``server-kill``      Dovecot is SIGKILLed mid-run (every connection drops), then restarted;
``cut-fetch``        a TCP proxy between program and server cuts the connection after N bytes of
                     a FETCH answer (headers or bodies);
``cut-append``       the proxy cuts an APPEND to Drafts halfway through the message (the server
                     never stores it) or swallows the server's ``OK [APPENDUID]`` (it did);
``disk-full``        the state directory's file system is full (a small tmpfs filled up, as
                     root; otherwise the state directory is made read-only): the run must fail
                     with one clear line, no traceback;
``clean``            nothing.

Afterwards, with the faults gone, two clean runs, then: every due draft is in Drafts exactly
once (and every journal row is settled), every message of INBOX and Sent is in the store (by
Message-ID and by location), and each folder's cursor is consistent (same UIDVALIDITY,
``last_ref`` = the highest UID <= UIDNEXT - 1, the message count) and unchanged by one more run.

``make test`` runs the short version (``FOLLOWUP_FAULT_ROUNDS``, default 14); ``make soak`` the
long one (marked slow, 120 rounds and more mail).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sync_support import USER, invite, mail

pytestmark = pytest.mark.dovecot
ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "school"


# --- a TCP proxy that cuts connections at chosen points -----------------------------------------


class FaultProxy:
    """127.0.0.1:``port`` -> Dovecot. ``arm(kind, n)`` makes the next matching exchange fail:

    ``fetch-headers`` / ``fetch-bodies``: after a ``UID FETCH`` of header fields / of whole
    messages, pass ``n`` bytes of the answer, then cut both directions.
    ``append-request``: pass the ``APPEND`` command and ``n`` bytes of its literal, then cut.
    ``append-response``: pass the whole APPEND, drop the server's tagged answer, cut.
    A fault fires once; ``fired`` counts what fired.
    """

    MARKERS = {"fetch-headers": b"HEADER.FIELDS", "fetch-bodies": b"BODY.PEEK[]",
               "append-request": b"APPEND", "append-response": b"APPEND"}

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.fault: tuple[str, int] | None = None
        self.fired: Counter[str] = Counter()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True, name="fault-proxy").start()

    def arm(self, kind: str, n: int = 0) -> None:
        with self.lock:
            self.fault = (kind, n)

    def disarm(self) -> None:
        with self.lock:
            self.fault = None

    def close(self) -> None:
        self.closed = True
        self.listener.close()

    def _take(self, kind_prefix: str, data: bytes) -> tuple[str, int] | None:
        """The armed fault if it matches ``data`` (and disarm it)."""
        with self.lock:
            if self.fault and self.fault[0].startswith(kind_prefix) and self.MARKERS[self.fault[0]] in data:
                fault, self.fault = self.fault, None
                self.fired[fault[0]] += 1
                return fault
        return None

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            state = {"pending": None, "budget": None, "cut": False}
            threading.Thread(target=self._client_to_server, args=(client, upstream, state), daemon=True).start()
            threading.Thread(target=self._server_to_client, args=(client, upstream, state), daemon=True).start()

    @staticmethod
    def _cut(client: socket.socket, upstream: socket.socket, state: dict) -> None:
        state["cut"] = True
        for sock in (client, upstream):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _client_to_server(self, client: socket.socket, upstream: socket.socket, state: dict) -> None:
        budget = None
        try:
            while not state["cut"]:
                data = client.recv(65536)
                if not data:
                    break
                if budget is not None:
                    if len(data) >= budget:
                        upstream.sendall(data[:budget])
                        self._cut(client, upstream, state)
                        return
                    budget -= len(data)
                else:
                    fault = self._take("fetch", data) or self._take("append", data)
                    if fault and fault[0] == "append-request":
                        start = data.index(b"APPEND")
                        head = data.find(b"\r\n", start)
                        upstream.sendall(data[: head + 2])  # the command line; the literal follows
                        budget = fault[1]
                        continue
                    if fault:
                        state["pending"] = fault
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            if not state["cut"]:
                self._cut(client, upstream, state)

    def _server_to_client(self, client: socket.socket, upstream: socket.socket, state: dict) -> None:
        try:
            while not state["cut"]:
                data = upstream.recv(65536)
                if not data:
                    break
                pending = state["pending"]
                if pending and pending[0].startswith("fetch"):
                    left = pending[1]
                    if len(data) >= left:
                        client.sendall(data[:left])
                        self._cut(client, upstream, state)
                        return
                    state["pending"] = (pending[0], left - len(data))
                elif pending and pending[0] == "append-response" and b"APPENDUID" in data.upper():
                    # Pass what came before the tagged answer's line; the server stored the
                    # message, the client never hears so.
                    line_start = data.rfind(b"\r\n", 0, data.upper().index(b"APPENDUID"))
                    if line_start >= 0:
                        client.sendall(data[: line_start + 2])
                    self._cut(client, upstream, state)
                    return
                client.sendall(data)
        except OSError:
            pass
        finally:
            if not state["cut"]:
                self._cut(client, upstream, state)


# --- a state directory whose disk can be filled -------------------------------------------------


class StateDisk:
    """The state directory on a 256 MB tmpfs (root), filled up on demand; else read-only on demand."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.mounted = False
        if os.geteuid() == 0 and shutil.which("mount"):
            done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m,mode=0700", "tmpfs", str(path)],
                                  capture_output=True)
            self.mounted = done.returncode == 0
        self.kind = "tmpfs full" if self.mounted else ("read-only dir" if os.geteuid() != 0 else None)
        self.filler = path / "filler"

    def fill(self, leave: int = 0) -> None:
        """Leave ``leave`` bytes free (tmpfs), or make the directory read-only."""
        if self.mounted:
            stat = os.statvfs(self.path)
            with open(self.filler, "wb", buffering=0) as handle:
                try:
                    os.posix_fallocate(handle.fileno(), 0, max(0, stat.f_bavail * stat.f_frsize - leave))
                except OSError:
                    pass
                if leave:
                    return
                chunk = b"\0" * 65536
                try:
                    while True:
                        handle.write(chunk)
                except OSError:
                    pass
        else:
            for entry in [self.path, *self.path.iterdir()]:
                entry.chmod(0o500 if entry.is_dir() else 0o400)

    def free(self) -> None:
        if self.mounted:
            self.filler.unlink(missing_ok=True)
        else:
            for entry in [self.path, *self.path.iterdir()]:
                entry.chmod(0o700 if entry.is_dir() else 0o600)

    def cleanup(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.path)], capture_output=True)


# --- the world: a mailbox that keeps receiving mail ----------------------------------------------


class World:
    def __init__(self, tmp_path: Path, server, rng: random.Random) -> None:
        self.server = server
        self.rng = rng
        self.user, password = server.new_user()
        self.proxy = FaultProxy(server.port)
        self.state = tmp_path / "state"
        self.disk = StateDisk(self.state)
        self.expected_drafts = 0
        self.n = 0
        secret = tmp_path / "imap.password"
        secret.write_text(password)
        secret.chmod(0o600)
        self.config = tmp_path / "config.yaml"
        self.config.write_text(f"""
timezone: America/New_York
state_dir: {self.state}
user: {{name: Dana Reyes, addresses: [{USER}]}}
digest: {{enabled: false}}
sync: {{batch_size: 20}}
accounts:
  - name: {ACCOUNT}
    type: imap
    host: 127.0.0.1
    port: {self.proxy.port}
    security: plain
    username: {self.user}
    password_file: {secret}
    timeout_seconds: 5
""")
        self.logs = tmp_path / "logs"
        self.logs.mkdir()

    def deliver(self, filler: int, interviews: int) -> None:
        """``filler`` ordinary messages (a few with 100-300 KB attachments) and ``interviews``
        invitations to interviews that ended hours ago (their thank-yous are due at once)."""
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        messages = []
        for _ in range(filler):
            self.n += 1
            raw = mail(100000 + self.n, self.rng.choice(["Weekly newsletter", "dinner on Friday?", "photos",
                                                         "Your order has shipped", "quick question"]),
                       sender=f"person{self.n % 37}@friends.example", date=now - timedelta(days=self.n % 60))
            if self.rng.random() < 0.1:
                raw = raw.replace(b"\r\n\r\nHello.\r\n", b"\r\n\r\nHello.\r\n" + (
                    b"attachment line " * 64 + b"\r\n") * self.rng.randint(100, 300))
            messages.append(raw)
        for _ in range(interviews):
            self.n += 1
            interviewers = ("alice", "bob") if self.n % 2 else ("carol",)
            messages.append(invite(self.n, company=f"Firm{self.n:04d}", start=now - timedelta(hours=2 + self.n % 20),
                                   interviewers=interviewers))
            self.expected_drafts += len(interviewers)
        self.rng.shuffle(messages)
        self.server.append_messages(self.user, "INBOX", messages, when=now - timedelta(days=1))

    def start(self, mode: str, tag: str) -> tuple[subprocess.Popen, Path]:
        log = self.logs / f"{tag}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "followup", "--config", str(self.config), mode],
                                    cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    env={**os.environ, "PYTHONUNBUFFERED": "1"})
        return proc, log

    def run(self, mode: str, tag: str, *, kill_after: float | None = None,
            during=None) -> tuple[int | None, str]:  # type: ignore[no-untyped-def]
        """Run ``followup once`` or ``followup run``; SIGKILL after ``kill_after`` s when given.
        ``run`` is stopped with SIGTERM once its first cycle ends (or fails)."""
        proc, log = self.start(mode, tag)
        started = time.monotonic()
        killed_at = None if kill_after is None else started + kill_after
        fired = False
        while proc.poll() is None:
            now = time.monotonic()
            if during is not None and not fired and now - started >= during[0]:
                during[1]()
                fired = True
            if killed_at is not None and now >= killed_at:
                proc.send_signal(signal.SIGKILL)
                break
            if mode == "run" and (": cycle:" in (text := log.read_text(errors="replace"))
                                  or "retrying in" in text or "critical" in text.lower()):
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    raise AssertionError(f"followup run did not stop within 20 s of SIGTERM:\n{log.read_text()}")
                break
            assert now - started < 120, f"{mode} hung:\n{log.read_text(errors='replace')[-2000:]}"
            time.sleep(0.02)
        proc.wait(timeout=30)
        return proc.returncode, log.read_text(errors="replace")

    # -- what the server and the store hold ------------------------------------------------

    def drafts_by_key(self) -> Counter:
        return self.server.draft_keys(self.user)

    def folder(self, name: str) -> dict:
        client = self.server.client(self.user)
        try:
            status = client.folder_status(name, ["UIDVALIDITY", "UIDNEXT", "MESSAGES"])
            client.select_folder(name, readonly=True)
            uids = sorted(client.search(["ALL"]))
            ids = {}
            if uids:
                for uid, data in client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]).items():
                    header = data[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].decode().strip()
                    ids[uid] = header.split(":", 1)[1].strip() if ":" in header else ""
        finally:
            client.logout()
        return {"validity": status[b"UIDVALIDITY"], "next": status[b"UIDNEXT"], "messages": status[b"MESSAGES"],
                "uids": uids, "ids": ids}

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.state / 'state.sqlite3'}?mode=ro", uri=True)

    def cleanup(self) -> None:
        self.proxy.close()
        self.disk.cleanup()


# --- the rounds ------------------------------------------------------------------------------------


FAULTS = ["sigkill", "sigkill", "server-kill", "cut-fetch", "cut-fetch", "cut-append", "cut-append",
          "disk-full", "clean"]


def one_round(world: World, number: int, fault: str, rng: random.Random, log: list[str]) -> None:
    mode = "once" if fault in ("server-kill", "disk-full") else rng.choice(["once", "run"])
    tag = f"{number:03d}-{fault}-{mode}"
    if fault in ("cut-append", "disk-full") or rng.random() < 0.5:
        world.deliver(filler=rng.randint(5, 40), interviews=rng.randint(1, 2))
    if fault == "sigkill":
        code, out = world.run(mode, tag, kill_after=rng.uniform(0.3, 1.5))
    elif fault == "server-kill":
        code, out = world.run("once", tag, during=(rng.uniform(0.3, 1.0), world.server.kill))
        world.server.restart()
    elif fault == "cut-fetch":
        world.proxy.arm(rng.choice(["fetch-headers", "fetch-bodies"]), rng.randint(0, 60000))
        code, out = world.run(mode, tag)
    elif fault == "cut-append":
        kind = rng.choice(["append-request", "append-response"])
        world.proxy.arm(kind, rng.randint(0, 400))
        code, out = world.run(mode, tag)
    elif fault == "disk-full":
        if world.disk.kind is None:
            log.append(f"{tag}: skipped (root without a mountable tmpfs)")
            return
        if not (world.state / "state.sqlite3").exists():
            world.run("once", tag + "-setup")
        world.deliver(filler=30, interviews=1)
        leave = rng.choice([0, 0, 64 * 1024, 256 * 1024, 1024 * 1024])  # full at open, or mid-sync
        world.disk.fill(leave)
        tag += f"-{leave // 1024}k-free"
        try:
            code, out = world.run("once", tag)
        finally:
            world.disk.free()
        if code == 0:  # the space left was enough for this round's mail
            log.append(f"{tag}: exit 0 (enough space)")
            return
        assert "Traceback" not in out, f"a full disk gave a traceback instead of one clear line:\n{out}"
        lowered = out.lower()
        assert any(word in lowered for word in ("disk", "full", "read-only", "readonly", "state database")), \
            f"the error does not say what is wrong:\n{out}"
    else:
        code, out = world.run(mode, tag)
    world.proxy.disarm()
    assert "Traceback" not in out, f"{tag}: a traceback:\n{out}"
    log.append(f"{tag}: exit {code}")


def inject_faults(tmp_path: Path, dovecot_factory, rounds: int, seed: int, initial: tuple[int, int]) -> None:
    server = dovecot_factory(f"faults-{seed}")
    rng = random.Random(seed)
    world = World(tmp_path, server, rng)
    started = time.monotonic()
    log: list[str] = []
    try:
        world.deliver(filler=initial[0], interviews=initial[1])
        faults = [FAULTS[i % len(FAULTS)] for i in range(rounds)]
        rng.shuffle(faults)
        for number, fault in enumerate(faults):
            one_round(world, number, fault, rng, log)
        world.proxy.disarm()
        for final in ("final-1", "final-2"):
            code, out = world.run("once", final)
            assert code == 0, f"{final} failed:\n{out}"
        check_invariants(world)
        print(f"\n{rounds} rounds in {time.monotonic() - started:.0f} s (state disk: {world.disk.kind}); "
              f"proxy faults fired: {dict(world.proxy.fired)}; {world.expected_drafts} drafts, each exactly once")
        print("\n".join(log))
    finally:
        world.cleanup()
        if not server.running:
            server.restart()


def check_invariants(world: World) -> None:
    # every due draft exactly once, nothing left journalled
    keys = world.drafts_by_key()
    duplicates = {k: n for k, n in keys.items() if n > 1}
    assert not duplicates, f"duplicate drafts: {duplicates}"
    assert sum(keys.values()) == world.expected_drafts, f"{sum(keys.values())} drafts, expected {world.expected_drafts}"
    with world.db() as db:
        fates = Counter(row[0] for row in db.execute("SELECT fate FROM drafts"))
        journal = {row[0] for row in db.execute("SELECT key FROM drafts")}
    assert fates.get("journalled", 0) == 0, f"unsettled journal rows: {fates}"
    assert journal == set(keys), f"journal and Drafts differ: {journal ^ set(keys)}"

    # no message lost from the store; cursors consistent
    snapshots = {}
    for name, role in (("INBOX", "inbox"), ("Sent", "sent"), ("Drafts", "drafts")):
        folder = world.folder(name)
        with world.db() as db:
            stored = {row[0] for row in db.execute("SELECT message_id FROM messages WHERE account=?", (ACCOUNT,))}
            located = {row[0]: row[1] for row in db.execute(
                "SELECT ref, message_id FROM locations WHERE account=? AND folder_role=?", (ACCOUNT, role))}
            cursor = db.execute("SELECT validity, last_ref, next_ref, messages FROM cursors "
                                "WHERE account=? AND folder_role=?", (ACCOUNT, role)).fetchone()
        missing = {mid for mid in folder["ids"].values() if mid not in stored}
        assert not missing, f"{name}: {len(missing)} messages not in the store, e.g. {sorted(missing)[:3]}"
        assert set(located) == {str(uid) for uid in folder["uids"]}, (
            f"{name}: locations differ from the server's UIDs: "
            f"{sorted(set(located) ^ {str(u) for u in folder['uids']}, key=int)[:10]}")
        assert cursor is not None, f"{name}: no cursor"
        validity, last_ref, next_ref, messages = cursor
        assert validity == folder["validity"], f"{name}: cursor validity {validity} != {folder['validity']}"
        top = max(folder["uids"], default=None)
        if name != "Drafts":
            assert last_ref is None or last_ref <= (top or 0), f"{name}: last_ref {last_ref} beyond max UID {top}"
            assert last_ref == top, f"{name}: last_ref {last_ref}, highest UID {top}"
        assert next_ref == folder["next"] and messages == folder["messages"], (
            f"{name}: cursor {cursor} vs server {folder['next']}, {folder['messages']}")
        snapshots[role] = cursor

    # the next run changes nothing
    code, out = world.run("once", "final-3")
    assert code == 0, out
    assert "sent: unchanged; inbox: unchanged; drafts: unchanged" in out, f"the next run was not idle:\n{out}"
    with world.db() as db:
        after = {role: db.execute("SELECT validity, last_ref, next_ref, messages FROM cursors "
                                  "WHERE account=? AND folder_role=?", (ACCOUNT, role)).fetchone()
                 for role in snapshots}
    assert after == snapshots, f"cursors moved on an idle run: {snapshots} -> {after}"
    assert world.drafts_by_key() == keys


def test_faults_short(tmp_path, dovecot_factory):
    """`make test`: a short mix of every fault."""
    inject_faults(tmp_path, dovecot_factory, int(os.environ.get("FOLLOWUP_FAULT_ROUNDS", "14")), seed=8,
                  initial=(120, 6))


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_faults_soak(tmp_path, dovecot_factory):
    """`make soak`: many rounds, more mail."""
    inject_faults(tmp_path, dovecot_factory, int(os.environ.get("FOLLOWUP_FAULT_SOAK_ROUNDS", "120")), seed=88,
                  initial=(600, 20))


def test_a_full_disk_at_commit_is_one_clear_store_error(tmp_path):
    from followup.errors import StoreError
    from followup.store.db import Store

    disk = StateDisk(tmp_path / "state")
    if not disk.mounted:
        disk.cleanup()
        pytest.skip("needs root to mount a small tmpfs")
    try:
        store = Store.open(disk.path / "state.sqlite3")
        disk.fill(leave=64 * 1024)
        with pytest.raises(StoreError):
            with store.transaction():
                for n in range(40):
                    store.db.execute("INSERT INTO threads VALUES (?, ?, ?)", ("a", f"t{n}", "x" * 20000))
    finally:
        disk.free()
        disk.cleanup()
