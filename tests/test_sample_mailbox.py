"""The sample mailbox that `followup demo` simulates: well-formed, threaded, inside its window.

These tests check the data, not the engine: every file is a clean RFC 5322 message, threads
point at messages that exist, dates carry a real offset of the sender's zone and fall inside the
demo window, and the calendar parts (including the reschedule and the cancellation) parse.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import followup
from followup.core.model import Message
from followup.core.parse import parse_message

SAMPLE = Path(followup.__file__).resolve().parent / "sample"
MAILBOX = SAMPLE / "mailbox"
NY = ZoneInfo("America/New_York")
#: The window README.md proposes for the demo (`--start` / `--end`).
WINDOW_START = datetime(2026, 2, 2, 0, 0, tzinfo=NY)
WINDOW_END = datetime(2026, 4, 7, 0, 0, tzinfo=NY)
USER = "dana.reyes@example.net"
#: One domain per application; README.md's table walks them.
EMPLOYERS = {
    "lumenfreight.example", "harborpine.example", "nordlicht-mobility.example",
    "cobaltridge.example", "marrowfinch.example", "fernhillcu.example", "orchardlane.example",
}
SENDER_ZONES = [ZoneInfo(z) for z in (
    "America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/Berlin", "UTC")]
NAME = re.compile(r"^(\d{10})\.M\d+P\d+\.sample:2,S$")


@lru_cache(maxsize=1)
def messages() -> tuple[tuple[Path, str, Message], ...]:
    out = []
    for path in sorted(MAILBOX.rglob("*")):
        if path.is_file():
            folder = "sent" if ".Sent" in path.parts else "inbox"
            out.append((path, folder, parse_message(path.read_bytes())))
    return tuple(out)


def by_id() -> dict[str, Message]:
    return {m.message_id: m for _, _, m in messages()}


def test_the_mailbox_holds_inbox_and_sent_mail_in_maildir_layout():
    folders = {p.parent.relative_to(MAILBOX).as_posix() for p, _, _ in messages()}
    assert folders == {"cur", ".Sent/cur"}
    assert sum(f == "inbox" for _, f, _ in messages()) >= 40
    assert sum(f == "sent" for _, f, _ in messages()) >= 10
    for path, _, message in messages():
        found = NAME.match(path.name)
        assert found, f"{path.name}: not a maildir name"
        # the name starts with the Date's epoch, so a directory listing is the timeline
        assert int(found.group(1)) == int(message.date.timestamp()), path.name


@pytest.mark.parametrize("index", range(len(messages())), ids=lambda i: messages()[i][0].name)
def test_every_message_parses_cleanly(index):
    path, folder, message = messages()[index]
    assert message.defects == (), message.defects
    assert not message.message_id.endswith("@followup.invalid>"), "no Message-ID header"
    assert message.date is not None and message.sender is not None and message.subject
    assert message.text.strip(), "empty body"
    raw = path.read_bytes()
    assert b"\nMIME-Version: 1.0" in b"\n" + raw and b"Content-Type:" in raw
    if folder == "sent":
        assert message.sender.email == USER
        assert message.sender.name == "Dana Reyes"
    else:
        assert USER in {a.email for a in message.to}
        assert message.sender.name, "every sender has a display name"


def test_message_ids_are_unique():
    ids = [m.message_id for _, _, m in messages()]
    assert len(ids) == len(set(ids))


def test_threads_point_at_messages_in_the_sample():
    known = by_id()
    replies = 0
    for path, _, message in messages():
        if message.in_reply_to:
            replies += 1
            parent = known.get(message.in_reply_to)
            assert parent is not None, f"{path.name}: In-Reply-To {message.in_reply_to} unknown"
            assert parent.date < message.date, f"{path.name} answers a later message"
            assert message.references and message.references[-1] == message.in_reply_to
        for ref in message.references:
            assert ref in known, f"{path.name}: References {ref} unknown"
    assert replies >= 20


def test_dates_lie_inside_the_demo_window_with_a_real_zone_offset():
    for path, _, message in messages():
        assert WINDOW_START <= message.date < WINDOW_END, path.name
        offset = message.date.utcoffset()
        assert any(message.date.astimezone(z).utcoffset() == offset for z in SENDER_ZONES), (
            f"{path.name}: offset {offset} is no sender zone's offset on that day")


def test_the_users_mail_uses_her_own_zone_and_berlin_and_los_angeles_employers_theirs():
    for _, folder, message in messages():
        if folder == "sent":
            assert message.date.utcoffset() == message.date.astimezone(NY).utcoffset()
    offsets = {(m.sender.domain, m.date.utcoffset().total_seconds() / 3600) for _, _, m in messages()}
    assert ("nordlicht-mobility.example", 1.0) in offsets
    assert ("cobaltridge.example", -8.0) in offsets and ("cobaltridge.example", -7.0) in offsets


def test_at_least_six_applications_with_distinct_employer_domains():
    seen = set()
    for _, folder, message in messages():
        people = message.to + message.cc if folder == "sent" else (message.sender,)
        for address in people:
            for employer in EMPLOYERS:
                if address.domain == employer or address.domain.endswith("." + employer):
                    seen.add(employer)
        for event in message.calendar:
            if event.organizer is not None and event.organizer.domain in EMPLOYERS:
                seen.add(event.organizer.domain)
    assert seen == EMPLOYERS and len(seen) >= 6


def test_every_calendar_part_parses_into_timed_events():
    with_calendar = [(p, m) for p, _, m in messages() if b"text/calendar" in p.read_bytes()]
    assert len(with_calendar) >= 9
    for path, message in with_calendar:
        assert message.calendar, f"{path.name}: calendar part did not parse"
        for event in message.calendar:
            assert event.start is not None and event.start.tzinfo is not None, path.name
            assert event.end is not None and event.end > event.start, path.name
            assert event.organizer is not None and event.uid, path.name
            assert event.method in ("REQUEST", "CANCEL"), path.name


def test_the_calendar_walks_reschedule_cancellation_and_rooms():
    events = [e for _, _, m in messages() for e in m.calendar]
    by_uid: dict[str, list] = {}
    for event in events:
        by_uid.setdefault(event.uid, []).append(event)
    # a reschedule: the same UID again with a higher SEQUENCE and a new time
    rescheduled = [evs for evs in by_uid.values()
                   if len({(e.sequence, e.start) for e in evs if e.method == "REQUEST"}) > 1]
    assert rescheduled and all(
        max(evs, key=lambda e: e.sequence).start != min(evs, key=lambda e: e.sequence).start
        for evs in rescheduled)
    # a cancellation of an event that was requested before, with a higher SEQUENCE
    cancels = [e for e in events if e.method == "CANCEL"]
    assert cancels
    for cancel in cancels:
        requested = [e for e in by_uid[cancel.uid] if e.method == "REQUEST"]
        assert requested and cancel.sequence > max(e.sequence for e in requested)
    cutypes = {a.cutype for e in events for a in e.attendees}
    assert {"ROOM", "RESOURCE"} <= cutypes
    # a panel: two human interviewers besides the user, organised by a recruiter not among them
    panels = [e for e in events if sum(
        a.cutype == "INDIVIDUAL" and a.address.email != USER for a in e.attendees) >= 2]
    assert panels
    # the times are in several zones: New York, Berlin, Los Angeles (across the DST change), UTC
    offsets = {e.start.utcoffset().total_seconds() / 3600 for e in events}
    assert {-5.0, 1.0, -8.0, -7.0, 0.0} <= offsets


def test_auto_replies_and_bulk_mail_carry_their_headers():
    ooo = [m for _, _, m in messages() if m.header("auto-submitted") == "auto-replied"]
    assert len(ooo) == 1 and "until Wednesday, March 25" in ooo[0].text
    bulk = [m for _, _, m in messages() if m.header("list-unsubscribe")]
    assert len(bulk) >= 4
    no_reply = {m.sender.email for _, _, m in messages() if m.sender.is_no_reply}
    assert "no-reply@hirepipeline.example" in no_reply
