"""`followup once` twice against a 2,000-message Dovecot mailbox: the second run must fetch no
body. Prints what each run did, its IMAP command count and wall time, next to a bare NOOP.

Run: .venv/bin/python benchmarks/idle_poll.py   (needs Debian's dovecot-imapd)
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import mkdtemp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from dovecot import DovecotFactory, find_dovecot  # noqa: E402
from sync_support import mail  # noqa: E402


def main() -> int:
    binary = find_dovecot()
    if binary is None:
        print("dovecot is not installed (apt-get install dovecot-imapd)")
        return 1
    factory = DovecotFactory(binary)
    try:
        server = factory("bench")
        user, password = server.new_user()
        now = datetime.now(UTC)
        messages = []
        for n in range(1, 2001):
            raw = mail(n, f"Weekly newsletter #{n}", sender="news@list.example", date=now - timedelta(days=n % 80))
            if n % 20:
                raw = raw.replace(b"\r\n\r\n", b"\r\nList-Unsubscribe: <mailto:u@list.example>\r\n\r\n", 1)
            messages.append(raw)
        server.append_messages(user, "INBOX", messages, when=now - timedelta(days=1))
        work = Path(mkdtemp(prefix="followup-bench-"))
        secret = work / "pw"
        secret.write_text(password)
        secret.chmod(0o600)
        config = work / "config.yaml"
        config.write_text(f"""
state_dir: {work / 'state'}
accounts:
  - {{name: bench, type: imap, host: {server.host}, port: {server.port}, security: plain,
      username: {user}, password_file: {secret}}}
""")
        for run in (1, 2, 3):
            started = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "followup", "--config", str(config), "once"],
                                 capture_output=True, text=True, check=True, cwd=ROOT)
            wall = time.perf_counter() - started
            print(f"run {run}: {out.stdout.strip()}  [process wall time {wall * 1000:.0f} ms]")
        client = server.client(user)
        started = time.perf_counter()
        for _ in range(100):
            client.noop()
        print(f"bare NOOP round trip: {(time.perf_counter() - started) * 10:.2f} ms")
        client.logout()
    finally:
        factory.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
