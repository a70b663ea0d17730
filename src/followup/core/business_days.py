"""Business days and local mornings: the calendar arithmetic behind the schedule (SPEC §3).

A *business day* is a weekday that is not a public holiday of the configured country (and,
when given, subdivision: a German state, a US state…). Holidays come from the ``holidays``
package, which is data, not IO; the dates of one (country, subdivision, year) are computed once
and kept.

All arithmetic on days is done on ``date`` values in the user's time zone and only then turned
into an instant with :func:`morning_of`. Adding a ``timedelta`` to an aware ``datetime`` would
do wall-clock arithmetic in Python and silently drift by an hour across a DST change; working
on dates avoids the question altogether.

Two local times need a deliberate answer (PEP 495):

* a *nonexistent* time (the hour skipped when clocks spring forward) is read with the offset in
  force just before the change, which lands it the length of the gap later: 02:00 on a US
  spring-forward night becomes 03:00 daylight time. The draft appears as soon as the clock
  has passed the hour asked for, never before it;
* an *ambiguous* time (the hour repeated when clocks fall back) is the first of the two
  (``fold=0``): the draft appears the first time the clock shows that hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache

import holidays

__all__ = [
    "BusinessCalendar",
    "local_date",
    "morning_of",
    "supported_countries",
]

#: A guard for the loops below: no real calendar has a run of non-business days this long,
#: so hitting it means the holiday data is broken rather than that we should keep looking.
_MAX_RUN_OF_CLOSED_DAYS = 60


@lru_cache(maxsize=1)
def supported_countries() -> frozenset[str]:
    """Return the ISO 3166-1 alpha-2 codes the ``holidays`` package knows."""
    return frozenset(holidays.list_supported_countries())


@lru_cache(maxsize=256)
def _holidays_of(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    # One plain dict per year, so lookups never trigger the package's lazy (and not
    # thread-safe) expansion of years while the daemon's jobs run on worker threads.
    found = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return {day: name for day, name in found.items() if day.year == year}


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Weekends plus the public holidays of ``country`` (ISO alpha-2) and ``subdivision``.

    Given an unknown country or subdivision, construction raises ``ValueError`` naming it, so
    a typo in the config fails at start-up rather than on the first due date.
    """

    country: str = "US"
    subdivision: str | None = None

    def __post_init__(self) -> None:
        if self.country not in supported_countries():
            raise ValueError(f"no public holidays known for country {self.country!r}")
        try:
            _holidays_of(self.country, self.subdivision, 2000)
        except (NotImplementedError, KeyError, ValueError) as exc:
            where = f"country {self.country!r}, subdivision {self.subdivision!r}"
            raise ValueError(f"no public holidays known for {where}") from exc

    def holiday_name(self, day: date) -> str | None:
        """Given a date, return the name of the public holiday on it, or ``None``."""
        return _holidays_of(self.country, self.subdivision, day.year).get(day)

    def is_business_day(self, day: date) -> bool:
        """Given a date, return True when it is neither a Saturday, a Sunday nor a holiday."""
        return day.weekday() < 5 and self.holiday_name(day) is None

    def on_or_after(self, day: date) -> date:
        """Given a date, return it when it is a business day, else the next business day.

        This is "moved to a business day" in SPEC §3: a due date never moves earlier.
        """
        for offset in range(_MAX_RUN_OF_CLOSED_DAYS):
            candidate = day + timedelta(days=offset)
            if self.is_business_day(candidate):
                return candidate
        raise ValueError(f"no business day within {_MAX_RUN_OF_CLOSED_DAYS} days of {day}")

    def next_business_day_after(self, day: date) -> date:
        """Given a date, return the first business day strictly after it."""
        return self.on_or_after(day + timedelta(days=1))

    def add_days_then_roll(self, day: date, days: int) -> date:
        """Given a date and a count of calendar days, add them, then move to a business day."""
        return self.on_or_after(day + timedelta(days=days))


def local_date(moment: datetime, tz: tzinfo) -> date:
    """Given an aware datetime and a zone, return the calendar date it falls on in that zone.

    Raises ``ValueError`` for a naive datetime: its date in another zone is unknowable.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} has no time zone")
    return moment.astimezone(tz).date()


def morning_of(day: date, tz: tzinfo, hour: int, minute: int = 0) -> datetime:
    """Given a date, a zone and a wall-clock hour, return that local time as an aware datetime.

    The result is normalised (its wall time is one the clock really shows): a nonexistent
    time moves forward by the DST gap, an ambiguous one is the first occurrence (see the module
    docstring). Raises ``ValueError`` for an hour outside 0..23.

    Beware (PEP 495): an ambiguous result orders correctly against any aware datetime but
    never compares *equal* to one in another zone; compare ``.astimezone(UTC)`` values.
    """
    if not 0 <= hour <= 23:
        raise ValueError(f"hour must be within 0..23, not {hour}")
    wall = datetime.combine(day, time(hour, minute), tzinfo=tz)  # fold=0: the first occurrence
    # A round trip through UTC normalises a nonexistent wall time: fold=0 gave it the offset
    # in force before the gap, and converting back reads it with the offset after the gap.
    return wall.astimezone(UTC).astimezone(tz)
