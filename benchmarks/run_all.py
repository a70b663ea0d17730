#!/usr/bin/env python3
"""``make bench``: every figure of the README's "Performance and reliability" table, each next to
a baseline measured in the same run, against a throwaway Dovecot on tmpfs.

1. **Cold sync** of a 20,000-message mailbox (the mix of ``benchmarks/mailgen.py``: newsletters,
   real list mail and spam, personal threads, notifications, ~2% job mail, ~3% with 1-5 MB
   attachments) over the 90-day window: wall time, peak RSS and bytes received of
   ``sync_account`` (INBOX, Sent, Drafts into a fresh store), next to
   (a) the floor: SEARCH SINCE + FETCH of the same header fields, FLAGS, RFC822.SIZE and
   INTERNALDATE with bare imapclient, in the same 500-UID chunks;
   (b) the naive approach: SEARCH SINCE, FETCH every whole message (``BODY.PEEK[]``, 50 per
   command) and parse each with ``email`` and ``policy.default`` (headers and body text).
   Each runs in its own child process (peak RSS = that process's ``ru_maxrss``); bytes are
   counted in imaplib's reads. Floor and ours: best of ``--repeat``; naive: one run.
2. **Idle poll** with nothing new: ``run_cycle`` on a connected mailbox after a synced cycle (as
   the daemon polls): IMAP commands, bytes received, ms; next to a bare NOOP round trip.
3. **Incremental**: 100 new messages in the same mix arrive in the 20,000; one ``run_cycle``,
   next to the floor (SELECT + UID SEARCH + FETCH of the headers of the 100 new UIDs).
4. **Classification**: parse + classify + extract over ``../shared/corpus`` (and the fixtures,
   as ``make eval``): messages/s on one core (CPU time, best of 3) and p99 latency, next to
   ``email`` with ``policy.default`` parsing the same messages and reading their body text.
5. **Daemon footprint**: ``followup run`` (two IMAP accounts of 2,000 messages each, IDLE on)
   after its first cycles, idle for ``--daemon-seconds`` (default 60; the issue's figure is
   ``--daemon-seconds 600``): max RSS and CPU share, next to a minimal imapclient process
   holding the same two IDLE connections.

The generated mailbox is cached under /dev/shm (``--cache``); the first run spends ~20 s making it.
Options: ``--messages N`` (default 20000), ``--skip-naive``, ``--skip-daemon``, ``--json FILE``,
``--profile`` (cProfile of our cold sync, top functions). Exit code 0, also when a target is
missed (``--strict``: 1).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
for extra in (ROOT / "tests", HERE, ROOT / "src"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

CACHE_VERSION = 3
WINDOW_DAYS = 90
HEADER_CHUNK = 500
RAW_CHUNK = 50
ARRIVALS = 100
ACCOUNT = "bench"

TARGETS = {
    "cold_vs_floor": 2.0,      # ours <= 2x the floor
    "cold_vs_naive": 3.0,      # ours >= 3x faster than naive
    "idle_commands": 3,
    "idle_bytes": 1024,
    "incremental_s": 1.0,
    "classify_rate": 500.0,
    "daemon_rss_mb": 80.0,
    "daemon_cpu_pct": 1.0,
}


# ---------------------------------------------------------------------------------------------
# children: each measurement runs in a fresh process
# ---------------------------------------------------------------------------------------------

def _count_imap_bytes() -> dict[str, int]:
    """Count bytes imaplib reads (``rx``) and sends (``tx``) in this process."""
    import imaplib

    counter = {"rx": 0, "tx": 0}
    read, readline, send = imaplib.IMAP4.read, imaplib.IMAP4.readline, imaplib.IMAP4.send

    def counted_read(self, size):  # type: ignore[no-untyped-def]
        data = read(self, size)
        counter["rx"] += len(data)
        return data

    def counted_readline(self):  # type: ignore[no-untyped-def]
        line = readline(self)
        counter["rx"] += len(line)
        return line

    def counted_send(self, data):  # type: ignore[no-untyped-def]
        counter["tx"] += len(data)
        return send(self, data)

    imaplib.IMAP4.read, imaplib.IMAP4.readline, imaplib.IMAP4.send = counted_read, counted_readline, counted_send
    return counter


def _peak_rss_kb() -> int:
    """This process's peak RSS (VmHWM: ru_maxrss would include the parent's, inherited over fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _chunks(items, size):  # type: ignore[no-untyped-def]
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _client(p: dict):  # type: ignore[no-untyped-def]
    import imapclient

    client = imapclient.IMAPClient(p["host"], port=p["port"], ssl=False, timeout=60)
    client.login(p["user"], p["password"])
    return client


def child_floor(p: dict) -> dict:
    """SEARCH SINCE + FETCH of the sync's header fields, with bare imapclient."""
    counter = _count_imap_bytes()
    from followup.mailbox.base import SYNC_HEADER_FIELDS

    items = [f"BODY.PEEK[HEADER.FIELDS ({' '.join(SYNC_HEADER_FIELDS)})]", "RFC822.SIZE", "FLAGS", "INTERNALDATE"]
    since = date.fromisoformat(p["since"])
    started = time.perf_counter()
    client = _client(p)
    fetched = 0
    for folder in ("INBOX", "Sent", "Drafts"):
        client.select_folder(folder, readonly=True)
        uids = client.search(["SINCE", since] if folder != "Drafts" else ["ALL"])
        for chunk in _chunks(sorted(uids), HEADER_CHUNK):
            fetched += len(client.fetch(chunk, items))
    commands = client._imap.tagnum
    client.logout()
    return {"wall": time.perf_counter() - started, "rss_kb": _peak_rss_kb(), "rx": counter["rx"],
            "messages": fetched, "commands": commands}


def child_naive(p: dict) -> dict:
    """SEARCH SINCE, FETCH every whole message, parse it with email + policy.default."""
    counter = _count_imap_bytes()
    import email
    from email import policy

    since = date.fromisoformat(p["since"])
    started = time.perf_counter()
    client = _client(p)
    parsed = chars = 0
    for folder in ("INBOX", "Sent", "Drafts"):
        client.select_folder(folder, readonly=True)
        uids = client.search(["SINCE", since] if folder != "Drafts" else ["ALL"])
        for chunk in _chunks(sorted(uids), RAW_CHUNK):
            for data in client.fetch(chunk, ["BODY.PEEK[]"]).values():
                msg = email.message_from_bytes(data[b"BODY[]"], policy=policy.default)
                chars += len(str(msg["subject"] or "")) + len(str(msg["from"] or "")) + len(str(msg["date"] or ""))
                chars += len(str(msg["message-id"] or "")) + len(str(msg["references"] or ""))
                body = msg.get_body(preferencelist=("plain", "html"))
                if body is not None:
                    try:
                        chars += len(body.get_content())
                    except (LookupError, ValueError, AssertionError):
                        pass
                parsed += 1
    commands = client._imap.tagnum
    client.logout()
    return {"wall": time.perf_counter() - started, "rss_kb": _peak_rss_kb(), "rx": counter["rx"],
            "messages": parsed, "commands": commands}


def child_ours(p: dict) -> dict:
    """``sync_account`` of INBOX, Sent and Drafts into a fresh store."""
    counter = _count_imap_bytes()
    from followup.config import load_config
    from followup.mailbox.factory import open_mailbox
    from followup.runner import sync_context
    from followup.store.db import Store
    from followup.sync import sync_account

    config = load_config(p["config"])
    now = datetime.fromisoformat(p["now"])
    profiler = None
    if p.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    store = Store.open(config.database_path)
    mailbox = open_mailbox(config, ACCOUNT)
    mailbox.connect()
    report = sync_account(mailbox, store, sync_context(config), now)
    mailbox.close()
    store.close()
    wall = time.perf_counter() - started
    out = {"wall": wall, "rss_kb": _peak_rss_kb(), "rx": counter["rx"], "commands": mailbox.commands_issued,
           "stored": report.stored, "bodies": report.bodies_fetched,
           "headers": sum(f.headers_fetched for f in report.folders),
           "applications": report.applications_opened}
    if profiler is not None:
        import io
        import pstats

        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
        out["profile"] = text.getvalue()
    return out


def child_poll(p: dict) -> dict:
    """Idle polls and 100 new messages on a connected mailbox, after the cold sync's store."""
    counter = _count_imap_bytes()
    from followup.config import load_config
    from followup.mailbox.factory import open_mailbox
    from followup.runner import run_cycle
    from followup.store.db import Store

    config = load_config(p["config"])
    now = datetime.fromisoformat(p["now"]) + timedelta(hours=1)
    store = Store.open(config.database_path)
    mailbox = open_mailbox(config, ACCOUNT)
    mailbox.connect()
    boxes = {ACCOUNT: mailbox}

    def cycle(at: datetime) -> dict:
        commands, rx, started = mailbox.commands_issued, counter["rx"], time.perf_counter()
        report = run_cycle(config, store, at, mailboxes=boxes)
        elapsed = time.perf_counter() - started
        if report.errors:
            raise SystemExit(f"cycle failed: {report.errors}")
        return {"ms": elapsed * 1000, "commands": mailbox.commands_issued - commands, "rx": counter["rx"] - rx,
                "stored": sum(s.stored for s in report.syncs), "bodies": sum(s.bodies_fetched for s in report.syncs),
                "placed": sum(len(e.placed) for e in report.engines)}

    priming = cycle(now)  # the engine places what is due after the cold sync
    idle = [cycle(now + timedelta(seconds=30 * (i + 1))) for i in range(6)]

    # A bare NOOP round trip on a logged-in connection.
    client = _client(p)
    client.select_folder("INBOX", readonly=True)
    noops = []
    for _ in range(50):
        rx, started = counter["rx"], time.perf_counter()
        client.noop()
        noops.append(((time.perf_counter() - started) * 1000, counter["rx"] - rx))

    # 100 new messages arrive (MULTIAPPEND on another connection, as a delivery would).
    before = max(client.search(["ALL"]) or [0])
    arrivals = sorted(Path(p["arrivals"]).iterdir())
    items = [{"msg": path.read_bytes().replace(b"\n", b"\r\n"), "flags": (),
              "date": datetime.fromtimestamp(path.stat().st_mtime, UTC)} for path in arrivals]
    client.multiappend("INBOX", items)

    # The floor for those: SELECT, UID SEARCH UID n:*, FETCH their headers (bare imapclient).
    from followup.mailbox.base import SYNC_HEADER_FIELDS

    fields = [f"BODY.PEEK[HEADER.FIELDS ({' '.join(SYNC_HEADER_FIELDS)})]", "RFC822.SIZE", "FLAGS", "INTERNALDATE"]
    client.unselect_folder()
    tags, rx, started = client._imap.tagnum, counter["rx"], time.perf_counter()
    client.select_folder("INBOX", readonly=True)
    new = [u for u in client.search(["UID", f"{before + 1}:*"]) if u > before]
    client.fetch(new, fields)
    floor = {"ms": (time.perf_counter() - started) * 1000, "rx": counter["rx"] - rx,
             "commands": client._imap.tagnum - tags, "messages": len(new)}
    client.logout()

    incremental = cycle(now + timedelta(minutes=10))
    after = cycle(now + timedelta(minutes=11))
    mailbox.close()
    store.close()
    return {"priming": priming, "idle": idle, "noop_ms": statistics.median(n[0] for n in noops),
            "noop_rx": statistics.median(n[1] for n in noops), "incremental": incremental,
            "incremental_floor": floor, "after_incremental": after, "rss_kb": _peak_rss_kb()}


def child_classify(p: dict) -> dict:
    """parse + classify + extract over the corpus (as make eval), next to email + policy.default."""
    import email
    from email import policy

    import eval_classifier
    from followup.core.extract import read_message
    from followup.core.parse import parse_message

    items = eval_classifier.load_items(eval_classifier.corpus_dir())
    users = {"fixtures": eval_classifier.FIXTURE_USER}
    tz = eval_classifier.FIXTURE_TZ

    def ours(item) -> None:  # type: ignore[no-untyped-def]
        read_message(parse_message(item.raw), tz=tz, user_addresses=users.get(item.set_name, frozenset()))

    def stdlib(item) -> None:  # type: ignore[no-untyped-def]
        msg = email.message_from_bytes(item.raw, policy=policy.default)
        str(msg["subject"] or ""), str(msg["from"] or ""), str(msg["date"] or "")
        body = msg.get_body(preferencelist=("plain", "html"))
        if body is not None:
            try:
                body.get_content()
            except (LookupError, ValueError, AssertionError):
                pass

    def measure(fn) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
        rates, latencies = [], []
        for _ in range(3):
            cpu0 = time.process_time()
            for item in items:
                t0 = time.perf_counter()
                fn(item)
                latencies.append(time.perf_counter() - t0)
            rates.append(len(items) / max(time.process_time() - cpu0, 1e-9))
        latencies.sort()
        p99 = latencies[int(0.99 * (len(latencies) - 1))]
        return max(rates), p99 * 1000, latencies[-1] * 1000

    rate, p99, worst = measure(ours)
    base_rate, base_p99, base_worst = measure(stdlib)
    return {"messages": len(items), "rate": rate, "p99_ms": p99, "max_ms": worst,
            "base_rate": base_rate, "base_p99_ms": base_p99, "base_max_ms": base_worst}


def child_idle_floor(p: dict) -> dict:
    """A minimal watcher: one imapclient IDLE connection per account, until SIGTERM."""
    import threading

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def watch(account: dict) -> None:
        client = _client({**p, **account})
        client.select_folder("INBOX", readonly=True)
        while not stop.is_set():
            client.idle()
            client.idle_check(timeout=5)
            client.idle_done()

    threads = [threading.Thread(target=watch, args=(a,), daemon=True) for a in p["accounts"]]
    for t in threads:
        t.start()
    print("ready", flush=True)
    stop.wait()
    return {}


CHILDREN = {"floor": child_floor, "naive": child_naive, "ours": child_ours, "poll": child_poll,
            "classify": child_classify, "idle-floor": child_idle_floor}


def run_child(kind: str, params: dict, *, timeout: float = 900) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", kind, json.dumps(params)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# the mailbox: generated once, cached on tmpfs, hard-linked into each run's Dovecot
# ---------------------------------------------------------------------------------------------

def default_cache_root() -> Path:
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())


def ensure_cache(root: Path, messages: int, seed: int) -> tuple[Path, dict]:
    """The generated mailbox under ``root`` (made on first use); returns (dir, manifest)."""
    from mailgen import MailGenerator, maildir_name

    from eval_classifier import corpus_dir

    cache = root / f"followup-bench-v{CACHE_VERSION}-{messages}-{seed}"
    manifest_path = cache / "manifest.json"
    if manifest_path.is_file():
        return cache, json.loads(manifest_path.read_text())
    print(f"generating the {messages:,}-message mailbox in {cache} (once; later runs reuse it) ...", flush=True)
    started = time.perf_counter()
    corpus = corpus_dir()
    generator = MailGenerator(corpus if corpus.is_dir() else None, seed=seed)
    items = generator.generate(messages)
    arrivals = generator.arrivals(ARRIVALS, generator.now + timedelta(minutes=5))
    work = Path(tempfile.mkdtemp(prefix="followup-bench-gen-", dir=root))
    os.chmod(work, 0o755)
    for sub in ("INBOX", "Sent", "arrivals"):
        (work / sub).mkdir()
    since = generator.now - timedelta(days=WINDOW_DAYS)
    counts: dict[str, int] = {}
    for n, item in enumerate(items):
        path = work / item.folder / maildir_name(n, item)
        path.write_bytes(item.raw)
        os.utime(path, (item.received.timestamp(), item.received.timestamp()))
        counts[f"{item.folder}/{item.kind}"] = counts.get(f"{item.folder}/{item.kind}", 0) + 1
    for n, item in enumerate(arrivals):
        path = work / "arrivals" / f"{n:04d}.eml"
        path.write_bytes(item.raw)
        os.utime(path, (item.received.timestamp(), item.received.timestamp()))
    manifest = {
        "version": CACHE_VERSION, "messages": len(items), "seed": seed, "now": generator.now.isoformat(),
        "bytes": sum(len(i.raw) for i in items),
        "in_window": sum(1 for i in items if i.received >= since),
        "attachments": sum(1 for i in items if len(i.raw) > 1024 * 1024),
        "job": sum(1 for i in items if i.kind == "job"), "kinds": counts,
        "folders": {f: sum(1 for i in items if i.folder == f) for f in ("INBOX", "Sent")},
    }
    (work / "manifest.json").write_text(json.dumps(manifest, indent=1))
    if cache.exists():
        shutil.rmtree(cache)
    work.rename(cache)
    print(f"  done in {time.perf_counter() - started:.0f} s: {manifest['bytes'] / 1e9:.2f} GB", flush=True)
    return cache, manifest


def populate(server, user: str, cache: Path) -> None:  # type: ignore[no-untyped-def]
    """Hard-link (or copy) the cached Maildir files into ``user``'s mail directory."""
    maildir = server.maildir(user)
    for folder, path in (("INBOX", maildir), ("Sent", maildir / ".Sent")):
        for sub in ("cur", "new", "tmp"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        for source in (cache / folder).iterdir():
            target = path / "cur" / source.name
            try:
                os.link(source, target)
            except OSError:
                shutil.copy2(source, target)
    server.chown(maildir)


def warm_up(server, user: str, since: date) -> None:  # type: ignore[no-untyped-def]
    """Let Dovecot index the new Maildir once (not part of any figure)."""
    from followup.mailbox.base import SYNC_HEADER_FIELDS

    client = server.client(user)
    try:
        for folder in ("INBOX", "Sent", "Drafts"):
            client.select_folder(folder, readonly=True)
            uids = sorted(client.search(["ALL"]))
            for chunk in _chunks(uids, 1000):
                client.fetch(chunk, [f"BODY.PEEK[HEADER.FIELDS ({' '.join(SYNC_HEADER_FIELDS)})]",
                                     "RFC822.SIZE", "FLAGS", "INTERNALDATE"])
            client.search(["SINCE", since])
    finally:
        client.logout()


def write_config(work: Path, server, user: str, password: str, name: str = ACCOUNT) -> Path:  # type: ignore[no-untyped-def]
    secret = work / f"{name}.password"
    secret.write_text(password)
    secret.chmod(0o600)
    config = work / f"{name}.yaml"
    config.write_text(f"""
timezone: America/New_York
state_dir: {work / (name + '-state')}
user: {{name: Dana Reyes, addresses: [dana.reyes@example.net, dana@example.net]}}
digest: {{enabled: false}}
accounts:
  - {{name: {name}, type: imap, host: {server.host}, port: {server.port}, security: plain,
      username: {user}, password_file: {secret}, timeout_seconds: 60}}
""")
    return config


# ---------------------------------------------------------------------------------------------
# the daemon's footprint
# ---------------------------------------------------------------------------------------------

def measure_daemon(factory, seconds: float, seed: int) -> dict:  # type: ignore[no-untyped-def]
    """Two accounts of 2,000 messages each; ``followup run`` and a minimal IDLE watcher side by side."""
    from daemon_footprint import cpu_seconds, status
    from mailgen import MailGenerator

    server = factory("bench-daemon")
    work = Path(tempfile.mkdtemp(prefix="followup-bench-daemon-"))
    generator = MailGenerator(None, seed=seed + 1)
    accounts, blocks = [], []
    for name in ("personal", "school"):
        user, password = server.new_user()
        items = [i for i in generator.generate(2000) if i.folder == "INBOX"]
        client = server.client(user)
        try:
            for chunk in _chunks(items, 500):
                client.multiappend("INBOX", [{"msg": i.raw.replace(b"\n", b"\r\n"), "flags": ("\\Seen",) if i.seen else (),
                                              "date": i.received} for i in chunk])
        finally:
            client.logout()
        secret = work / f"{name}.pw"
        secret.write_text(password)
        secret.chmod(0o600)
        blocks.append(f"  - {{name: {name}, type: imap, host: {server.host}, port: {server.port}, "
                      f"security: plain, username: {user}, password_file: {secret}}}\n")
        accounts.append({"user": user, "password": password})
    config = work / "config.yaml"
    config.write_text(f"state_dir: {work / 'state'}\ntimezone: America/New_York\n"
                      "user: {name: Dana Reyes, addresses: [dana.reyes@example.net]}\n"
                      "digest: {enabled: false}\naccounts:\n" + "".join(blocks))
    log_path = work / "daemon.log"
    procs: list[subprocess.Popen] = []
    try:
        with open(log_path, "wb") as log:
            daemon = subprocess.Popen([sys.executable, "-m", "followup", "--config", str(config), "run"], cwd=ROOT,
                                      stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        procs.append(daemon)
        floor = subprocess.Popen([sys.executable, __file__, "--child", "idle-floor", json.dumps(
            {"host": server.host, "port": server.port, "user": "", "password": "", "accounts": accounts})],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(floor)
        floor.stdout.readline()  # "ready"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:  # both accounts' first cycle done, then it is idle
            text = log_path.read_text(errors="replace")
            if all(f"{name}: cycle:" in text for name in ("personal", "school")):
                break
            if daemon.poll() is not None:
                raise RuntimeError(f"followup run exited with {daemon.returncode}: {text[-2000:]}")
            time.sleep(0.2)
        else:
            raise RuntimeError("followup run did not finish its first cycles in 180 s")
        time.sleep(3)  # the IDLE connections settle
        start = {p.pid: cpu_seconds(p.pid) for p in procs}
        t0 = time.monotonic()
        rss: dict[int, list[int]] = {p.pid: [] for p in procs}
        while time.monotonic() - t0 < seconds:
            for p in procs:
                rss[p.pid].append(int(status(p.pid, "VmRSS").split()[0]))
            time.sleep(1)
        elapsed = time.monotonic() - t0
        result = {}
        for name, p in (("daemon", daemon), ("floor", floor)):
            cpu = cpu_seconds(p.pid) - start[p.pid]
            result[name] = {"cpu_pct": 100 * cpu / elapsed, "rss_mb": max(rss[p.pid]) / 1024,
                            "peak_mb": int(status(p.pid, "VmHWM").split()[0]) / 1024,
                            "threads": status(p.pid, "Threads")}
        result["seconds"] = elapsed
        daemon.send_signal(signal.SIGTERM)
        result["daemon_exit"] = daemon.wait(timeout=30)
        return result
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------------------------

def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 1e5 else f"{n / 1e3:,.1f} KB" if n >= 1e3 else f"{n:.0f} B"


def _verdict(ok: bool | None) -> str:
    return "" if ok is None else ("PASS" if ok else "MISS")


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    dovecot = subprocess.run(["dovecot", "--version"], capture_output=True, text=True,
                             env={**os.environ, "PATH": os.environ.get("PATH", "") + ":/usr/sbin"}).stdout.strip()
    import imapclient

    return (f"{cpu}, {os.cpu_count()} CPUs, {mem:.0f} GB RAM; {platform.platform()}; Python "
            f"{platform.python_version()}; Dovecot {dovecot.split()[0] if dovecot else '?'}; imapclient "
            f"{imapclient.__version__}; mail on tmpfs")


def render(results: dict) -> str:
    rows: list[tuple[str, str, str, str, str]] = []
    cold, floor, naive = results.get("ours"), results.get("floor"), results.get("naive")
    if cold and floor:
        window = results["manifest"]["in_window"]
        ratio = cold["wall"] / floor["wall"]
        base = f"floor {floor['wall']:.2f} s"
        if naive:
            base += f"; naive {naive['wall']:.1f} s"
        target = "<= 2x floor; >= 3x faster than naive"
        ok = ratio <= TARGETS["cold_vs_floor"] and (naive is None or naive["wall"] / cold["wall"] >= TARGETS["cold_vs_naive"])
        speed = ""
        if naive:
            gain = naive["wall"] / cold["wall"]
            speed = f", {gain:.1f}x faster than naive" if gain >= 1 else f", {1 / gain:.1f}x slower than naive"
        detail = f"{cold['wall']:.2f} s ({ratio:.1f}x floor{speed})"
        rows.append((f"cold sync, {results['manifest']['messages']:,} msgs ({window:,} in 90 d): wall", detail, base,
                     target, _verdict(ok)))
        rows.append(("  peak RSS", f"{cold['rss_kb'] / 1024:.0f} MB",
                     f"floor {floor['rss_kb'] / 1024:.0f} MB" + (f"; naive {naive['rss_kb'] / 1024:.0f} MB" if naive else ""),
                     "", ""))
        rows.append(("  bytes received", _mb(cold["rx"]),
                     f"floor {_mb(floor['rx'])}" + (f"; naive {_mb(naive['rx'])}" if naive else ""), "", ""))
        rows.append(("  IMAP commands; bodies fetched", f"{cold['commands']}; {cold['bodies']:,} of {cold['headers']:,}",
                     f"floor {floor['commands']}" + (f"; naive {naive['commands']}, {naive['messages']:,} bodies" if naive else ""),
                     "", ""))
    poll = results.get("poll")
    if poll:
        idle = poll["idle"][-1]
        first = poll["idle"][0]
        ms = statistics.median(i["ms"] for i in poll["idle"][1:])
        note = f" (first after a busy cycle: {first['commands']})" if first["commands"] != idle["commands"] else ""
        rows.append(("idle poll, nothing new: IMAP commands", f"{idle['commands']}{note}", "NOOP: 1",
                     f"<= {TARGETS['idle_commands']}", _verdict(idle["commands"] <= TARGETS["idle_commands"])))
        rows.append(("  bytes received", f"{idle['rx']} B", f"NOOP: {poll['noop_rx']:.0f} B",
                     f"<= {TARGETS['idle_bytes']} B", _verdict(idle["rx"] <= TARGETS["idle_bytes"])))
        rows.append(("  time (median)", f"{ms:.1f} ms", f"NOOP: {poll['noop_ms']:.2f} ms", "", ""))
        inc, incf = poll["incremental"], poll["incremental_floor"]
        rows.append((f"incremental: {ARRIVALS} new into the {results['manifest']['messages']:,}",
                     f"{inc['ms'] / 1000:.2f} s ({inc['commands']} cmds, {_mb(inc['rx'])}, {inc['bodies']} bodies, "
                     f"{inc['placed']} drafts)",
                     f"headers floor {incf['ms'] / 1000:.3f} s ({_mb(incf['rx'])})", f"< {TARGETS['incremental_s']:.0f} s",
                     _verdict(inc["ms"] / 1000 < TARGETS["incremental_s"])))
    cls = results.get("classify")
    if cls:
        rows.append((f"classification, {cls['messages']:,} corpus msgs: throughput", f"{cls['rate']:,.0f} msg/s",
                     f"email+policy.default {cls['base_rate']:,.0f} msg/s", f">= {TARGETS['classify_rate']:.0f} msg/s",
                     _verdict(cls["rate"] >= TARGETS["classify_rate"])))
        rows.append(("  latency p99 (max)", f"{cls['p99_ms']:.1f} ms ({cls['max_ms']:.0f} ms)",
                     f"{cls['base_p99_ms']:.1f} ms ({cls['base_max_ms']:.0f} ms)", "", ""))
    dmn = results.get("daemon")
    if dmn:
        d, f = dmn["daemon"], dmn["floor"]
        rows.append((f"daemon idle {dmn['seconds']:.0f} s, 2 accounts: RSS (max)", f"{d['rss_mb']:.1f} MB",
                     f"bare IDLE watcher {f['rss_mb']:.1f} MB", f"< {TARGETS['daemon_rss_mb']:.0f} MB",
                     _verdict(d["rss_mb"] < TARGETS["daemon_rss_mb"])))
        rows.append(("  CPU of one core", f"{d['cpu_pct']:.3f} %", f"{f['cpu_pct']:.3f} %",
                     f"< {TARGETS['daemon_cpu_pct']:.0f} %", _verdict(d["cpu_pct"] < TARGETS["daemon_cpu_pct"])))
    header = ("measure", "ours", "baseline (same run)", "target", "result")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    return "\n".join([line, sep, *body])


# ---------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=2, help="runs of the floor and of our sync; the best counts")
    parser.add_argument("--daemon-seconds", type=float, default=60.0)
    parser.add_argument("--cache", type=Path, default=None, help="where the generated mailbox is kept (default /dev/shm)")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--skip-daemon", action="store_true")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of our cold sync")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw figures here")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("params", nargs="?", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(CHILDREN[args.child](json.loads(args.params))))
        return 0

    from dovecot import DovecotFactory, find_dovecot

    binary = find_dovecot()
    if binary is None:
        print("dovecot is not installed (Debian: apt-get install dovecot-imapd; `make bench` does it as root)")
        return 1
    began = time.perf_counter()
    cache, manifest = ensure_cache(args.cache or default_cache_root(), args.messages, args.seed)
    now = datetime.fromisoformat(manifest["now"])
    since = (now - timedelta(days=WINDOW_DAYS)).date()
    results: dict = {"manifest": manifest, "machine": machine()}
    print(f"mailbox: {manifest['messages']:,} messages ({manifest['folders']}), {manifest['bytes'] / 1e9:.2f} GB, "
          f"{manifest['in_window']:,} in the last {WINDOW_DAYS} days, {manifest['job']} job mail, "
          f"{manifest['attachments']} with 1-5 MB attachments", flush=True)
    factory = DovecotFactory(binary)
    work = Path(tempfile.mkdtemp(prefix="followup-bench-"))
    try:
        server = factory("bench")
        user, password = server.new_user()
        t0 = time.perf_counter()
        populate(server, user, cache)
        warm_up(server, user, since)
        print(f"Dovecot on {server.root} ready in {time.perf_counter() - t0:.1f} s (index built once, not timed)",
              flush=True)
        params = {"host": server.host, "port": server.port, "user": user, "password": password,
                  "since": since.isoformat()}
        config = write_config(work, server, user, password)
        state = work / f"{ACCOUNT}-state"

        floors, ours = [], []
        for attempt in range(max(1, args.repeat)):
            floors.append(run_child("floor", params))
            print(f"  floor: {floors[-1]['wall']:.2f} s, {_mb(floors[-1]['rx'])}", flush=True)
            if ours and ours[0]["wall"] > 60:
                continue  # one slow run says enough; keep `make bench` to minutes
            shutil.rmtree(state, ignore_errors=True)
            ours.append(run_child("ours", {"config": str(config), "now": now.isoformat(),
                                           "profile": args.profile and attempt == 0}))
            print(f"  ours:  {ours[-1]['wall']:.2f} s, {_mb(ours[-1]['rx'])}, {ours[-1]['bodies']} bodies", flush=True)
            if "profile" in ours[-1]:
                print(ours[-1].pop("profile"))
        results["floor"] = min(floors, key=lambda r: r["wall"])
        results["ours"] = min(ours, key=lambda r: r["wall"])
        results["ours_runs"] = [r["wall"] for r in ours]
        results["floor_runs"] = [r["wall"] for r in floors]
        if not args.skip_naive:
            results["naive"] = run_child("naive", params, timeout=1800)
            print(f"  naive: {results['naive']['wall']:.1f} s, {_mb(results['naive']['rx'])}", flush=True)
        # the state of the last cold sync is the one the polls continue from
        results["poll"] = run_child("poll", {**params, "config": str(config), "now": now.isoformat(),
                                             "arrivals": str(cache / "arrivals")})
        print(f"  idle poll: {results['poll']['idle'][-1]}; incremental: {results['poll']['incremental']}", flush=True)
        results["classify"] = run_child("classify", {})
        print(f"  classification: {results['classify']['rate']:.0f} msg/s", flush=True)
        server.stop()
        if not args.skip_daemon:
            print(f"  daemon footprint: {args.daemon_seconds:.0f} s idle ...", flush=True)
            results["daemon"] = measure_daemon(factory, args.daemon_seconds, args.seed)
    finally:
        factory.cleanup()
        shutil.rmtree(work, ignore_errors=True)

    table = render(results)
    print(f"\nmachine: {results['machine']}")
    print(f"whole run: {time.perf_counter() - began:.0f} s\n")
    print(table)
    results["table"] = table
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    missed = table.count("| MISS")
    print(f"\n{'all targets met' if not missed else f'{missed} target(s) missed'}; "
          f"the 10-minute daemon figure: --daemon-seconds 600")
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
