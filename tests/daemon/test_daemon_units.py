"""The daemon's parts without a server: backoff, sd_notify, journald logging, and a whole daemon
on a Maildir account (poll, draft, digest, status line)."""

from __future__ import annotations

import io
import logging
import os
import random
import socket
import threading
from datetime import UTC, datetime, timedelta

from daemon_support import DaemonThread, wait_for
from sync_support import invite, maildir_config as write_maildir_config

from followup.core.model import FolderRole
from followup.daemon import Daemon, backoff_delay
from followup.logs import JournalFormatter, cycle_summary, setup_logging, stream_is_journal
from followup.mailbox.maildir import MaildirMailbox
from followup.sdnotify import Notifier


def test_backoff_doubles_from_the_base_up_to_the_cap_with_jitter():
    rng = random.Random(1)
    for failures, centre in ((1, 15), (2, 30), (3, 60), (4, 120), (7, 900), (30, 900)):
        for _ in range(50):
            delay = backoff_delay(failures, 15, 900, rng)
            assert 0.75 * centre <= delay <= 1.25 * centre
    assert len({round(backoff_delay(3, 15, 900, rng), 3) for _ in range(20)}) > 10  # jittered


class NotifySocket:
    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(2)

    def read(self) -> str:
        return self.sock.recv(4096).decode()


def test_sd_notify_sends_ready_status_watchdog_and_stopping(tmp_path):
    path = str(tmp_path / "notify")
    listener = NotifySocket(path)
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "120000000", "WATCHDOG_PID": str(os.getpid())})
    assert notifier.enabled and notifier.watchdog_seconds == 120
    assert notifier.ready("2 accounts")
    assert listener.read() == "READY=1\nSTATUS=2 accounts"
    notifier.watchdog()
    assert listener.read() == "WATCHDOG=1"
    notifier.stopping()
    assert listener.read() == "STOPPING=1"
    notifier.close()


def test_sd_notify_without_systemd_is_a_silent_no_op_and_a_gone_socket_never_raises(tmp_path):
    assert not Notifier({}).ready()
    assert Notifier({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "5000000", "WATCHDOG_PID": "1"}).watchdog_seconds is None
    gone = Notifier({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})
    assert gone.status("x") is False and gone.status("y") is False


def test_sd_notify_understands_abstract_socket_names():
    name = f"followup-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2)
    assert Notifier({"NOTIFY_SOCKET": "@" + name}).ready()
    assert sock.recv(100) == b"READY=1"
    sock.close()


def test_logs_under_journald_have_no_timestamps_and_carry_the_priority(tmp_path):
    target = tmp_path / "stream"
    with open(target, "w") as stream:
        info = os.fstat(stream.fileno())
        env = {"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}"}
        assert stream_is_journal(stream, env)
        setup_logging(0, default=logging.INFO, stream=stream, environ=env)
        logging.getLogger("followup.test").info("hello")
        logging.getLogger("followup.test").critical("bad")
        logging.getLogger("apscheduler.scheduler").info("Added job")  # chatty library: quiet
    assert target.read_text().splitlines() == ["<6>INFO followup.test: hello", "<2>CRITICAL followup.test: bad"]
    buffer = io.StringIO()
    setup_logging(0, default=logging.INFO, stream=buffer, environ={"JOURNAL_STREAM": "1:2"})
    logging.getLogger("followup.test").warning("plain")
    assert buffer.getvalue() == "WARNING followup.test: plain\n"  # journal, but not this stream
    buffer = io.StringIO()
    setup_logging(0, stream=buffer, environ={})
    logging.getLogger("followup.test").warning("stamped")
    assert buffer.getvalue()[:4].isdigit() and buffer.getvalue().endswith("WARNING followup.test: stamped\n")
    assert JournalFormatter("%(message)s").format(logging.makeLogRecord({"msg": "a\nb", "levelno": 40})) == "<3>a\n<3>b"
    setup_logging(0)


def test_the_cycle_summary_is_counts_only():
    assert cycle_summary("school", fetched=3, classified=2, placed=1, errors=0, seconds=0.25) == \
        "school: cycle: fetched 3, classified 2, drafts placed 1, errors 0 (0.2 s)"


def maildir_config(tmp_path, *, digest: bool):
    config = write_maildir_config(tmp_path, f"digest: {{enabled: {str(digest).lower()}, hour: 0}}")
    return config, MaildirMailbox("home", tmp_path / "mail")


def test_a_daemon_on_a_maildir_account_polls_places_the_draft_and_reports_status(tmp_path, caplog):
    config, box = maildir_config(tmp_path, digest=True)
    caplog.set_level(logging.INFO, logger="followup")
    daemon = Daemon(config, poll_interval=1, idle=True)
    with DaemonThread(daemon):
        wait_for(lambda: daemon.accounts["home"].cycles >= 1, 10, what="the first cycle")
        start = datetime.now(UTC) - timedelta(hours=2)
        box.append(FolderRole.INBOX, invite(1, company="Acme", start=start), flags=(), when=start - timedelta(days=3))
        wait_for(lambda: box.list_refs(FolderRole.DRAFTS), 10, what="the draft")
        wait_for(lambda: "1 draft today" in daemon.status_line(), 5, what="the status line")
        assert daemon.status_line().startswith("1 account, last poll ")
        assert daemon.healthy()
        assert daemon.accounts["home"].idle is None  # Maildir: polling only
        daemon._digest_job()  # what the cron runs at digest.hour
        digests = [raw for raw in box.fetch_raw(FolderRole.INBOX, box.list_refs(FolderRole.INBOX)).values()
                   if b"X-Followup-Digest" in raw]
        assert len(digests) == 1
        daemon._digest_job()  # at most one a day
        daemon._housekeeping_job()
    assert len([r for r in box.fetch_raw(FolderRole.INBOX, box.list_refs(FolderRole.INBOX)).values()
                if b"X-Followup-Digest" in r]) == 1
    assert any(r.getMessage().startswith("home: cycle: fetched 1, classified 1, drafts placed 1, errors 0")
               for r in caplog.records)


def test_the_daemon_only_says_once_that_the_digest_module_is_missing(tmp_path, caplog, monkeypatch):
    import sys

    config, _ = maildir_config(tmp_path, digest=True)
    daemon = Daemon(config)
    monkeypatch.setitem(sys.modules, "followup.digest_job", None)  # import raises ModuleNotFoundError
    caplog.set_level(logging.WARNING, logger="followup")
    daemon._digest_job()
    daemon._digest_job()
    assert [r.getMessage() for r in caplog.records] == ["the daily digest is not available in this version; skipping it"]


def test_a_wake_during_a_cycle_makes_it_run_once_more(tmp_path):
    config, _ = maildir_config(tmp_path, digest=False)
    daemon = Daemon(config, poll_interval=3600)
    gate, seen = threading.Event(), []
    original = daemon._cycle

    def slow_cycle(account):
        seen.append(datetime.now(UTC))
        if len(seen) == 1:
            gate.wait(5)
        original(account)

    daemon._cycle = slow_cycle
    with DaemonThread(daemon):
        wait_for(lambda: seen, 5, what="the first cycle")
        daemon.wake("home", "test")  # arrives while the cycle runs: no second instance, a poke
        gate.set()
        wait_for(lambda: daemon.accounts["home"].cycles >= 2, 5, what="the second cycle")
        assert len(seen) == 2


def test_the_watchdog_is_fed_while_healthy_and_starves_when_a_cycle_is_stuck(tmp_path):
    import time

    from followup.daemon import STUCK_AFTER

    config, _ = maildir_config(tmp_path, digest=False)
    path = str(tmp_path / "notify")
    listener = NotifySocket(path)
    listener.sock.settimeout(0.2)
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "300000", "WATCHDOG_PID": str(os.getpid())})
    daemon = Daemon(config, poll_interval=3600, notifier=notifier)

    def received(seconds: float) -> list[str]:
        notes, deadline = [], time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                notes.append(listener.read())
            except TimeoutError:
                pass
        return notes

    with DaemonThread(daemon):
        notes = received(0.8)
        assert notes[0].startswith("READY=1") and notes.count("WATCHDOG=1") >= 3
        with daemon._lock:  # a cycle that has made no progress for too long
            daemon.accounts["home"].running = True
            daemon.accounts["home"].started = time.monotonic() - STUCK_AFTER.total_seconds() - 1
        received(0.2)
        assert "WATCHDOG=1" not in received(0.6)
        with daemon._lock:
            daemon.accounts["home"].running = False
        assert "WATCHDOG=1" in received(0.6)


def test_a_server_that_is_down_is_retried_with_growing_pauses_never_in_a_tight_loop(tmp_path, caplog):
    import time

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    secret = tmp_path / "pw"
    secret.write_text("x")
    secret.chmod(0o600)
    config = tmp_path / "config.yaml"
    config.write_text(f"state_dir: {tmp_path / 'state'}\ndigest: {{enabled: false}}\naccounts:\n"
                      f"  - {{name: down, type: imap, host: 127.0.0.1, port: {port}, security: plain, "
                      f"username: u, password_file: {secret}}}\n")
    caplog.set_level(logging.INFO, logger="followup")
    daemon = Daemon(config, backoff_base=0.4, backoff_max=60)
    with DaemonThread(daemon):
        time.sleep(3.0)
        failures = daemon.accounts["down"].failures
        assert "retrying: down" in daemon.status_line()
    # 0.4 s, 0.8 s, 1.6 s ... (±25 %): three or four attempts in three seconds, not hundreds
    assert 2 <= failures <= 5, failures
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings[0].startswith("down: temporary failure (attempt 1), retrying in ")
    assert "Connection refused" in warnings[0] or "refused" in warnings[0].lower()
