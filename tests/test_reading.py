"""Reading fetched mail in this process or in a worker process (followup.reading)."""

from __future__ import annotations

import functools
import logging
import os
import signal
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from followup.core.extract import read_message
from followup.core.model import Label
from followup import reading
from followup.reading import MailItem, MailReader, read_mail, worth_a_worker

INVITATION = (
    b"From: Rita Recruiter <rita@globex.example>\r\nTo: Dana <dana@example.net>\r\n"
    b"Subject: Interview for Data Engineer at Globex\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n"
    b"Message-ID: <invite-1@globex.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Hi Dana,\r\n\r\nThank you for applying to the Data Engineer role. We would like to invite you to "
    b"an interview. Could you let us know your availability next week?\r\n\r\nRita\r\n"
)
NEWSLETTER = (
    b"From: News <news@shop.example>\r\nSubject: Deals\r\nMessage-ID: <n-1@shop.example>\r\n"
    b"Date: Mon, 2 Nov 2026 10:00:00 +0000\r\n\r\nBig deals this week.\r\n"
)
READER = functools.partial(read_message, tz=ZoneInfo("America/New_York"), user_addresses=frozenset({"dana@example.net"}))
ITEMS = [MailItem(INVITATION, datetime(2026, 11, 2, 10, tzinfo=UTC)), MailItem(NEWSLETTER, None),
         MailItem(NEWSLETTER, None, classify=False)]


def test_read_mail_parses_and_reads_each_message_in_order():
    readings = read_mail(ITEMS, READER)
    assert [r.message.message_id for r in readings] == ["<invite-1@globex.example>", "<n-1@shop.example>",
                                                        "<n-1@shop.example>"]
    assert readings[0].answer is not None and readings[0].answer[0].label is Label.INTERVIEW_INVITATION
    assert readings[1].answer is not None and readings[1].answer[0].label is Label.OTHER
    assert readings[2].answer is None and readings[2].failure is None  # parsed only


def test_a_reader_that_raises_leaves_the_message_parsed_with_the_failure_named():
    def broken(message):
        raise RuntimeError("classifier bug")

    [only] = read_mail(ITEMS[:1], broken)
    assert only.message.message_id == "<invite-1@globex.example>"
    assert only.answer is None
    assert "RuntimeError: classifier bug" in (only.failure or "")


def test_without_a_worker_the_readings_are_made_here():
    with MailReader(READER, worker=False) as reader:
        assert reader._pool is None
        assert reader.read(ITEMS).result() == read_mail(ITEMS, READER)


def test_a_worker_process_gives_the_same_readings_as_this_process():
    with MailReader(READER, worker=True) as reader:
        assert reader._pool is not None
        pending = [reader.read(ITEMS), reader.read(ITEMS[:1])]
        assert pending[0].result() == read_mail(ITEMS, READER)
        assert pending[1].result() == read_mail(ITEMS[:1], READER)
    assert reader._pool is None  # stopped on leaving


def test_a_reader_that_cannot_be_pickled_reads_here_instead_of_in_a_worker():
    with MailReader(lambda message: READER(message), worker=True) as reader:
        assert reader._pool is None
        assert reader.read(ITEMS[:1]).result() == read_mail(ITEMS[:1], READER)


def test_a_worker_killed_on_the_way_loses_nothing_the_readings_are_made_here(caplog):
    caplog.set_level(logging.WARNING, logger="followup.reading")
    with MailReader(READER, worker=True) as reader:
        assert reader.read(ITEMS[:1]).result() == read_mail(ITEMS[:1], READER)  # the worker is up
        for pid in list(reader._pool._processes):  # type: ignore[union-attr]
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
        assert reader.read(ITEMS).result() == read_mail(ITEMS, READER)
        assert reader.read(ITEMS[:1]).result() == read_mail(ITEMS[:1], READER)
        assert reader._pool is None
    assert len([r for r in caplog.records if "reading in this process" in r.getMessage()]) == 1


@pytest.mark.parametrize(("new", "cpus", "expected"), [
    (reading.WORKER_FROM, 2, True),
    (reading.WORKER_FROM - 1, 2, False),
    (50_000, 1, False),
])
def test_a_worker_is_worth_it_for_large_syncs_on_machines_with_a_second_cpu(monkeypatch, new, cpus, expected):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cpus)))
    assert worth_a_worker(new) is expected


def test_header_blocks_parsed_in_a_worker_are_the_messages_parsed_here():
    blocks = [(raw.partition(b"\r\n\r\n")[0] + b"\r\n\r\n", at) for raw, at in
              ((INVITATION, None), (NEWSLETTER, datetime(2026, 11, 2, tzinfo=UTC)))]
    here = reading.parse_header_blocks(blocks)
    assert [m.message_id for m in here] == ["<invite-1@globex.example>", "<n-1@shop.example>"]
    for worker in (True, False):
        with MailReader(READER, worker=worker) as reader:
            there = reader.parse_headers(blocks).result()
        assert there == here and [m.headers for m in there] == [m.headers for m in here]
