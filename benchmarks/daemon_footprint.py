"""Idle CPU and memory of `followup run` with two IMAP accounts (IDLE on, default 300 s poll)
against a local Dovecot. Figures, not assertions.

Run: .venv/bin/python benchmarks/daemon_footprint.py [SECONDS]   (default 300; needs dovecot-imapd)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import mkdtemp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from dovecot import DovecotFactory, find_dovecot  # noqa: E402
from sync_support import invite, mail  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def status(pid: int, key: str) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return line.split(":", 1)[1].strip()
    return "?"


def main() -> int:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 300.0
    binary = find_dovecot()
    if binary is None:
        print("dovecot is not installed (apt-get install dovecot-imapd)")
        return 1
    factory = DovecotFactory(binary)
    work = Path(mkdtemp(prefix="followup-footprint-"))
    proc = None
    try:
        server = factory("footprint")
        now = datetime.now(UTC)
        blocks = []
        for name in ("personal", "school"):
            user, password = server.new_user()
            messages = [mail(n, f"Weekly newsletter #{n}", sender="news@list.example",
                             date=now - timedelta(days=n % 80)) for n in range(1, 301)]
            messages += [invite(1000 + n, company=f"Co{n}", start=now - timedelta(days=n + 1)) for n in range(10)]
            server.append_messages(user, "INBOX", messages, when=now - timedelta(days=1))
            secret = work / f"{name}.pw"
            secret.write_text(password)
            secret.chmod(0o600)
            blocks.append(f"  - {{name: {name}, type: imap, host: {server.host}, port: {server.port}, "
                          f"security: plain, username: {user}, password_file: {secret}}}\n")
        config = work / "config.yaml"
        config.write_text(f"state_dir: {work / 'state'}\ndigest: {{enabled: false}}\naccounts:\n" + "".join(blocks))
        log = open(work / "daemon.log", "wb")
        proc = subprocess.Popen([sys.executable, "-m", "followup", "--config", str(config), "run"], cwd=ROOT,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        time.sleep(15)  # start-up and the first (full) sync are not idle
        rss_start, cpu_start, t_start = status(proc.pid, "VmRSS"), cpu_seconds(proc.pid), time.monotonic()
        time.sleep(seconds)
        cpu_end, t_end = cpu_seconds(proc.pid), time.monotonic()
        cpu = cpu_end - cpu_start
        print(f"idle over {t_end - t_start:.0f} s, two IMAP accounts, IDLE on, poll every 300 s:")
        print(f"  CPU {cpu:.2f} s = {100 * cpu / (t_end - t_start):.3f} % of one core")
        print(f"  RSS {rss_start} after start-up, {status(proc.pid, 'VmRSS')} at the end "
              f"(peak {status(proc.pid, 'VmHWM')}); threads {status(proc.pid, 'Threads')}")
        proc.send_signal(signal.SIGTERM)
        print(f"  exit code after SIGTERM: {proc.wait(timeout=30)}")
        print("  log tail:\n    " + "\n    ".join((work / "daemon.log").read_text().splitlines()[-6:]))
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        factory.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
