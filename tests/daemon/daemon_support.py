"""Helpers for the daemon tests: configs pointing at the test Dovecot, a daemon on a thread,
drafts counted by their X-Followup-Key, interviews that just ended."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sync_support import USER, invite


def account_yaml(name: str, server, user: str, password_file: Path) -> str:
    return f"""
  - name: {name}
    type: imap
    host: {server.host}
    port: {server.port}
    security: plain
    username: {user}
    password_file: {password_file}
    timeout_seconds: 5
"""


def write_config(tmp_path: Path, accounts: list[tuple[str, object, str, str]], *, interval: int = 300,
                 batch_size: int = 500, digest: bool = False) -> Path:
    """``accounts``: (name, server, user, password) each; the secrets go to 0600 files."""
    blocks = []
    for name, server, user, password in accounts:
        secret = tmp_path / f"{name}.password"
        secret.write_text(password)
        secret.chmod(0o600)
        blocks.append(account_yaml(name, server, user, secret))
    config = tmp_path / "config.yaml"
    config.write_text(f"""
timezone: America/New_York
state_dir: {tmp_path / 'state'}
user: {{name: Dana Reyes, addresses: [{USER}]}}
accounts:{''.join(blocks)}
sync: {{poll_interval_seconds: {interval}, batch_size: {batch_size}}}
digest: {{enabled: {'true' if digest else 'false'}}}
""")
    return config


def interview_mail(n: int, company: str, *, interviewers=("alice",)) -> bytes:
    """An invitation to an interview that ended an hour ago: its thank-you is due at once."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    return invite(n, company=company, start=now - timedelta(hours=2), interviewers=interviewers)


def deliver(server, user: str, messages: list[bytes]) -> None:
    server.append_messages(user, "INBOX", messages, when=datetime.now(UTC) - timedelta(days=2))


def drafts_by_key(server, user: str) -> Counter:
    return server.draft_keys(user)


def wait_for(predicate: Callable[[], object], timeout: float, step: float = 0.1, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(step)


class DaemonThread:
    """A :class:`followup.daemon.Daemon` served on a thread (signals are the test's to send)."""

    def __init__(self, daemon) -> None:
        self.daemon = daemon
        self.code: int | None = None
        self.thread = threading.Thread(target=self._run, name="daemon-under-test", daemon=True)

    def _run(self) -> None:
        self.code = self.daemon.run()

    def __enter__(self):
        self.thread.start()
        assert self.daemon.wait_ready(10), "the daemon did not start"
        return self.daemon

    def __exit__(self, *exc) -> None:
        self.daemon.request_stop()
        self.thread.join(timeout=15)
        assert not self.thread.is_alive(), "the daemon did not stop"

    def cycles(self, name: str) -> int:
        return self.daemon.accounts[name].cycles
