"""Business days, holidays and local mornings across zones and DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from followup.core.business_days import (
    BusinessCalendar,
    local_date,
    morning_of,
    supported_countries,
)

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")

US = BusinessCalendar("US")
BAVARIA = BusinessCalendar("DE", "BY")
BERLIN_STATE = BusinessCalendar("DE", "BE")


def test_weekends_are_not_business_days():
    assert US.is_business_day(date(2025, 3, 7))  # a Friday
    assert not US.is_business_day(date(2025, 3, 8))
    assert not US.is_business_day(date(2025, 3, 9))


def test_next_business_day_after_a_friday_is_the_monday():
    assert US.next_business_day_after(date(2025, 3, 7)) == date(2025, 3, 10)


def test_next_business_day_after_skips_thanksgiving_in_the_us():
    assert US.holiday_name(date(2025, 11, 27)) is not None
    assert US.next_business_day_after(date(2025, 11, 26)) == date(2025, 11, 28)


def test_an_observed_holiday_is_not_a_business_day():
    # July 4th 2026 is a Saturday; the US observes it on Friday the 3rd.
    assert not US.is_business_day(date(2026, 7, 3))
    assert US.next_business_day_after(date(2026, 7, 2)) == date(2026, 7, 6)


def test_corpus_christi_is_a_holiday_in_bavaria_but_not_in_berlin():
    corpus_christi = date(2025, 6, 19)
    assert not BAVARIA.is_business_day(corpus_christi)
    assert BERLIN_STATE.is_business_day(corpus_christi)
    assert BAVARIA.on_or_after(corpus_christi) == date(2025, 6, 20)


def test_easter_in_germany_closes_friday_to_monday():
    assert BAVARIA.next_business_day_after(date(2025, 4, 17)) == date(2025, 4, 22)


def test_christmas_in_germany_skips_both_holidays_and_the_weekend():
    # 2026: Dec 25 (Fri) and 26 (Sat) holidays, 27 Sunday.
    assert BAVARIA.next_business_day_after(date(2026, 12, 24)) == date(2026, 12, 28)


def test_on_or_after_keeps_a_business_day_and_moves_a_closed_one_forward():
    assert US.on_or_after(date(2025, 3, 5)) == date(2025, 3, 5)
    assert US.on_or_after(date(2025, 3, 8)) == date(2025, 3, 10)


def test_add_days_then_roll_counts_calendar_days_then_moves_to_a_business_day():
    assert US.add_days_then_roll(date(2025, 11, 20), 7) == date(2025, 11, 28)


def test_an_unknown_country_fails_at_construction_naming_it():
    with pytest.raises(ValueError, match="'XX'"):
        BusinessCalendar("XX")


def test_an_unknown_subdivision_fails_at_construction_naming_it():
    with pytest.raises(ValueError, match="'ZZ'"):
        BusinessCalendar("DE", "ZZ")


def test_supported_countries_include_the_us_and_germany():
    assert {"US", "DE"} <= supported_countries()


def test_morning_of_gives_the_wall_hour_in_the_zone():
    assert morning_of(date(2025, 3, 5), TOKYO, 9) == datetime(2025, 3, 5, 0, 0, tzinfo=UTC)
    assert morning_of(date(2025, 3, 5), LOS_ANGELES, 9) == datetime(2025, 3, 5, 17, tzinfo=UTC)


def test_morning_of_keeps_nine_oclock_across_the_us_spring_change():
    before = morning_of(date(2025, 3, 7), NEW_YORK, 9)
    after = morning_of(date(2025, 3, 10), NEW_YORK, 9)
    assert (before.hour, after.hour) == (9, 9)
    assert before.utcoffset() == timedelta(hours=-5)
    assert after.utcoffset() == timedelta(hours=-4)


def test_a_nonexistent_hour_moves_forward_by_the_gap_in_the_us():
    # 02:00 does not exist on 9 March 2025 in New York; the clock jumps to 03:00.
    got = morning_of(date(2025, 3, 9), NEW_YORK, 2)
    assert (got.hour, got.utcoffset()) == (3, timedelta(hours=-4))
    assert got == datetime(2025, 3, 9, 7, tzinfo=UTC)


def test_a_nonexistent_hour_moves_forward_by_the_gap_in_europe():
    got = morning_of(date(2025, 3, 30), BERLIN, 2)
    assert (got.hour, got.utcoffset()) == (3, timedelta(hours=2))


def test_an_ambiguous_hour_is_the_first_occurrence_in_the_us():
    # 01:00 happens twice on 2 November 2025 in New York; the first is still daylight time.
    got = morning_of(date(2025, 11, 2), NEW_YORK, 1)
    assert got.utcoffset() == timedelta(hours=-4)
    # PEP 495: an ambiguous time never compares equal across zones, so compare in UTC.
    assert got.astimezone(UTC) == datetime(2025, 11, 2, 5, tzinfo=UTC)


def test_an_ambiguous_hour_is_the_first_occurrence_in_europe():
    got = morning_of(date(2025, 10, 26), BERLIN, 2)
    # 02:00 CEST, the first time round, before the clocks go back.
    assert got.astimezone(UTC) == datetime(2025, 10, 26, 0, tzinfo=UTC)


def test_morning_of_keeps_nine_oclock_across_the_eu_autumn_change():
    assert morning_of(date(2025, 10, 27), BERLIN, 9) == datetime(2025, 10, 27, 8, tzinfo=UTC)
    assert morning_of(date(2025, 10, 24), BERLIN, 9) == datetime(2025, 10, 24, 7, tzinfo=UTC)


def test_morning_of_rejects_an_hour_outside_the_day():
    with pytest.raises(ValueError):
        morning_of(date(2025, 3, 5), BERLIN, 24)


def test_local_date_reads_the_day_in_the_given_zone():
    moment = datetime(2025, 3, 5, 23, 30, tzinfo=UTC)
    assert local_date(moment, TOKYO) == date(2025, 3, 6)
    assert local_date(moment, LOS_ANGELES) == date(2025, 3, 5)


def test_local_date_refuses_a_naive_datetime():
    with pytest.raises(ValueError, match="naive"):
        local_date(datetime(2025, 3, 5, 12), BERLIN)
