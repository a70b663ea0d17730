"""``followup run``: the long-running daemon (APScheduler 3.x) behind the systemd service.

How it is put together::

    main thread ─ Daemon.run(): signals (TERM/INT stop, HUP reload), sd_notify (READY, STATUS,
    │             WATCHDOG, STOPPING), the watchdog's health check; sleeps on an Event otherwise
    ├─ BackgroundScheduler (jobs in memory, rebuilt from the config; all durable state is in SQLite)
    │   ├─ poll:<account>   interval = sync.poll_interval_seconds + jitter, coalesce, max_instances=1:
    │   │                   one cycle (sync, classify, engine) for that account only
    │   ├─ digest           cron at digest.hour (local time), hourly after it until midnight, and
    │   │                   once soon after start; ``followup.digest_job`` sends at most one a day
    │   │                   (the later runs retry a failed delivery or one missed while off)
    │   └─ housekeeping     every 6 hours: WAL checkpoint, PRAGMA optimize
    └─ IdleWatcher thread per IMAP account offering IDLE: its own connection, INBOX examined,
       re-IDLE every 9 minutes; new mail wakes that account's poll job, and so does every
       reconnect (the reconciling poll).

Accounts are isolated: each has its own job, its own connections and its own lock (two cycles of
one account never overlap, even across a reload). What happens after a failure, by class
(:mod:`followup.errors`):

- TransientError / ProtocolError / StoreError / a bug: the cycle's committed work stays (the sync
  moves a cursor only with the batch it covers); the account is retried with exponential
  backoff and jitter (``backoff_base`` doubling up to ``backoff_max``), never in a tight loop.
- AuthError: one critical line saying what to do; that account is paused until a reload
  (SIGHUP) or a restart. Other accounts go on.
- ConfigError (bad config or secret at start): raised to the command line, exit 78. At run
  time (a certificate failing verification; FolderNotFound, when Sent or Drafts is still
  missing after two retries) the account is paused like for an AuthError. A reload with a
  broken config keeps the running one.

Stopping (SIGTERM) asks running cycles to stop at their next batch boundary (between
transactions), waits ``stop_grace`` seconds, then cuts their connections; the process exits
0 within a few seconds. Nothing here queues work: a wake-up is a flag, and the scheduler
coalesces missed runs into one.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from followup.config import Config, ImapAccount, load_config
from followup.errors import (
    AuthError,
    ConfigError,
    FolderNotFound,
    FollowupError,
    MailboxError,
    StoreError,
    TransientError,
)
from followup.logs import cycle_summary
from followup.mailbox.base import Mailbox
from followup.sdnotify import Notifier
from followup.store.db import Store

log = logging.getLogger(__name__)

#: Re-IDLE at most this often: servers drop idle connections after 10-30 minutes (Gmail ~10-13).
IDLE_SECONDS = 9 * 60
HOUSEKEEPING_HOURS = 6
#: The watchdog stops being fed when a cycle has made no progress for this long.
STUCK_AFTER = timedelta(minutes=15)

MailboxFactory = Callable[[Config, str], Mailbox]


class ShutdownRequested(Exception):
    """Raised inside a cycle (between batches) when the daemon is stopping."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def backoff_delay(failures: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait after the n-th consecutive failure: base * 2^(n-1), capped, ±25 % jitter."""
    rng = rng or random
    delay = min(cap, base * (2 ** max(0, failures - 1)))
    return max(0.1, delay * rng.uniform(0.75, 1.25))


@dataclass
class AccountState:
    """What the daemon knows about one account. Guarded by ``Daemon._lock``."""

    name: str
    mailbox: Mailbox
    kind: str
    running: bool = False
    poke: bool = False
    started: float | None = None  # monotonic time the running cycle started or last progressed
    failures: int = 0
    paused: str | None = None
    cycles: int = 0
    placed: int = 0
    last_poll: datetime | None = None
    last_error: str | None = None
    idle: IdleWatcher | None = None
    placed_on: dict[str, int] = field(default_factory=dict)  # local date -> drafts placed


class Daemon:
    """The daemon for one config file. ``run()`` blocks until stopped and returns the exit code.

    The keyword arguments exist for tests (short intervals and backoffs, a fake clock source for
    ``now``, a mailbox factory that injects faults); production uses the defaults.
    """

    def __init__(self, config_path: Path | str | None, *, idle: bool = True,
                 poll_interval: float | None = None, backoff_base: float = 15.0,
                 backoff_max: float = 900.0, idle_seconds: float = IDLE_SECONDS,
                 idle_tick: float = 30.0, stop_grace: float = 5.0, first_poll_delay: float = 0.0,
                 mailbox_factory: MailboxFactory | None = None,
                 clock: Callable[[], datetime] = utc_now, notifier: Notifier | None = None) -> None:
        self.config_path = config_path
        self.idle_enabled = idle
        self.poll_interval = poll_interval
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.idle_seconds = idle_seconds
        self.idle_tick = idle_tick
        self.stop_grace = stop_grace
        self.first_poll_delay = first_poll_delay
        self.clock = clock
        self.notifier = notifier or Notifier()
        self._mailbox_factory = mailbox_factory
        self._lock = threading.Lock()
        self._account_locks: dict[str, threading.Lock] = {}
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._reload_requested = False
        self._ready = threading.Event()
        self._digest_missing_logged = False
        self._loaded: tuple[Config | None, dict[str, Mailbox]] = (None, {})
        self.accounts: dict[str, AccountState] = {}
        self.scheduler = None
        self.config: Config = self.load()

    # -- configuration -------------------------------------------------------------------

    def load(self) -> Config:
        """Load and check the config and every account's secret; raises ConfigError listing all."""
        config = load_config(self.config_path)
        # Every secret is resolved now: a missing one is a startup (or reload) error.
        self._loaded = (config, self._mailboxes_for(config))
        return config

    def _mailboxes_for(self, config: Config) -> dict[str, Mailbox]:
        from followup.mailbox.factory import open_mailbox

        factory = self._mailbox_factory or open_mailbox
        boxes: dict[str, Mailbox] = {}
        problems: list[str] = []
        for account in config.accounts:
            try:
                boxes[account.name] = factory(config, account.name)
            except ConfigError as exc:
                problems.extend(exc.problems or [str(exc)])
        if problems:
            raise ConfigError(f"{config.source or 'the config'}: {len(problems)} problem(s) with "
                              "the accounts' secrets", problems)
        return boxes

    def interval(self, config: Config) -> float:
        return float(self.poll_interval or config.sync.poll_interval_seconds)

    # -- lifecycle -----------------------------------------------------------------------

    def run(self) -> int:
        """Start, serve until SIGTERM/SIGINT (or :meth:`request_stop`), stop; return 0."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
            signal.signal(signal.SIGHUP, self._on_signal)
        self.start()
        try:
            self._serve()
        finally:
            self.stop()
        return 0

    def start(self) -> None:
        from apscheduler.events import EVENT_JOB_MAX_INSTANCES
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=32)},  # threads are made lazily
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=self.config.tz)
        self.scheduler.add_listener(self._on_skipped, EVENT_JOB_MAX_INSTANCES)
        logging.getLogger("apscheduler.scheduler").addFilter(_handled_by_us)
        self._install(self.config)
        self.scheduler.start()
        self._ready.set()
        names = ", ".join(f"{a.name} ({a.kind})" for a in self.accounts.values())
        log.info("started: %d account(s): %s; polling every %g s%s", len(self.accounts), names,
                 self.interval(self.config), "" if self.idle_enabled else "; IDLE off")
        self.notifier.ready(self.status_line())

    def _install(self, config: Config) -> None:
        """Add the jobs and IDLE watchers of ``config`` (the scheduler holds none before)."""
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        loaded_config, boxes = self._loaded
        if loaded_config is not config:
            boxes = self._mailboxes_for(config)
        interval = self.interval(config)
        jitter = max(1, min(30, int(interval // 10)))
        now = datetime.now(UTC)
        with self._lock:
            self.accounts = {}
            for account in config.accounts:
                self._account_locks.setdefault(account.name, threading.Lock())
                self.accounts[account.name] = AccountState(account.name, boxes[account.name], account.type)
        for index, account in enumerate(config.accounts):
            self.scheduler.add_job(
                self._poll_job, IntervalTrigger(seconds=interval, jitter=jitter), args=[account.name],
                id=f"poll:{account.name}", name=f"poll {account.name}",
                next_run_time=now + timedelta(seconds=self.first_poll_delay + index))
        if config.digest.enabled:
            # At digest.hour, and hourly after it until midnight: send_digest_if_due sends at most
            # one a day, so the later runs only retry a failed delivery.
            self.scheduler.add_job(self._digest_job, CronTrigger(hour=f"{config.digest.hour}-23", minute=0,
                                                                 timezone=config.tz),
                                   id="digest", name="daily digest",
                                   next_run_time=now + timedelta(seconds=max(60.0, self.first_poll_delay)))
        self.scheduler.add_job(self._housekeeping_job, IntervalTrigger(hours=HOUSEKEEPING_HOURS),
                               id="housekeeping", name="housekeeping")
        if self.idle_enabled:
            for account in config.accounts:
                if isinstance(account, ImapAccount):
                    self._start_idle(config, account.name)

    def _start_idle(self, config: Config, name: str) -> None:
        box = self._mailboxes_for_one(config, name)
        if box is None or not hasattr(box, "idle_wait"):
            return
        watcher = IdleWatcher(self, name, box, seconds=self.idle_seconds, tick=self.idle_tick)
        with self._lock:
            self.accounts[name].idle = watcher
        watcher.start()

    def _mailboxes_for_one(self, config: Config, name: str) -> Mailbox | None:
        from followup.mailbox.factory import open_mailbox

        try:
            return (self._mailbox_factory or open_mailbox)(config, name)
        except ConfigError:
            return None  # reported by the poll job's mailbox already

    def _serve(self) -> None:
        """The main thread's loop: signals, reloads, status and the watchdog."""
        watchdog = self.notifier.watchdog_seconds
        tick = min(30.0, watchdog / 3) if watchdog else 30.0
        last_status = ""
        while not self._stopping.is_set():
            self._wake.wait(tick)
            self._wake.clear()
            if self._stopping.is_set():
                break
            if self._reload_requested:
                self._reload_requested = False
                self.reload()
            if watchdog and self.healthy():
                self.notifier.watchdog()
            status = self.status_line()
            if status != last_status:
                self.notifier.status(status)
                last_status = status

    def request_stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def request_reload(self) -> None:
        self._reload_requested = True
        self._wake.set()

    def wait_ready(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    def _on_signal(self, signum: int, frame: object) -> None:
        if signum == signal.SIGHUP:
            self.request_reload()
        else:
            self.request_stop()

    def stop(self) -> None:
        """Stop within a few seconds: cycles stop at a batch boundary; connections are cut after
        ``stop_grace`` seconds. Idempotent."""
        self._stopping.set()
        self.notifier.stopping("stopping")
        log.info("stopping")
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        with self._lock:
            watchers = [a.idle for a in self.accounts.values() if a.idle is not None]
        for watcher in watchers:
            watcher.stop()
        deadline = time.monotonic() + self.stop_grace
        while self._running_accounts() and time.monotonic() < deadline:
            time.sleep(0.05)
        busy = self._running_accounts()
        if busy:
            log.warning("cutting the connections of %s: still busy after %g s", ", ".join(busy), self.stop_grace)
            for name in busy:
                _cut(self.accounts[name].mailbox)
            deadline = time.monotonic() + 2.0
            while self._running_accounts() and time.monotonic() < deadline:
                time.sleep(0.05)
        for watcher in watchers:
            watcher.join(timeout=max(0.5, self.idle_tick + 1))
        self.notifier.close()
        log.info("stopped")

    def _running_accounts(self) -> list[str]:
        with self._lock:
            return [a.name for a in self.accounts.values() if a.running]

    def still_busy(self) -> bool:
        """True when a cycle or an IDLE thread has not ended (the caller must not wait for it)."""
        with self._lock:
            return any(a.running or (a.idle is not None and a.idle.is_alive()) for a in self.accounts.values())

    def reload(self) -> None:
        """SIGHUP: read the config again; a broken one is reported and the running one kept."""
        self.notifier.reloading()
        try:
            config = self.load()
        except ConfigError as exc:
            log.error("reload failed; keeping the running config: %s", exc)
            self.notifier.ready(self.status_line())
            return
        with self._lock:
            watchers = [a.idle for a in self.accounts.values() if a.idle is not None]
        for watcher in watchers:
            watcher.stop()
        self.scheduler.remove_all_jobs()
        for watcher in watchers:
            watcher.join(timeout=self.idle_tick + 1)
        self.config = config
        self._install(config)
        log.info("reloaded %s: %d account(s); paused accounts resume", config.source, len(config.accounts))
        self.notifier.ready(self.status_line())

    # -- health and status ---------------------------------------------------------------

    def healthy(self) -> bool:
        """False when the scheduler died or a cycle made no progress for STUCK_AFTER (the
        watchdog then lets systemd restart the service)."""
        if self.scheduler is None or not self.scheduler.running:
            return False
        limit = STUCK_AFTER.total_seconds()
        now = time.monotonic()
        with self._lock:
            for account in self.accounts.values():
                if account.running and account.started is not None and now - account.started > limit:
                    log.error("%s: no progress for %d minutes; letting the watchdog restart the service",
                              account.name, limit // 60)
                    return False
        return True

    def status_line(self) -> str:
        """E.g. "2 accounts, last poll 09:02, 2 drafts today" (systemctl status shows it)."""
        tz = self.config.tz
        today = datetime.now(UTC).astimezone(tz).date().isoformat()
        with self._lock:
            accounts = list(self.accounts.values())
        polls = [a.last_poll for a in accounts if a.last_poll is not None]
        parts = [f"{len(accounts)} account{'s' if len(accounts) != 1 else ''}"]
        parts.append(f"last poll {max(polls).astimezone(tz):%H:%M}" if polls else "first poll running")
        drafts = sum(a.placed_on.get(today, 0) for a in accounts)
        parts.append(f"{drafts} draft{'s' if drafts != 1 else ''} today")
        paused = [a.name for a in accounts if a.paused]
        if paused:
            parts.append(f"paused: {', '.join(paused)}")
        failing = [a.name for a in accounts if a.failures and not a.paused]
        if failing:
            parts.append(f"retrying: {', '.join(failing)}")
        return ", ".join(parts)

    # -- wake-ups (IDLE) -----------------------------------------------------------------

    def wake(self, name: str, reason: str) -> None:
        """Run the account's poll now (or once more right after the running one)."""
        with self._lock:
            account = self.accounts.get(name)
            if account is None or account.paused or self._stopping.is_set():
                return
            if account.running:
                account.poke = True
                return
        log.debug("%s: poll now (%s)", name, reason)
        self._reschedule(name, datetime.now(UTC))

    def _on_skipped(self, event) -> None:
        """A run was due while the previous one still ran: make the running one go once more."""
        name = event.job_id.removeprefix("poll:")
        if event.job_id.startswith("poll:"):
            self.wake(name, "a run was due while one was running")

    def _reschedule(self, name: str, when: datetime) -> None:
        try:
            self.scheduler.modify_job(f"poll:{name}", next_run_time=when)
        except Exception:  # noqa: BLE001 - removed by a reload, or the scheduler is stopping
            pass

    # -- jobs ----------------------------------------------------------------------------

    def _poll_job(self, name: str) -> None:
        """One account's cycle, then again while IDLE poked it meanwhile (bounded)."""
        account: AccountState | None = None
        with self._account_locks[name]:
            try:
                for _ in range(5):
                    with self._lock:
                        account = self.accounts.get(name)
                        if account is None or account.paused or self._stopping.is_set():
                            return
                        account.running, account.poke, account.started = True, False, time.monotonic()
                    self._cycle(account)
                    self.notifier.status(self.status_line())
                    with self._lock:
                        if not account.poke or account.paused or account.failures:
                            account.running = False  # under the lock: a later wake reschedules
                            return
                self._reschedule(name, datetime.now(UTC) + timedelta(seconds=5))  # still poked: soon
            finally:
                if account is not None:
                    with self._lock:
                        account.running = False

    def _cycle(self, account: AccountState) -> None:
        from followup.runner import run_cycle

        config = self.config
        name = account.name
        started = time.perf_counter()

        def progress(label: str, done: int, total: int) -> None:
            with self._lock:
                account.started = time.monotonic()
            if self._stopping.is_set():
                raise ShutdownRequested

        store = None
        before = 0
        try:
            store = Store.open(config.database_path)
            before = store.count_messages(name)
            now = self.clock()
            report = run_cycle(config, store, now, mailboxes={name: account.mailbox}, accounts=[name],
                               progress=progress, log_errors=False)
        except ShutdownRequested:
            log.info("%s: cycle interrupted by the stop; committed batches stay", name)
            return
        except ConfigError as exc:
            self._pause(account, exc, "the configuration")
            return
        except StoreError as exc:
            self._failed(account, exc, time.perf_counter() - started)
            return
        except Exception as exc:  # noqa: BLE001 - a bug must not kill the daemon or loop fast
            if self._stopping.is_set():
                log.info("%s: cycle ended by the stop (%s)", name, exc.__class__.__name__)
                return
            log.exception("%s: unexpected error in the cycle", name)
            self._failed(account, exc, time.perf_counter() - started, logged=True)
            return
        finally:
            account.mailbox.close()
            stored = _count(store, name) - before if store is not None else 0
            if store is not None:
                store.close()
        seconds = time.perf_counter() - started
        failure = report.failures.get(name)
        sync = report.syncs[0] if report.syncs else None
        engine = report.engines[0] if report.engines else None
        # A failed sync has no report, but the batches it committed count.
        fetched = sum(f.headers_fetched for f in sync.folders) if sync else stored
        classified = sync.stored if sync else stored
        placed = len(engine.placed) if engine else 0
        if failure is not None and self._stopping.is_set():
            log.info("%s: cycle ended by the stop", name)
            return
        log.info(cycle_summary(name, fetched=fetched, classified=classified, placed=placed,
                               errors=1 if failure else 0, seconds=seconds))
        today = datetime.now(UTC).astimezone(config.tz).date().isoformat()
        with self._lock:
            account.cycles += 1
            account.placed += placed
            if placed:
                account.placed_on = {today: account.placed_on.get(today, 0) + placed}
            if sync is not None:
                account.last_poll = datetime.now(UTC)
        if failure is None:
            self._succeeded(account)
            if engine is not None and engine.next_wakeup is not None:
                self._wake_at(name, engine.next_wakeup)
        elif isinstance(failure, AuthError):
            self._pause(account, failure, "the login")
        elif isinstance(failure, FolderNotFound) and account.failures >= 2:
            self._pause(account, failure, "finding the folders")  # a rename is retried twice first
        else:
            self._failed(account, failure, seconds)

    def _succeeded(self, account: AccountState) -> None:
        with self._lock:
            failures, account.failures, account.last_error = account.failures, 0, None
        if failures:
            log.info("%s: working again after %d failed attempt(s)", account.name, failures)

    def _failed(self, account: AccountState, exc: BaseException, seconds: float, *, logged: bool = False) -> None:
        """Retry later with exponential backoff and jitter (the cursor is untouched)."""
        with self._lock:
            account.failures += 1
            failures = account.failures
            account.last_error = str(exc)
        delay = backoff_delay(failures, self.backoff_base, self.backoff_max)
        if not logged:
            kind = "temporary failure" if isinstance(exc, (TransientError, StoreError)) else "failure"
            log.warning("%s: %s (attempt %d), retrying in %.0f s: %s", account.name, kind, failures,
                        delay, _one_line(exc))
        # Replaces the regular next run: sooner at first, later once the backoff outgrows the interval.
        self._reschedule(account.name, datetime.now(UTC) + timedelta(seconds=delay))

    def _pause(self, account: AccountState, exc: BaseException, what: str) -> None:
        """Stop polling the account until a reload: one clear critical line says what to do."""
        with self._lock:
            if account.paused:
                return
            account.paused = str(exc)
            watcher = account.idle
        if self.scheduler is not None:
            try:
                self.scheduler.pause_job(f"poll:{account.name}")
            except Exception:  # noqa: BLE001 - removed by a reload meanwhile
                pass
        if watcher is not None:
            watcher.stop()
        if isinstance(exc, AuthError):
            advice = ("check the username and the password or token (an app password where the "
                      "provider requires one), then reload: systemctl reload interview-followup "
                      "(or restart followup run)")
        else:
            advice = "fix it (followup doctor shows details), then reload: systemctl reload interview-followup"
        log.critical("%s: account paused, %s failed: %s. To resume: %s. Other accounts keep running.",
                     account.name, what, _one_line(exc), advice)

    def _wake_at(self, name: str, when: datetime) -> None:
        """Poll again at ``when`` (a draft falls due) if that is before the next regular poll."""
        job = self.scheduler.get_job(f"poll:{name}") if self.scheduler is not None else None
        if job is None or job.next_run_time is None:
            return
        when = max(when + timedelta(seconds=1), datetime.now(UTC) + timedelta(seconds=30))
        if when < job.next_run_time:
            log.debug("%s: next poll at %s, when a draft falls due", name, when.isoformat())
            self._reschedule(name, when)

    def _digest_job(self) -> None:
        try:
            from followup.digest_job import send_digest_if_due
        except ModuleNotFoundError as exc:
            if exc.name != "followup.digest_job":
                raise
            if not self._digest_missing_logged:
                log.warning("the daily digest is not available in this version; skipping it")
                self._digest_missing_logged = True
            return
        store = None
        try:
            store = Store.open(self.config.database_path)
            outcome = send_digest_if_due(self.config, store, self.clock())
            log.debug("digest: %s", getattr(outcome, "status", outcome))
        except MailboxError as exc:
            log.warning("digest: not delivered this time: %s", _one_line(exc))
        except FollowupError as exc:
            log.error("digest: %s", _one_line(exc))
        except Exception:  # noqa: BLE001
            log.exception("digest: unexpected error")
        finally:
            if store is not None:
                store.close()

    def _housekeeping_job(self) -> None:
        store = None
        try:
            store = Store.open(self.config.database_path)
            store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            store.db.execute("PRAGMA optimize")
            log.debug("housekeeping done")
        except Exception as exc:  # noqa: BLE001
            log.warning("housekeeping: %s", _one_line(exc))
        finally:
            if store is not None:
                store.close()


class IdleWatcher(threading.Thread):
    """One account's IDLE connection: wakes the poll job on new mail and after each reconnect."""

    def __init__(self, daemon: Daemon, name: str, mailbox, *, seconds: float, tick: float) -> None:
        super().__init__(name=f"idle-{name}", daemon=True)
        self.owner = daemon
        self.account = name
        self.mailbox = mailbox
        self.seconds = seconds
        self.tick = tick
        self._stop_event = threading.Event()

    def stop(self) -> None:
        """Ask the thread to end; its connection is cut, so a blocked IDLE returns at once."""
        self._stop_event.set()
        _cut(self.mailbox)

    @property
    def stopping(self) -> bool:
        return self._stop_event.is_set() or self.owner._stopping.is_set()

    def run(self) -> None:
        failures = 0
        connected_before = False
        try:
            while not self.stopping:
                try:
                    self.mailbox.connect()
                    if not self.mailbox.supports_idle:
                        log.info("%s: the server offers no IDLE; polling only", self.account)
                        return
                    if connected_before or failures:
                        log.info("%s: IDLE connection back; reconciling poll", self.account)
                        self.owner.wake(self.account, "IDLE reconnected")
                    else:
                        log.debug("%s: IDLE connected", self.account)
                    connected_before, failures = True, 0
                    while not self.stopping:
                        if self.mailbox.idle_wait(self.seconds, should_stop=lambda: self.stopping,
                                                  tick=self.tick):
                            self.owner.wake(self.account, "new mail (IDLE)")
                except (AuthError, ConfigError, FolderNotFound) as exc:
                    log.debug("%s: IDLE ends: %s", self.account, exc)  # the poll job reports it
                    return
                except MailboxError as exc:
                    if self.stopping:
                        return
                    failures += 1
                    delay = backoff_delay(failures, 1.0, 60.0)
                    level = logging.INFO if failures == 1 else logging.DEBUG
                    log.log(level, "%s: IDLE connection lost (%s); reconnecting in %.0f s",
                            self.account, _one_line(exc), delay)
                    self._stop_event.wait(delay)
                except Exception:  # noqa: BLE001 - a bug here must not spin
                    failures += 1
                    log.exception("%s: IDLE: unexpected error", self.account)
                    self._stop_event.wait(backoff_delay(failures, 5.0, 300.0))
        finally:
            self.mailbox.close()


def _cut(mailbox: Mailbox) -> None:
    """Shut the socket of a busy mailbox from another thread, so its cycle ends now."""
    client = getattr(mailbox, "_client", None)
    imap = getattr(client, "_imap", None)
    sock = getattr(imap, "sock", None)
    if sock is None:
        return
    try:
        import socket

        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _handled_by_us(record: logging.LogRecord) -> bool:
    """Drop APScheduler's warning about a skipped overlapping run: :meth:`Daemon._on_skipped`
    turns it into one more cycle, so nothing is lost and there is nothing to warn about."""
    return "maximum number of running instances reached" not in record.getMessage()


def _count(store: Store, account: str) -> int:
    try:
        return store.count_messages(account)
    except Exception:  # noqa: BLE001 - only for the summary line
        return 0


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text if len(text) <= 300 else text[:297] + "..."
