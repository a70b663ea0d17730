"""Dates and times written in prose, resolved against a reference datetime and a timezone.

Pure: every function takes the reference ("the message's Date") and the default zone; none
reads a clock. Conventions, chosen once and used everywhere:

Calendar dates
  * A date without a year takes the first year that puts it no more than 14 days before the
    reference (so "Dec 30" written on Jan 3 is last week, "Jan 10" written on Dec 20 is next
    year). When a weekday is also written ("Thursday, March 5") and one of the neighbouring
    years matches it, that year wins.
  * Numeric dates: a part above 12 decides the order; dotted dates (05.03.2026) are day first;
    otherwise a European/Asian/Oceanian zone (stated, else the default ``tz``) reads day first
    and anything else month first ("3/10" in PT is March 10; "05/03/2026 14:30 CET" is 5 March).
  * "Friday" / "by Friday": the first Friday strictly after the reference day (said on a
    Friday it means a week later). "next Friday": the Friday of the following Monday-based week.
  * "Friday the 13th" (a weekday and a day of the month, no month): the first day on or after
    the reference day that is both.
  * "today", "tomorrow", "day after tomorrow" are relative to the reference day in ``tz``.

Times
  * "2:30pm", "2 p.m.", "14:30", "14h30", "noon", "at 10". An hour without am/pm and without
    minutes is only read after "at"/"@"; hours 1–6 without am/pm are afternoon (an interview at
    3 means 15:00), 7–11 morning.
  * Zones: ET/EST/EDT/Eastern → America/New_York, CT → America/Chicago, MT → America/Denver,
    PT → America/Los_Angeles (standard vs daylight spelling ignored: the date decides, so the
    offset is always right for the day); CET/CEST → Europe/Berlin; BST/UK → Europe/London;
    GMT/UTC/Z → UTC; GMT+2/UTC-05:00 → fixed offsets; IANA names as written; IST → Asia/Kolkata.
    No zone: the ``tz`` argument.

Decision timelines (:func:`resolve_timeline`), relative to the reference day
  * "within/in N days|weeks|months" → reference + N; "N business/working days" skips weekends
    (public holidays are the policy's business); a range ("5–7 business days", "2 to 3 weeks")
    takes its upper end; "a couple" = 2, "a few" = 3, "several" = 5; "48 hours" → +2 days.
  * "end of (this) week" / "later this week" → Friday of this week (next week's Friday when
    said on a weekend); "next week" and "end of next week" → Friday of next week; "early next
    week" → Tuesday of next week; "mid(dle of) next week" → Wednesday of next week.
  * "end of the month" → last day of this month; "next month"/"end of next month" → last day of
    next month; "early next month"/"beginning of next month" → the 5th of next month;
    "mid(dle of) next month" → the 15th. "early/mid/late|end of <Month>" → 5th / 15th / last day.
  * "end of day", "today" → the reference day; "tomorrow" → the next day; explicit dates as above.

Out-of-office returns (:func:`find_return_date`)
  * "until X", "back on X", "returning X", "return to the office on X" → X; "through X",
    "out X–Y" → the day after the last day away.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "TimeSpan",
    "find_datetimes",
    "find_return_date",
    "first_date",
    "resolve_timeline",
    "resolve_zone",
    "find_timeline_phrase",
]

_WEEKDAYS = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "weds": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4, "sat": 5,
    "saturday": 5, "sun": 6, "sunday": 6,
}
_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9,
    "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12,
    "december": 12,
}
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15,
    "twenty": 20, "thirty": 30, "couple": 2, "a couple": 2, "a couple of": 2, "couple of": 2,
    "few": 3, "a few": 3, "several": 5,
}

_WD = r"(?P<wd>mon(?:day)?|tue(?:s(?:day)?)?|wed(?:s|nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)\.?"
_MON = r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_ORD = r"(?:st|nd|rd|th)?"

# One regex for every date form; named groups tell them apart.
_DATE_RE = re.compile(
    r"(?<![\w/.:-])(?:"
    # ISO: 2026-03-05
    r"(?P<iso_y>\d{4})-(?P<iso_m>\d{1,2})-(?P<iso_d>\d{1,2})(?![\d])"
    r"|"
    # [Weekday,] Month Day[, Year]
    r"(?:" + _WD + r",?\s+)?(?:the\s+)?" + _MON + r"\s+(?P<md_d>\d{1,2})" + _ORD + r"(?:,?\s+(?P<md_y>\d{4}))?(?![\d:])"
    r"|"
    # [Weekday,] [the] Day [of] Month[, Year]
    r"(?:" + _WD.replace("?P<wd>", "?P<wd2>") + r",?\s+)?(?:the\s+)?(?P<dm_d>\d{1,2})" + _ORD + r"(?:\s+of)?\s+"
    + _MON.replace("?P<mon>", "?P<mon2>") + r"(?:,?\s+(?P<dm_y>\d{4}))?(?![\d:])"
    r"|"
    # [Weekday] 3/10[/2026] or 05.03.2026
    r"(?:" + _WD.replace("?P<wd>", "?P<wd3>") + r",?\s+)?(?P<n1>\d{1,2})(?P<sep>[/.])(?P<n2>\d{1,2})(?:(?P=sep)(?P<n3>\d{4}|\d{2}))?(?![\d/]|\.\d)"
    r"|"
    # relative: today, tomorrow, day after tomorrow, [this|next] Weekday
    r"(?P<rel>(?:the\s+)?day\s+after\s+tomorrow|tomorrow|today|tonight)"
    r"|"
    # Weekday + day of the month without a month: "Friday the 13th", "Tue, the 3rd", "Monday 6th"
    + _WD.replace("?P<wd>", "?P<wd5>") + r",?\s+(?:the\s+(?P<wdd>\d{1,2})(?:st|nd|rd|th)?|(?P<wdd2>\d{1,2})(?:st|nd|rd|th))(?![\w:])"
    r"|"
    r"(?:(?P<which>this|next|coming|this\s+coming)\s+)?"
    r"(?P<wd4>monday|tuesday|wednesday|thursday|friday|saturday|sunday|(?:mon|tue|tues|wed|thu|thur|thurs|fri)\.?(?=,?\s+(?:at\s+|@\s*)?\d))"
    r"(?!\w)"
    r")",
    re.IGNORECASE,
)

_TIME_RE = re.compile(
    r"(?<![\w:./-])(?:"
    r"(?P<at>(?:at|@)\s*)?"
    r"(?P<h>\d{1,2})(?:(?::|h|\.(?=\d\d\s*[ap]))(?P<m>\d{2}))?\s*(?P<ap>a\.?\s?m\.?|p\.?\s?m\.?)?"
    r"(?:\s*(?:-|–|—|to|until|till)\s*(?P<h2>\d{1,2})(?:(?::|h)(?P<m2>\d{2}))?\s*(?P<ap2>a\.?\s?m\.?|p\.?\s?m\.?)?)?"
    r"|(?P<noon>noon|midday)"
    r")(?![\w:/])",
    re.IGNORECASE,
)

_ZONE_NAMES: dict[str, str] = {
    "et": "America/New_York", "est": "America/New_York", "edt": "America/New_York",
    "eastern": "America/New_York", "eastern time": "America/New_York",
    "eastern standard time": "America/New_York", "eastern daylight time": "America/New_York",
    "ct": "America/Chicago", "cst": "America/Chicago", "cdt": "America/Chicago",
    "central": "America/Chicago", "central time": "America/Chicago",
    "central standard time": "America/Chicago", "central daylight time": "America/Chicago",
    "mt": "America/Denver", "mst": "America/Denver", "mdt": "America/Denver",
    "mountain": "America/Denver", "mountain time": "America/Denver",
    "pt": "America/Los_Angeles", "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles",
    "pacific": "America/Los_Angeles", "pacific time": "America/Los_Angeles",
    "pacific standard time": "America/Los_Angeles", "pacific daylight time": "America/Los_Angeles",
    "cet": "Europe/Berlin", "cest": "Europe/Berlin", "central european time": "Europe/Berlin",
    "central european summer time": "Europe/Berlin", "mez": "Europe/Berlin", "mesz": "Europe/Berlin",
    "bst": "Europe/London", "uk time": "Europe/London", "london time": "Europe/London",
    "wet": "Europe/Lisbon", "west": "Europe/Lisbon", "eet": "Europe/Athens", "eest": "Europe/Athens",
    "gmt": "UTC", "utc": "UTC", "z": "UTC",
    "ist": "Asia/Kolkata", "india standard time": "Asia/Kolkata",
    "jst": "Asia/Tokyo", "sgt": "Asia/Singapore", "hkt": "Asia/Hong_Kong",
    "aest": "Australia/Sydney", "aedt": "Australia/Sydney", "nzst": "Pacific/Auckland",
    "nzdt": "Pacific/Auckland", "akst": "America/Anchorage", "hst": "Pacific/Honolulu",
}
_ZONE_RE = re.compile(
    r"^[\s,]*(?:\(\s*)?(?:"
    r"(?P<off>(?:gmt|utc)\s*(?P<sign>[+-−])\s*(?P<oh>\d{1,2})(?::?(?P<om>\d{2}))?)"
    r"|(?P<iana>(?:america|europe|asia|africa|australia|pacific|atlantic|indian)/[a-z_]+(?:/[a-z_]+)?)"
    r"|(?P<long>(?:eastern|central|mountain|pacific)(?:\s+(?:standard|daylight))?\s+time"
    r"|central european(?:\s+summer)?\s+time|india standard time|uk time|london time)"
    r"|(?P<abbr>[a-z]{1,4})(?![a-z])"
    r")",
    re.IGNORECASE,
)
# Google Calendar writes "(Eastern Time - New York)"; Outlook "(UTC-05:00) Eastern Time (US & Canada)".
_CITY_ZONE = re.compile(r"^[\s,]*\(?\s*(?:[a-z ]+time\s*-\s*)(?P<city>[a-z ]+)\)?", re.IGNORECASE)
_CITIES = {
    "new york": "America/New_York", "toronto": "America/Toronto", "chicago": "America/Chicago",
    "denver": "America/Denver", "los angeles": "America/Los_Angeles", "vancouver": "America/Vancouver",
    "london": "Europe/London", "berlin": "Europe/Berlin", "paris": "Europe/Paris",
    "amsterdam": "Europe/Amsterdam", "madrid": "Europe/Madrid", "dublin": "Europe/Dublin",
    "zurich": "Europe/Zurich", "stockholm": "Europe/Stockholm", "warsaw": "Europe/Warsaw",
    "kolkata": "Asia/Kolkata", "singapore": "Asia/Singapore", "tokyo": "Asia/Tokyo",
    "sydney": "Australia/Sydney", "phoenix": "America/Phoenix",
}


@lru_cache(maxsize=256)
def resolve_zone(name: str) -> tzinfo | None:
    """Given a zone as written ("ET", "CEST", "GMT+2", "Europe/Berlin", "Pacific Time"), return a tzinfo or None."""
    key = " ".join(name.strip().strip("()").lower().split())
    if not key:
        return None
    found = re.fullmatch(r"(?:gmt|utc)\s*([+-−])\s*(\d{1,2})(?::?(\d{2}))?", key)
    if found:
        sign = -1 if found.group(1) in "-−" else 1
        hours, minutes = int(found.group(2)), int(found.group(3) or 0)
        if hours > 14 or minutes > 59:
            return None
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    if key in _ZONE_NAMES:
        iana = _ZONE_NAMES[key]
    elif key in _CITIES:
        iana = _CITIES[key]
    elif "/" in key:
        iana = "/".join(part.title() if part.islower() else part for part in name.strip("() ").split("/"))
    else:
        return None
    if iana == "UTC":
        return timezone.utc
    try:
        return ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _zone_at(text: str, pos: int) -> tuple[tzinfo | None, int]:
    """Return the zone written right at ``text[pos:]`` and where it ends, or (None, pos)."""
    window = text[pos : pos + 60]
    city = _CITY_ZONE.match(window)
    if city and city.group("city").strip().lower() in _CITIES:
        return resolve_zone(city.group("city")), pos + city.end()
    found = _ZONE_RE.match(window)
    if not found:
        return None, pos
    value = found.group("off") or found.group("iana") or found.group("long") or found.group("abbr")
    zone = resolve_zone(value)
    if zone is None:
        return None, pos
    end = pos + found.end()
    if text[end : end + 1] == ")":
        end += 1
    return zone, end


def _day_first(zone: tzinfo | None, default_tz: tzinfo) -> bool:
    key = getattr(zone or default_tz, "key", None) or str(zone or default_tz)
    if key.startswith(("America/", "US/", "Canada/", "Pacific/Honolulu")):
        return False
    return key.startswith(("Europe/", "Africa/", "Asia/", "Australia/", "Pacific/", "Indian/", "Atlantic/"))


@dataclass(frozen=True, slots=True)
class _DateHit:
    start: int
    end: int
    groups: dict[str, str | None]

    @property
    def is_weekday_only(self) -> bool:
        return bool(self.groups.get("wd4"))


@dataclass(frozen=True, slots=True)
class TimeSpan:
    """A date-time found in text: ``start`` (aware), ``end`` (aware or None), and the text span."""

    start: datetime
    end: datetime | None
    text: str
    pos: int


def _next_weekday(ref: date, weekday: int, *, which: str | None = None) -> date:
    if which and which.lower().startswith("next"):
        monday_next = ref - timedelta(days=ref.weekday()) + timedelta(days=7)
        return monday_next + timedelta(days=weekday)
    delta = (weekday - ref.weekday()) % 7
    return ref + timedelta(days=delta or 7)


def _weekday_of_month(ref: date, weekday: int, day: int) -> date | None:
    """The first day on or after ``ref`` that is both the ``day``-th of its month and a
    ``weekday`` ("Friday the 13th" said on Feb 19, 2026 is March 13, 2026)."""
    if not 1 <= day <= 31:
        return None
    year, month = ref.year, ref.month
    for _ in range(28):  # every (weekday, day) pair recurs within 14 months
        if day <= calendar.monthrange(year, month)[1]:
            candidate = date(year, month, day)
            if candidate >= ref and candidate.weekday() == weekday:
                return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _pick_year(ref: date, month: int, day: int, weekday: int | None) -> date | None:
    candidates = []
    for year in (ref.year - 1, ref.year, ref.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        return None
    if weekday is not None:
        matching = [c for c in candidates if c.weekday() == weekday and abs((c - ref).days) < 300]
        if matching:
            return min(matching, key=lambda c: abs((c - ref).days))
    floor = ref - timedelta(days=14)
    future = [c for c in candidates if c >= floor]
    return future[0] if future else candidates[-1]


def _full_year(raw: str) -> int:
    year = int(raw)
    return year + 2000 if year < 100 else year


def _resolve_date(hit: _DateHit, ref: date, day_first: bool) -> date | None:
    g = hit.groups
    try:
        if g.get("iso_y"):
            return date(int(g["iso_y"]), int(g["iso_m"]), int(g["iso_d"]))
        wd_raw = g.get("wd") or g.get("wd2") or g.get("wd3")
        weekday = _WEEKDAYS.get(wd_raw.lower().rstrip(".")) if wd_raw else None
        if g.get("md_d") or g.get("dm_d"):
            month = _MONTHS[(g.get("mon") or g.get("mon2") or "").lower().rstrip(".")]
            day = int(g.get("md_d") or g.get("dm_d"))
            year = g.get("md_y") or g.get("dm_y")
            if year:
                return date(int(year), month, day)
            return _pick_year(ref, month, day, weekday)
        if g.get("n1"):
            a, b = int(g["n1"]), int(g["n2"])
            if g.get("sep") == "." or a > 12:
                day, month = a, b
            elif b > 12:
                month, day = a, b
            elif day_first:
                day, month = a, b
            else:
                month, day = a, b
            if g.get("n3"):
                return date(_full_year(g["n3"]), month, day)
            if g.get("sep") == "." and weekday is None:
                return None  # "3.5" is a number far more often than a date
            return _pick_year(ref, month, day, weekday)
        if g.get("rel"):
            rel = " ".join(g["rel"].lower().split())
            if rel in ("today", "tonight"):
                return ref
            if rel == "tomorrow":
                return ref + timedelta(days=1)
            return ref + timedelta(days=2)
        if g.get("wdd") or g.get("wdd2"):
            return _weekday_of_month(ref, _WEEKDAYS[g["wd5"].lower().rstrip(".")], int(g.get("wdd") or g.get("wdd2")))
        if g.get("wd4"):
            return _next_weekday(ref, _WEEKDAYS[g["wd4"].lower().rstrip(".")], which=g.get("which"))
    except (ValueError, KeyError, TypeError):
        return None
    return None


def _hour(h: int, m: int, ap: str | None, *, bare: bool) -> time | None:
    if ap:
        pm = ap.lower().startswith("p")
        if not 1 <= h <= 12:
            return None
        h = (h % 12) + (12 if pm else 0)
    elif h <= 6 and h >= 1 and (bare or m in (0, 15, 30, 45)) and h != 0:
        # An interview "at 3" or "2:30" with no am/pm is in the afternoon.
        h += 12
    if not (0 <= h <= 23 and 0 <= m <= 59):
        return None
    return time(h, m)


def _times(match: re.Match[str]) -> tuple[time, time | None] | None:
    if match.group("noon"):
        return time(12, 0), None
    h, m = int(match.group("h")), int(match.group("m") or 0)
    ap, ap2 = match.group("ap"), match.group("ap2")
    has_minutes = match.group("m") is not None
    if not ap and not has_minutes and not match.group("at") and not ap2:
        return None  # a lone number is not a time
    h2 = match.group("h2")
    if h2 is not None and not ap and ap2:
        # "2:30-3:15pm": the first time shares the second's half of the day unless that
        # would make it later than the end ("11-12pm" is 11 am to noon).
        ap = ap2
        if int(h2) % 12 < h % 12 and ap2.lower().startswith("p"):
            ap = "am"
    start = _hour(h, m, ap, bare=not has_minutes)
    if start is None:
        return None
    end = None
    if h2 is not None:
        end_h, end_m = int(h2), int(match.group("m2") or 0)
        if not ap2 and ap and end_h <= 12:
            ap2 = ap if end_h >= h or end_h == 12 else ("pm" if ap.lower().startswith("a") else ap)
        end = _hour(end_h, end_m, ap2, bare=match.group("m2") is None)
        if end is not None and not ap2 and start.hour >= 12 and end.hour < start.hour and end.hour + 12 <= 23:
            end = time(end.hour + 12, end.minute)
    return start, end


_ISO_DT = re.compile(
    r"(?<![\w-])(?P<d>\d{4}-\d{2}-\d{2})[T ](?P<t>\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?\s*(?P<z>Z|[+-]\d{2}:?\d{2})?(?![\w:])"
)
_SENTENCE_BREAK = re.compile(r"[.!?]\s+[A-Z]|\n\s*\n")


def find_datetimes(text: str, *, ref: datetime, tz: tzinfo) -> list[TimeSpan]:
    """Given prose, the reference datetime (the message's Date) and the default zone, return
    every date-with-time found, in text order, as aware datetimes.

    A time is paired with the nearest date before it in the same sentence ("Thursday, March 5th
    at 2:30pm ET", "Tue 3/10 10:00-10:45 PT", "tomorrow at 10") or right after it ("at 2pm on
    Friday"). A time with no date near it is skipped: an hour alone names no day.
    """
    if not text:
        return []
    ref_local = ref.astimezone(tz) if ref.tzinfo else ref.replace(tzinfo=tz)
    ref_day = ref_local.date()
    found: list[TimeSpan] = []
    taken: list[tuple[int, int]] = []
    for iso in _ISO_DT.finditer(text):
        try:
            day = date.fromisoformat(iso.group("d"))
            hh, mm = (int(x) for x in iso.group("t").split(":"))
            zone: tzinfo | None = None
            if iso.group("z"):
                zone = timezone.utc if iso.group("z") == "Z" else resolve_zone("UTC" + iso.group("z"))
            else:
                zone, _ = _zone_at(text, iso.end())
            start = datetime.combine(day, time(hh, mm), tzinfo=zone or tz)
        except ValueError:
            continue
        found.append(TimeSpan(start, None, iso.group(0), iso.start()))
        taken.append((iso.start(), iso.end()))

    dates = [
        _DateHit(m.start(), m.end(), m.groupdict())
        for m in _DATE_RE.finditer(text)
        if not any(s <= m.start() < e for s, e in taken)
    ]
    if not dates:
        return sorted(found, key=lambda s: s.pos)
    for tm in _TIME_RE.finditer(text):
        if any(s <= tm.start() < e for s, e in taken):
            continue
        if any(d.start <= tm.start() < d.end for d in dates):
            continue  # the digits belong to a date ("3/10")
        parsed = _times(tm)
        if parsed is None:
            continue
        hit = _pair(text, dates, tm.start(), tm.end())
        if hit is None:
            continue
        zone, zone_end = _zone_at(text, tm.end())
        if zone is None and hit.start > tm.end():
            zone, zone_end = _zone_at(text, hit.end)
        day = _resolve_date(hit, ref_day, _day_first(zone, tz))
        if day is None:
            continue
        zone = zone or tz
        start = datetime.combine(day, parsed[0], tzinfo=zone)
        end = datetime.combine(day, parsed[1], tzinfo=zone) if parsed[1] else None
        if end is not None and end <= start:
            end = None
        lo, hi = min(hit.start, tm.start()), max(hit.end, tm.end(), zone_end)
        found.append(TimeSpan(start, end, text[lo:hi], lo))
        taken.append((lo, hi))
    return sorted(found, key=lambda s: s.pos)


_GAP_BEFORE = re.compile(
    r"^[\s,]*(?:(?:at|@|from|,|⋅|·|\||-|–|starting|beginning|between|around|\(|\))[\s,]*)*"
    r"(?:\n?\s*(?:time|start|starts|when|hour|heure|uhrzeit|hora)\s*:\s*)?$",
    re.IGNORECASE,
)
_GAP_AFTER = re.compile(r"^[\s,]*(?:[a-z]{1,4}\s*)?(?:\([^)]*\)\s*)?(?:on|,)?\s*(?:the\s+)?$", re.IGNORECASE)


def _pair(text: str, dates: list[_DateHit], t_start: int, t_end: int) -> _DateHit | None:
    before = [d for d in dates if d.end <= t_start and t_start - d.end <= 40]
    if before:
        nearest = max(before, key=lambda d: d.end)
        gap = text[nearest.end : t_start]
        if _GAP_BEFORE.match(gap) or (len(gap) <= 12 and not _SENTENCE_BREAK.search(gap) and "\n" not in gap):
            return nearest
    after = [d for d in dates if d.start >= t_end and d.start - t_end <= 45]
    if after:
        nearest = min(after, key=lambda d: d.start)
        gap = text[t_end : nearest.start]
        if _GAP_AFTER.match(gap):
            return nearest
    return None


def first_date(text: str, *, ref: date, day_first: bool = False) -> tuple[date, int, int] | None:
    """Given text and a reference day, return the first calendar date written in it and its span."""
    for m in _DATE_RE.finditer(text):
        hit = _DateHit(m.start(), m.end(), m.groupdict())
        resolved = _resolve_date(hit, ref, day_first)
        if resolved is not None:
            return resolved, m.start(), m.end()
    return None


# ---------------------------------------------------------------------------------------------
# Decision timelines
# ---------------------------------------------------------------------------------------------

_NUM = r"(?:\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|fifteen|twenty|thirty|(?:a\s+)?couple(?:\s+of)?|(?:a\s+)?few|several)"
_DURATION = re.compile(
    r"\b(?:within|in|over|during)\s+(?:the\s+)?(?:next|coming|following)?\s*"
    r"(?:(?P<lo>" + _NUM + r")\s*(?:-|–|to|or)\s*)?(?P<n>" + _NUM + r")\s+"
    r"(?P<biz>business\s+|working\s+|work\s+)?(?P<unit>days?|weeks?|months?|hours?)\b"
    r"|\b(?:(?P<lo2>\d{1,2}|" + _NUM + r")\s*(?:-|–|to)\s*)(?P<n2>\d{1,2}|" + _NUM + r")\s+"
    r"(?P<biz2>business\s+|working\s+)?(?P<unit2>days?|weeks?)\b",
    re.IGNORECASE,
)
_PERIOD = re.compile(
    r"\b(?P<phrase>"
    r"(?:by\s+|before\s+)?(?:the\s+)?(?:end|close)\s+of\s+(?:the\s+|this\s+)?(?P<eo>day|week|month|business\s+day)"
    r"|(?:the\s+)?(?:end|close)\s+of\s+next\s+(?P<eon>week|month)"
    r"|(?P<pos>early|beginning\s+of|start\s+of|mid|middle\s+of|late|later|end\s+of|the\s+end\s+of)[\s-]+(?:the\s+)?next\s+(?P<posu>week|month)"
    r"|later\s+this\s+(?P<lt>week|month)"
    r"|(?:early|earlier)\s+this\s+(?P<et>week)"
    r"|next\s+(?P<nx>week|month)"
    r"|this\s+week"
    r"|(?P<mpos>early|beginning\s+of|start\s+of|mid|middle\s+of|late|end\s+of|the\s+end\s+of)[\s-]+" + _MON.replace("?P<mon>", "?P<pmon>") +
    r")\b",
    re.IGNORECASE,
)


def _num(raw: str) -> int:
    raw = " ".join(raw.lower().split())
    if raw.isdigit():
        return int(raw)
    return _NUMBER_WORDS.get(raw, _NUMBER_WORDS.get(raw.split()[-1], 1) if raw else 1)


def _add_business_days(start: date, days: int) -> date:
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _next_month(ref: date) -> tuple[int, int]:
    return (ref.year + 1, 1) if ref.month == 12 else (ref.year, ref.month + 1)


def _friday_of(ref: date, weeks_ahead: int) -> date:
    monday = ref - timedelta(days=ref.weekday()) + timedelta(weeks=weeks_ahead)
    return monday + timedelta(days=4)


def resolve_timeline(phrase: str, ref: date, *, day_first: bool = False) -> date | None:
    """Given a phrase that states when something will happen ("within two weeks", "by Friday",
    "end of next week", "early next month", "by March 20") and the reference day, return the
    day it names (see the module docstring for the conventions), or None."""
    text = phrase.lower()
    duration = _DURATION.search(text)
    period = _PERIOD.search(text)
    candidates: list[tuple[int, date]] = []
    if duration:
        n = _num(duration.group("n") or duration.group("n2"))
        unit = (duration.group("unit") or duration.group("unit2")).lower()
        business = bool(duration.group("biz") or duration.group("biz2"))
        if unit.startswith("hour"):
            value = ref + timedelta(days=max(1, (n + 23) // 24))
        elif unit.startswith("day"):
            value = _add_business_days(ref, n) if business else ref + timedelta(days=n)
        elif unit.startswith("week"):
            value = ref + timedelta(weeks=n)
        else:
            year, month = ref.year + (ref.month - 1 + n) // 12, (ref.month - 1 + n) % 12 + 1
            value = date(year, month, min(ref.day, calendar.monthrange(year, month)[1]))
        candidates.append((duration.start(), value))
    if period:
        value = _resolve_period(period, ref)
        if value is not None:
            candidates.append((period.start(), value))
    explicit = _explicit_day(text, ref, day_first)
    if explicit is not None:
        candidates.append(explicit)
    if not candidates:
        return None
    return min(candidates, key=lambda c: c[0])[1]


def _explicit_day(text: str, ref: date, day_first: bool) -> tuple[int, date] | None:
    for m in _DATE_RE.finditer(text):
        hit = _DateHit(m.start(), m.end(), m.groupdict())
        if hit.groups.get("rel") in ("tonight",):
            continue
        value = _resolve_date(hit, ref, day_first)
        if value is not None:
            return m.start(), value
    bare = re.search(r"\b(?:by|before|on|until)\s+the\s+(\d{1,2})(?:st|nd|rd|th)\b", text)
    if bare:
        day = int(bare.group(1))
        for months_ahead in range(0, 3):
            year, month = ref.year + (ref.month - 1 + months_ahead) // 12, (ref.month - 1 + months_ahead) % 12 + 1
            if day <= calendar.monthrange(year, month)[1] and date(year, month, day) >= ref:
                return bare.start(), date(year, month, day)
    return None


def _resolve_period(m: re.Match[str], ref: date) -> date | None:
    phrase = " ".join(m.group("phrase").lower().split())
    if m.group("eo"):
        unit = m.group("eo")
        if unit in ("day", "business day"):
            return ref
        if unit == "week":
            return _friday_of(ref, 1 if ref.weekday() >= 5 else 0)
        return _month_end(ref.year, ref.month)
    if m.group("eon"):
        if m.group("eon") == "week":
            return _friday_of(ref, 1)
        return _month_end(*_next_month(ref))
    if m.group("pos"):
        pos, unit = m.group("pos"), m.group("posu")
        if unit == "week":
            monday = ref - timedelta(days=ref.weekday()) + timedelta(weeks=1)
            if pos.startswith(("early", "beginning", "start")):
                return monday + timedelta(days=1)
            if pos.startswith(("mid", "middle")):
                return monday + timedelta(days=2)
            return monday + timedelta(days=4)
        year, month = _next_month(ref)
        if pos.startswith(("early", "beginning", "start")):
            return date(year, month, 5)
        if pos.startswith(("mid", "middle")):
            return date(year, month, 15)
        return _month_end(year, month)
    if m.group("lt"):
        if m.group("lt") == "week":
            return _friday_of(ref, 1 if ref.weekday() >= 5 else 0)
        return _month_end(ref.year, ref.month)
    if m.group("et"):
        return _friday_of(ref, 0)
    if m.group("nx"):
        if m.group("nx") == "week":
            return _friday_of(ref, 1)
        return _month_end(*_next_month(ref))
    if phrase == "this week":
        return _friday_of(ref, 1 if ref.weekday() >= 5 else 0)
    if m.group("mpos"):
        month = _MONTHS[m.group("pmon").lower().rstrip(".")]
        day_of = {"early": 5, "beginning": 5, "start": 5, "mid": 15, "middle": 15}
        key = m.group("mpos").lower().split()[0]
        candidate = _pick_year(ref, month, 1, None)
        if candidate is None:
            return None
        if key in day_of:
            return date(candidate.year, month, day_of[key])
        return _month_end(candidate.year, month)
    return None


def find_timeline_phrase(sentence: str) -> re.Match[str] | None:
    """Return the first duration or period phrase in ``sentence`` (for evidence), or None."""
    return _DURATION.search(sentence) or _PERIOD.search(sentence)


# ---------------------------------------------------------------------------------------------
# Out-of-office returns
# ---------------------------------------------------------------------------------------------

_RETURN_CUE = re.compile(
    r"\b(?P<cue>(?:until|till|til|through|thru|to|-|–)\b|back\s+(?:in\s+the\s+office\s+)?(?:on\s+)?|"
    r"return(?:ing)?\s+(?:to\s+(?:the\s+)?(?:office|work)\s+)?(?:on\s+)?|"
    r"(?:be\s+)?(?:in\s+the\s+office|available)\s+(?:again\s+)?(?:on|from)\s+|"
    r"resume\s+\w+\s+on\s+)",
    re.IGNORECASE,
)


def find_return_date(text: str, ref: date, *, day_first: bool = False) -> date | None:
    """Given an out-of-office reply and its reference day, return the day the person is back.

    "until X", "back on X", "returning X" → X; "through X" or "X – Y" ranges → the day after the
    last day away. A date before the reference day is ignored (it is the start of the absence).
    """
    best: tuple[int, date] | None = None
    for cue in _RETURN_CUE.finditer(text):
        window = text[cue.end() : cue.end() + 60]
        window = re.sub(r"^\s*(?:and\s+including\s+|including\s+|on\s+)", "", window, flags=re.IGNORECASE)
        value = _date_at_start(window, ref, day_first)
        if value is None:
            continue
        word = cue.group("cue").lower().strip()
        if word in ("through", "thru", "-", "–", "to") or "including" in text[cue.end() : cue.end() + 20].lower():
            value += timedelta(days=1)
        if value < ref:
            continue
        rank = 0 if word.startswith(("back", "return", "in the", "be", "available", "resume")) else 1
        if best is None or rank < best[0]:
            best = (rank, value)
    return best[1] if best else None


def _date_at_start(window: str, ref: date, day_first: bool) -> date | None:
    m = _DATE_RE.match(window.lstrip(" ,"))
    if m:
        return _resolve_date(_DateHit(m.start(), m.end(), m.groupdict()), ref, day_first)
    bare = re.match(r"\s*(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)\b", window, re.IGNORECASE)
    if bare:
        day = int(bare.group(1))
        for months_ahead in range(0, 3):
            year, month = ref.year + (ref.month - 1 + months_ahead) // 12, (ref.month - 1 + months_ahead) % 12 + 1
            if day <= calendar.monthrange(year, month)[1] and date(year, month, day) >= ref:
                return date(year, month, day)
    return None
