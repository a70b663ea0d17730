"""`followup run` as systemd runs it: a subprocess with $NOTIFY_SOCKET, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from daemon_support import deliver, drafts_by_key, interview_mail, wait_for, write_config
from sync_support import mail

ROOT = Path(__file__).resolve().parents[2]


class Journal:
    """Collects the daemon's stderr lines and its sd_notify datagrams."""

    def __init__(self, tmp_path: Path) -> None:
        self.path = str(tmp_path / "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.notes: list[str] = []
        self.lines: list[str] = []
        self._stop = False
        self._reader = threading.Thread(target=self._read_notes, daemon=True)
        self._reader.start()

    def _read_notes(self) -> None:
        while not self._stop:
            try:
                self.notes.extend(self.sock.recv(4096).decode().splitlines())
            except TimeoutError:
                continue
            except OSError:
                return

    def follow(self, proc: subprocess.Popen) -> None:
        def read() -> None:
            for line in proc.stderr:
                self.lines.append(line.decode(errors="replace").rstrip("\n"))
        threading.Thread(target=read, daemon=True).start()

    def has_line(self, text: str) -> bool:
        return any(text in line for line in list(self.lines))

    def close(self) -> None:
        self._stop = True
        self.sock.close()


def start(config: Path, journal: Journal, *extra: str, journald: bool = False) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NOTIFY_SOCKET": journal.path}
    env.pop("JOURNAL_STREAM", None)
    if journald:
        env["JOURNAL_STREAM"] = "0:0"  # set, but not our stderr: no timestamps, no <N> prefixes
    proc = subprocess.Popen([sys.executable, "-m", "followup", "--config", str(config), "run", *extra],
                            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    journal.follow(proc)
    return proc


@pytest.fixture
def journal(tmp_path):
    j = Journal(tmp_path)
    yield j
    j.close()


def stop(proc: subprocess.Popen, timeout: float = 10) -> tuple[int, float]:
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    return code, time.monotonic() - started


@pytest.mark.dovecot
def test_with_idle_a_draft_appears_within_seconds_of_the_interview_mail(tmp_path, dovecot_server, journal):
    user, password = dovecot_server.new_user()
    config = write_config(tmp_path, [("school", dovecot_server, user, password)], interval=300)
    proc = start(config, journal, journald=True)
    try:
        wait_for(lambda: "READY=1" in journal.notes, 15, what="READY=1")
        wait_for(lambda: journal.has_line("school: cycle: fetched 0"), 10, what="the first cycle")
        time.sleep(0.5)  # the IDLE connection is up by now
        delivered = time.monotonic()
        deliver(dovecot_server, user, [interview_mail(20, "Idleco")])
        wait_for(lambda: drafts_by_key(dovecot_server, user), 10, step=0.1, what="the draft")
        reaction = time.monotonic() - delivered
        wait_for(lambda: any("1 draft today" in n for n in journal.notes), 5, what="STATUS with the draft")
        code, took = stop(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    print(f"\ndraft in Drafts {reaction:.2f} s after delivery (poll interval 300 s)")
    assert reaction < 10
    assert code == 0 and took < 5
    assert "STOPPING=1" in journal.notes
    status = [n for n in journal.notes if n.startswith("STATUS=")]
    assert any(n.startswith("STATUS=1 account, last poll ") for n in status), status
    summary = [line for line in journal.lines if "school: cycle:" in line]
    assert summary and summary[-1].startswith("INFO followup.daemon: school: cycle: fetched 1, classified 1, "
                                              "drafts placed 1, errors 0"), journal.lines
    assert not any("Idleco" in line or "Hi Dana" in line for line in journal.lines)  # no content at INFO


@pytest.mark.dovecot
def test_sigterm_mid_cycle_exits_0_within_seconds_and_the_next_run_completes(tmp_path, dovecot_server, journal):
    user, password = dovecot_server.new_user()
    start_day = datetime.now(UTC) - timedelta(days=20)
    messages = [mail(n, f"Interview availability {n}", sender=f"r{n}@firm{n % 97}.example",
                     date=start_day + timedelta(minutes=n)) for n in range(1500)]
    dovecot_server.append_messages(user, "INBOX", messages, when=start_day)
    config = write_config(tmp_path, [("school", dovecot_server, user, password)], batch_size=25)
    proc = start(config, journal)
    db = tmp_path / "state" / "state.sqlite3"
    try:
        wait_for(lambda: _count(db) >= 50, 30, step=0.05, what="the first batches")
        code, took = stop(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    stored_at_stop = _count(db)
    print(f"\nSIGTERM after {stored_at_stop} of 1500 messages: exit {code} in {took:.2f} s")
    assert code == 0 and took < 5, journal.lines
    assert stored_at_stop < 1500, "the cycle ended before the signal: make the mailbox bigger"
    assert journal.has_line("cycle interrupted by the stop") or journal.has_line("cycle ended by the stop")
    once = subprocess.run([sys.executable, "-m", "followup", "--config", str(config), "once"], cwd=ROOT,
                          capture_output=True, timeout=120)
    assert once.returncode == 0, once.stderr.decode()
    assert _count(db) == 1500


def _count(db: Path) -> int:
    import sqlite3

    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM messages WHERE outbound=0").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_a_broken_config_exits_78_and_lists_every_problem(tmp_path, journal):
    bad = tmp_path / "bad.yaml"
    bad.write_text("""
timezone: Mars/Olympus
accounts:
  - name: school
    type: imap
    password: hunter2hunter2
    colour: blue
sync: {poll_interval_seconds: 5}
""")
    proc = start(bad, journal)
    assert proc.wait(timeout=30) == 78
    time.sleep(0.2)
    text = "\n".join(journal.lines)
    for problem in ("timezone: unknown time zone", "accounts.0.host: required", "accounts.0.username: required",
                    "accounts.0.password: secrets are never written", "accounts.0.colour: unknown key",
                    "sync.poll_interval_seconds"):
        assert problem in text, text
    assert "hunter2" not in text
    assert "READY=1" not in journal.notes


def test_missing_secrets_of_several_accounts_exit_78_naming_each(tmp_path, journal):
    config = tmp_path / "c.yaml"
    config.write_text(f"""
state_dir: {tmp_path / 'state'}
accounts:
  - {{name: one, type: imap, host: 127.0.0.1, security: plain, username: u, password_file: {tmp_path / 'nope1'}}}
  - {{name: two, type: imap, host: 127.0.0.1, security: plain, username: u, password_env: FOLLOWUP_TEST_UNSET_VAR}}
""")
    proc = start(config, journal)
    assert proc.wait(timeout=30) == 78
    time.sleep(0.2)
    text = "\n".join(journal.lines)
    assert "accounts.one: secret file" in text and "accounts.two: environment variable FOLLOWUP_TEST_UNSET_VAR" in text


@pytest.mark.dovecot
def test_sighup_reloads_the_config_and_resumes_an_account_paused_by_a_refused_login(tmp_path, dovecot_server,
                                                                                    journal):
    user, password = dovecot_server.new_user()
    config = write_config(tmp_path, [("school", dovecot_server, user, "wrong-password")], interval=300)
    deliver(dovecot_server, user, [interview_mail(30, "Hupco")])
    proc = start(config, journal)
    try:
        wait_for(lambda: journal.has_line("CRITICAL followup.daemon: school: account paused"), 15,
                 what="the critical line")
        assert any("paused: school" in n for n in journal.notes)
        good = config.read_text()
        config.write_text("accounts: [\n")  # a broken config: the reload keeps the running one
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: journal.has_line("reload failed; keeping the running config"), 10, what="reload refused")
        config.write_text(good)
        (tmp_path / "school.password").write_text(password)  # the user fixes the password
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: drafts_by_key(dovecot_server, user), 10, what="the draft after the reload")
        assert "RELOADING=1" in journal.notes
        code, _ = stop(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 0
    assert sum("account paused" in line for line in journal.lines) == 1
