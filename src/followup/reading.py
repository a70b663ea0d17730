"""Reading fetched mail (parsing header blocks; parsing, classifying and extracting facts from
bodies): in this process, or in one worker process during a large sync, so that reading one
batch overlaps fetching and storing the next (see :func:`followup.sync.sync_folder`).

Why a process: reading is pure Python CPU work (threads would wait on the GIL), and on a cold
sync it is half of the CPU after the fetch. Why spawned and not forked: the daemon
runs threads (scheduler, IDLE watchers), and a forked child could inherit a lock one of them
holds. A spawned worker costs ~0.3 s of the other core to start, so the sync asks for it only
for large syncs and only on machines with more than one CPU (:func:`worth_a_worker`).

Nothing is lost when the worker is not there or breaks: :class:`MailReader` reads in this
process instead (and says so once in the log).
"""

from __future__ import annotations

import logging
import os
import pickle
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from multiprocessing import get_context

from followup.core.model import Classification, Facts, Message
from followup.core.parse import parse_headers, parse_message

log = logging.getLogger(__name__)

Reader = Callable[[Message], tuple[Classification, Facts]]

#: A sync of at least this many new messages in one folder reads them in a worker process.
WORKER_FROM = 1000


@dataclass(frozen=True)
class Reading:
    """A parsed message and, when it was read, the reader's answer or why it failed."""

    message: Message
    answer: tuple[Classification, Facts] | None = None
    failure: str | None = None  # the reader's exception with its traceback


@dataclass(frozen=True)
class MailItem:
    """One fetched message to read; ``classify``: False parses only (drafts)."""

    raw: bytes
    received_at: datetime | None
    classify: bool = True


def read_mail(items: Sequence[MailItem], reader: Reader) -> list[Reading]:
    """Given fetched messages, return their readings in the same order. Never raises for a
    message: a reader that raises leaves the message parsed, with ``failure`` set."""
    readings = []
    for item in items:
        message = parse_message(item.raw, received_at=item.received_at)
        if not item.classify:
            readings.append(Reading(message))
            continue
        try:
            readings.append(Reading(message, reader(message)))
        except Exception:  # noqa: BLE001 - a classifier bug must not lose the message
            readings.append(Reading(message, failure=traceback.format_exc()))
    return readings


def parse_header_blocks(blocks: Sequence[tuple[bytes, datetime | None]]) -> list[Message]:
    """Given (header block, received at) pairs, return :func:`parse_headers` of each, in order."""
    return [parse_headers(raw, received_at=received_at) for raw, received_at in blocks]


def worth_a_worker(new_messages: int) -> bool:
    """Whether a sync of ``new_messages`` should read in a worker process: enough mail to pay
    for starting one, and a second CPU for it to run on."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return new_messages >= WORKER_FROM and cpus > 1


class MailReader:
    """Reads batches of fetched mail with ``reader``: :meth:`read` and :meth:`parse_headers`
    return a :class:`Pending` whose ``result()`` gives the answer. With ``worker=True`` (and a reader that can be
    pickled) they are read in one spawned worker process, started by :meth:`start`; otherwise,
    and after the worker failed, in this process at ``result()``. Use as a context manager:
    leaving it stops the worker."""

    def __init__(self, reader: Reader, *, worker: bool) -> None:
        self._reader = reader
        self._want_worker = worker
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> MailReader:
        """Start the worker when one was asked for (it imports while the caller fetches)."""
        if not self._want_worker or self._pool is not None:
            return self
        try:
            pickle.dumps(self._reader)
        except Exception:  # noqa: BLE001 - e.g. a lambda in tests: read here
            log.debug("the reader cannot go to a worker process; reading in this one")
            self._want_worker = False
            return self
        try:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"),
                                             initializer=_install, initargs=(self._reader,))
            self._pool.submit(_ready)  # start it now, not at the first batch
        except (OSError, RuntimeError) as exc:
            log.warning("could not start a worker process (%s); reading in this one", exc)
            self._pool = None
            self._want_worker = False
        return self

    def read(self, items: Sequence[MailItem]) -> Pending:
        """Read ``items`` (:func:`read_mail`); ``.result()`` gives the readings."""
        return self._submit(_read_installed, list(items))

    def parse_headers(self, blocks: Sequence[tuple[bytes, datetime | None]]) -> Pending:
        """Parse header blocks (:func:`parse_header_blocks`); ``.result()`` gives the Messages."""
        return self._submit(parse_header_blocks, list(blocks))

    def _submit(self, task: Callable, items: list) -> Pending:
        if self._pool is not None and items:
            try:
                return Pending(self, task, items, self._pool.submit(task, items))
            except (BrokenProcessPool, RuntimeError) as exc:
                self._broke(exc)
        return Pending(self, task, items, None)

    def _broke(self, exc: BaseException) -> None:
        if self._pool is not None:
            log.warning("the worker process reading mail failed (%s); reading in this process", exc)
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
            self._want_worker = False

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> MailReader:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Pending:
    """A task's answer on its way: from the worker, or computed here on ``result()`` (also when
    the worker failed on the way, so nothing is lost)."""

    def __init__(self, owner: MailReader, task: Callable, items: list, future: Future | None) -> None:
        self._owner, self._task, self._items, self._future = owner, task, items, future

    def result(self) -> list:
        if self._future is not None:
            try:
                return self._future.result()
            except Exception as exc:  # noqa: BLE001 - BrokenProcessPool, a pickling error, …
                self._owner._broke(exc)
        if self._task is _read_installed:
            return read_mail(self._items, self._owner._reader)
        return self._task(self._items)


_installed: Reader | None = None


def _install(reader: Reader) -> None:
    global _installed
    _installed = reader


def _ready() -> bool:
    return True


def _read_installed(items: list[MailItem]) -> list[Reading]:
    assert _installed is not None
    return read_mail(items, _installed)
