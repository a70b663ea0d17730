"""Crash safety against a real Dovecot: `followup once` SIGKILLed at random moments, many
times over; afterwards every due draft is in Drafts exactly once and none is missing.

`make test` runs a short version (FOLLOWUP_KILLS, default 20 kills); `make soak` runs the long
one (the test marked slow, 200 kills).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sync_support import USER, invite

pytestmark = pytest.mark.dovecot
ROOT = Path(__file__).resolve().parents[1]


def write_config(tmp_path: Path, server, user: str, password: str) -> Path:
    secret = tmp_path / "imap.password"
    secret.write_text(password)
    secret.chmod(0o600)
    config = tmp_path / "config.yaml"
    config.write_text(f"""
timezone: America/New_York
state_dir: {tmp_path / 'state'}
user: {{name: Dana Reyes, addresses: [{USER}]}}
accounts:
  - name: school
    type: imap
    host: {server.host}
    port: {server.port}
    security: plain
    username: {user}
    password_file: {secret}
    timeout_seconds: 10
""")
    return config


def load_interviews(server, user: str, count: int) -> int:
    """Deliver ``count`` interview invitations for interviews that ended in the last hours;
    return how many thank-you drafts are due (one per interviewer)."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    messages, due = [], 0
    for n in range(count):
        interviewers = ("alice", "bob") if n % 2 else ("carol",)
        start = now - timedelta(hours=2 + n % 20)
        messages.append(invite(n, company=f"Firm{n:02d}", start=start, interviewers=interviewers,
                               organizer="rita"))
        due += len(interviewers)
    server.append_messages(user, "INBOX", messages, when=now - timedelta(days=2))
    return due


def run_once(config: Path, *, kill_after: float | None) -> int | None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "followup", "--config", str(config), "once"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if kill_after is None:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        return proc.returncode
    time.sleep(kill_after)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return proc.returncode


def drafts_by_key(server, user: str) -> Counter:
    return server.draft_keys(user)


def kill_many_times(tmp_path, dovecot_server, kills: int, seed: int) -> None:
    user, password = dovecot_server.new_user()
    expected = load_interviews(dovecot_server, user, 16)
    config = write_config(tmp_path, dovecot_server, user, password)
    rng = random.Random(seed)
    killed = 0
    for _ in range(kills):
        if run_once(config, kill_after=rng.uniform(0.2, 1.6)) == -signal.SIGKILL:
            killed += 1
    run_once(config, kill_after=None)
    run_once(config, kill_after=None)
    keys = drafts_by_key(dovecot_server, user)
    duplicates = {k: n for k, n in keys.items() if n > 1}
    assert not duplicates, f"duplicate drafts after {killed} kills: {duplicates}"
    assert sum(keys.values()) == expected, f"{sum(keys.values())} drafts, expected {expected}"
    assert all(key.startswith("thank_you.") for key in keys)
    print(f"\n{killed} of {kills} runs were SIGKILLed mid-flight; {expected} drafts, each exactly once")


def test_sigkill_at_random_moments_never_duplicates_or_loses_a_draft(tmp_path, dovecot_server):
    kill_many_times(tmp_path, dovecot_server, int(os.environ.get("FOLLOWUP_KILLS", "20")), seed=2026)


@pytest.mark.slow
def test_two_hundred_sigkills_never_duplicate_or_lose_a_draft(tmp_path, dovecot_server):
    kill_many_times(tmp_path, dovecot_server, 200, seed=7)
