"""Dates and times in prose, resolved against the message's Date (see textdates' conventions)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from followup.core.textdates import find_datetimes, find_return_date, resolve_timeline, resolve_zone

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
# Monday 2 March 2026, 10:00 in New York (US daylight time starts Sunday 8 March).
SENT = datetime(2026, 3, 2, 10, 0, tzinfo=NY)

TIMES = [
    ("Thursday, March 5th at 2:30pm ET", NY, "2026-03-05T14:30:00-05:00", None),
    ("05/03/2026 14:30 CET", NY, "2026-03-05T14:30:00+01:00", None),
    ("see you tomorrow at 10", NY, "2026-03-03T10:00:00-05:00", None),
    ("Tue 3/10 10:00-10:45 PT", NY, "2026-03-10T10:00:00-07:00", "2026-03-10T10:45:00-07:00"),
    ("Start: 2026-03-12T15:00:00+00:00", NY, "2026-03-12T15:00:00+00:00", None),
    ("on 2026-03-12 09:15", NY, "2026-03-12T09:15:00-04:00", None),
    ("scheduled for 14 April at 16:00 BST", NY, "2026-04-14T16:00:00+01:00", None),
    ("Monday, March 9 from 1-2pm CT", NY, "2026-03-09T13:00:00-05:00", "2026-03-09T14:00:00-05:00"),
    ("10:00am - 10:45am (Pacific Time - US & Canada) on Tuesday, March 10, 2026", NY,
     "2026-03-10T10:00:00-07:00", "2026-03-10T10:45:00-07:00"),
    ("Wednesday Mar 11, 2026 ⋅ 10:15am – 11:15am\nEastern Time - New York", NY,
     "2026-03-11T10:15:00-04:00", "2026-03-11T11:15:00-04:00"),
    ("Date: Thursday, March 12, 2026\nTime: 11:00 AM - 11:45 AM (Pacific Time)", NY,
     "2026-03-12T11:00:00-07:00", "2026-03-12T11:45:00-07:00"),
    ("Friday, 13 March 2026 at 7:30 PM IST", NY, "2026-03-13T19:30:00+05:30", None),
    ("the 5th of March at 09:30 GMT+1", NY, "2026-03-05T09:30:00+01:00", None),
    ("Thu, Mar 5 @ 3 PM EST", NY, "2026-03-05T15:00:00-05:00", None),
    ("how about 2pm on Friday?", NY, "2026-03-06T14:00:00-05:00", None),
    ("Thursday 5 March 2026, 14:30 (Europe/London)", NY, "2026-03-05T14:30:00+00:00", None),
    ("3/10 at 11:00", BERLIN, "2026-10-03T11:00:00+02:00", None),
    ("11-12pm on Wednesday, March 4", NY, "2026-03-04T11:00:00-05:00", "2026-03-04T12:00:00-05:00"),
    ("Friday at noon", NY, "2026-03-06T12:00:00-05:00", None),
    ("Monday, March 30 at 9am CEST", NY, "2026-03-30T09:00:00+02:00", None),
]


@pytest.mark.parametrize(("text", "tz", "start", "end"), TIMES, ids=[t[0][:40] for t in TIMES])
def test_a_written_interview_time_resolves_to_an_aware_datetime_with_the_right_offset(text, tz, start, end):
    spans = find_datetimes(text, ref=SENT, tz=tz)
    assert spans, text
    want = datetime.fromisoformat(start)
    assert spans[0].start == want and spans[0].start.utcoffset() == want.utcoffset()
    assert spans[0].end == (datetime.fromisoformat(end) if end else None)


NOT_TIMES = [
    "call me at 555-1234 on Friday",
    "We have 3 openings and 12 applicants",
    "Version 2.30 ships in 2026",
    "Friday",
    "at 10",
]


@pytest.mark.parametrize("text", NOT_TIMES)
def test_numbers_that_are_not_a_time_on_a_day_yield_nothing(text):
    assert find_datetimes(text, ref=SENT, tz=NY) == []


def test_a_date_without_a_year_is_never_far_in_the_past():
    sent = datetime(2026, 12, 20, 9, 0, tzinfo=NY)
    (span,) = find_datetimes("Jan 6 at 10am", ref=sent, tz=NY)
    assert span.start.date() == date(2027, 1, 6)
    (recent,) = find_datetimes("Dec 15 at 10am", ref=sent, tz=NY)
    assert recent.start.date() == date(2026, 12, 15)


TIMELINES = [
    # phrase, reference day, expected day
    ("we will get back to you by Friday", date(2026, 3, 2), date(2026, 3, 6)),
    ("by Friday", date(2026, 3, 6), date(2026, 3, 13)),
    ("within two weeks", date(2026, 3, 2), date(2026, 3, 16)),
    ("in the next few days", date(2026, 3, 27), date(2026, 3, 30)),
    ("end of next week", date(2026, 3, 18), date(2026, 3, 27)),
    ("by the end of the week", date(2026, 3, 2), date(2026, 3, 6)),
    ("by the end of the week", date(2026, 3, 7), date(2026, 3, 13)),
    ("next week", date(2026, 3, 11), date(2026, 3, 20)),
    ("early next week", date(2026, 3, 11), date(2026, 3, 17)),
    ("early next month", date(2026, 3, 20), date(2026, 4, 5)),
    ("early next month", date(2026, 12, 3), date(2027, 1, 5)),
    ("mid-April", date(2026, 3, 24), date(2026, 4, 15)),
    ("by the end of the month", date(2026, 2, 10), date(2026, 2, 28)),
    ("by March 20", date(2026, 3, 12), date(2026, 3, 20)),
    ("by the 20th", date(2026, 3, 12), date(2026, 3, 20)),
    ("within 5-7 business days", date(2026, 3, 16), date(2026, 3, 25)),
    ("within 10 working days", date(2026, 3, 2), date(2026, 3, 16)),
    ("over the next 2-3 weeks", date(2026, 3, 2), date(2026, 3, 23)),
    ("in a couple of weeks", date(2026, 3, 2), date(2026, 3, 16)),
    ("within 48 hours", date(2026, 3, 2), date(2026, 3, 4)),
    ("by tomorrow", date(2026, 3, 2), date(2026, 3, 3)),
    ("by end of day", date(2026, 3, 2), date(2026, 3, 2)),
    ("next month", date(2026, 1, 15), date(2026, 2, 28)),
]


@pytest.mark.parametrize(("phrase", "ref", "expected"), TIMELINES, ids=[f"{t[0]} on {t[1]}" for t in TIMELINES])
def test_a_stated_timeline_resolves_to_a_concrete_day(phrase, ref, expected):
    assert resolve_timeline(phrase, ref) == expected


@pytest.mark.parametrize("phrase", ["in the coming weeks", "soon", "as quickly as we can", ""])
def test_a_vague_timeline_resolves_to_nothing(phrase):
    assert resolve_timeline(phrase, date(2026, 3, 2)) is None


RETURNS = [
    ("I am out of the office until the 14th.", date(2026, 3, 2), date(2026, 3, 14)),
    ("Back in the office on Monday, March 16.", date(2026, 3, 11), date(2026, 3, 16)),
    ("I'm on parental leave through April 30.", date(2026, 3, 23), date(2026, 5, 1)),
    ("Out from March 2 to March 6, I will respond upon my return.", date(2026, 3, 2), date(2026, 3, 7)),
    ("I will return on 13 April.", date(2026, 4, 1), date(2026, 4, 13)),
    ("Away until Monday.", date(2026, 3, 4), date(2026, 3, 9)),
    ("I am travelling with limited access to email.", date(2026, 3, 4), None),
]


@pytest.mark.parametrize(("text", "ref", "expected"), RETURNS, ids=[r[0][:40] for r in RETURNS])
def test_an_out_of_office_reply_yields_the_first_day_back(text, ref, expected):
    assert find_return_date(text, ref) == expected


ZONES = [
    ("ET", datetime(2026, 7, 1, 12), timedelta(hours=-4)),
    ("EST", datetime(2026, 7, 1, 12), timedelta(hours=-4)),
    ("PT", datetime(2026, 1, 15, 12), timedelta(hours=-8)),
    ("CET", datetime(2026, 7, 1, 12), timedelta(hours=2)),
    ("BST", datetime(2026, 1, 15, 12), timedelta(hours=0)),
    ("UTC", datetime(2026, 1, 15, 12), timedelta(0)),
    ("GMT+5:30", datetime(2026, 1, 15, 12), timedelta(hours=5, minutes=30)),
    ("UTC-03:00", datetime(2026, 1, 15, 12), timedelta(hours=-3)),
    ("Europe/Berlin", datetime(2026, 1, 15, 12), timedelta(hours=1)),
    ("Pacific Time", datetime(2026, 7, 1, 12), timedelta(hours=-7)),
]


@pytest.mark.parametrize(("name", "when", "offset"), ZONES, ids=[z[0] for z in ZONES])
def test_named_zones_give_the_offset_that_holds_on_the_day(name, when, offset):
    zone = resolve_zone(name)
    assert zone is not None
    assert when.replace(tzinfo=zone).utcoffset() == offset


@pytest.mark.parametrize("name", ["", "XYZ", "Mars/Olympus", "GMT+99"])
def test_unknown_zones_resolve_to_none(name):
    assert resolve_zone(name) is None


def test_times_default_to_the_given_zone_when_none_is_written():
    (span,) = find_datetimes("Thursday, March 5 at 9:00", ref=SENT, tz=timezone.utc)
    assert span.start == datetime(2026, 3, 5, 9, 0, tzinfo=timezone.utc)


WEEKDAY_OF_MONTH = [
    # "<weekday> the <ordinal>": the first day on or after the message's day that is both
    ("by Friday the 13th", date(2026, 2, 19), date(2026, 3, 13)),
    ("by Wednesday the 1st", date(2026, 3, 23), date(2026, 4, 1)),
    ("before Monday, the 6th", date(2026, 3, 25), date(2026, 4, 6)),
    ("by Thursday 9th", date(2026, 3, 25), date(2026, 4, 9)),
    ("on Friday the 13th", date(2026, 3, 13), date(2026, 3, 13)),
    # with a month it is an ordinary date
    ("by Friday, the 13th of March", date(2026, 2, 19), date(2026, 3, 13)),
    # a weekday alone is still the next one
    ("by Friday", date(2026, 2, 19), date(2026, 2, 20)),
]


@pytest.mark.parametrize(("phrase", "ref", "expected"), WEEKDAY_OF_MONTH, ids=[w[0] for w in WEEKDAY_OF_MONTH])
def test_a_weekday_with_a_day_of_the_month_is_the_next_date_that_has_both(phrase, ref, expected):
    assert resolve_timeline(phrase, ref) == expected


def test_a_weekday_with_a_day_of_the_month_pairs_with_a_time():
    spans = find_datetimes("Could we do Tuesday the 10th at 2pm ET?", ref=SENT, tz=NY)
    assert [s.start.isoformat() for s in spans] == ["2026-03-10T14:00:00-04:00"]


def test_a_timeline_phrase_wrapped_over_two_lines_still_resolves():
    assert resolve_timeline("plans to make its decision by\nWednesday the 1st", date(2026, 3, 23)) == date(2026, 4, 1)
