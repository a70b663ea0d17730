"""One cycle of the program for every account: sync, confirmations by tag
(:mod:`followup.confirmations`), then (when the engine is present) decide and place drafts.
The CLI's ``once`` and the daemon's poll job both call :func:`run_cycle`.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from followup.config import Config
from followup.core.model import Classification, Facts, Message
from followup.engine import EngineReport, policy_settings, run_engine
from followup.errors import FollowupError, MailboxError
from followup.mailbox.base import Mailbox
from followup.store.db import Store
from followup.sync import Progress, SyncContext, SyncReport, sync_account

log = logging.getLogger(__name__)


def message_reader(config: Config) -> Callable[[Message], tuple[Classification, Facts]]:
    """Return the classifier + fact extractor bound to the user's addresses and time zone."""
    from followup.core.extract import read_message

    tz, users = config.tz, config.user_addresses()

    def read(message: Message) -> tuple[Classification, Facts]:
        return read_message(message, tz=tz, user_addresses=users)

    return read


def sync_context(config: Config, progress: Progress | None = None) -> SyncContext:
    from followup.core.prefilter import body_need

    return SyncContext(reader=message_reader(config), could_matter=body_need,
                       user_addresses=config.user_addresses(), tz=config.tz,
                       window_days=config.sync.window_days, batch_size=config.sync.batch_size,
                       progress=progress)


@dataclass
class CycleReport:
    """What one cycle did, per account; ``errors`` maps an account to its one-line error."""

    syncs: list[SyncReport] = field(default_factory=list)
    engines: list[EngineReport] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    imap_commands: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    #: the exception behind each entry of ``errors`` (the daemon sorts them: retry, pause, …)
    failures: dict[str, MailboxError] = field(default_factory=dict)
    #: per account, the (Message-ID, label) pairs the user confirmed by a tag in the mail
    confirmed: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def run_cycle(config: Config, store: Store, now: datetime, *,
              mailboxes: dict[str, Mailbox] | None = None,
              progress: Progress | None = None,
              accounts: Iterable[str] | None = None,
              log_errors: bool = True) -> CycleReport:
    """Sync every account (or only those named in ``accounts``); one failing account never stops
    the others. Never raises MailboxError. Mailboxes passed in are connected but not closed.
    ``log_errors=False`` leaves logging the failures to the caller (the daemon sorts them)."""
    from followup.mailbox.factory import open_mailbox

    report = CycleReport()
    ctx = sync_context(config, progress)
    threshold = policy_settings(config).confidence_threshold
    wanted = None if accounts is None else set(accounts)
    for account in config.accounts:
        if wanted is not None and account.name not in wanted:
            continue
        mailbox = (mailboxes or {}).get(account.name)
        own = mailbox is None
        started = time.perf_counter()
        try:
            if mailbox is None:
                mailbox = open_mailbox(config, account.name)
            mailbox.connect()
            report.syncs.append(sync_account(mailbox, store, ctx, now))
            report.confirmed[account.name] = confirm_by_tags(mailbox, store, account.name, threshold)
            report.engines.append(run_engine(mailbox, store, config, now))
            if getattr(mailbox, "labels", False) is True and callable(getattr(mailbox, "apply_stage_labels", None)):
                from followup.mailbox.gmail import stage_threads  # Gmail's optional Jobs/… labels

                mailbox.apply_stage_labels(stage_threads(store, account.name))
        except MailboxError as exc:
            report.errors[account.name] = str(exc)
            report.failures[account.name] = exc
            if log_errors:
                log.error("%s: %s", account.name, exc)
        except FollowupError:
            raise
        finally:
            if own and mailbox is not None:
                mailbox.close()
            if mailbox is not None and hasattr(mailbox, "commands_issued"):
                report.imap_commands[account.name] = mailbox.commands_issued
            report.seconds[account.name] = time.perf_counter() - started
    return report


def confirm_by_tags(mailbox: Mailbox, store: Store, account: str, threshold: float) -> list[tuple[str, str]]:
    """:func:`followup.confirmations.confirm_from_tags`, whose failure costs only this cycle's
    confirmations (logged; the engine runs anyway and the next cycle asks again)."""
    from followup.confirmations import confirm_from_tags

    try:
        return confirm_from_tags(mailbox, store, account, threshold)
    except MailboxError as exc:
        log.warning("%s: tags not read, confirmations wait for the next cycle: %s", account, exc)
    except Exception:  # noqa: BLE001 - an optional step must not cost the drafts
        log.exception("%s: confirmations by tag failed; the engine runs without them", account)
    return []


def terminal_progress() -> tuple[Progress | None, Callable[[], None]]:
    """A rich progress bar on a terminal (stderr), nothing otherwise; returns (callback, stop)."""
    if not sys.stderr.isatty():
        return None, lambda: None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn

    bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=True)
    tasks: dict[str, int] = {}
    bar.start()

    def update(label: str, done: int, total: int) -> None:
        if label not in tasks:
            tasks[label] = bar.add_task(label, total=total)
        bar.update(tasks[label], completed=done, total=total)

    return update, bar.stop
