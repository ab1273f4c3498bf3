"""AWS six-field cron expressions: parsing and the next fire time, in UTC.

Syntax as the AWS documentation gives it for Secrets Manager rotation ("Schedule expressions in
Secrets Manager rotation", https://docs.aws.amazon.com/secretsmanager/latest/userguide/
rotate-secrets_schedule.html) and EventBridge, from which it is taken:

    cron(Minutes Hours Day-of-month Month Day-of-week Year)

| field        | values             | wildcards         |
| ------------ | ------------------ | ----------------- |
| Minutes      | 0-59               | , - * /           |
| Hours        | 0-23               | , - * /           |
| Day-of-month | 1-31               | , - * ? / L W     |
| Month        | 1-12 or JAN-DEC    | , - * /           |
| Day-of-week  | 1-7 or SUN-SAT     | , - * ? / L #     |
| Year         | 1970-2199          | , - * /           |

Day-of-week counts 1 = SUN ... 7 = SAT. One of day-of-month and day-of-week must be `?` (AWS:
"You can't specify the Day-of-month and Day-of-week fields in the same cron expression").
`L` is the last day of the month (day-of-month) or SAT (day-of-week, alone); `nL` the last
weekday n of the month; `LW` the last weekday (MON-FRI) of the month; `nW` the weekday nearest to
day n within the same month; `n#k` the k-th weekday n of the month (3#2 = second Tuesday).

This module is the general evaluator (any minute, any year); the Secrets Manager restrictions
(minutes 0, year `*`, 4-hour minimum interval) live in rules.py. Choices where AWS is silent:
names are case-insensitive; a range may wrap (`FRI-MON`, `22-2`, `NOV-FEB`); `W`, `LW`, `nL`
and `#` must be the whole field (as in Quartz, whose syntax AWS follows); `nW` with n past the
month's last day does not fire that month; a month without a k-th weekday n does not fire.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
YEAR_MIN, YEAR_MAX = 1970, 2199
_UTC = dt.UTC
_NUM = re.compile(r"^[0-9]{1,4}$")


class CronSyntaxError(ValueError):
    """A cron expression AWS would not accept; the message says which field and why."""


@dataclass(frozen=True, slots=True)
class DaySpec:
    """One day field: `days` (a plain set) or one special form.

    kind: "any" (`?`), "set" (values), "last" (L), "lastweekday" (LW), "nearest" (nW),
    "lastdow" (nL), "nth" (n#k). `n`/`k` carry the special form's numbers.
    """

    kind: str
    days: frozenset[int] = frozenset()
    n: int = 0
    k: int = 0


@dataclass(frozen=True, slots=True, eq=False)
class Cron:
    """A parsed expression. Compared and hashed by identity: parse_cron memoises by text, and
    month_days is memoised by (cron, year, month) without rehashing every field each call."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: tuple[int, ...]
    years: tuple[int, ...]
    dom: DaySpec
    dow: DaySpec


def aws_weekday(day: dt.date) -> int:
    """AWS day-of-week number of a date: 1 = SUN ... 7 = SAT."""
    return (day.weekday() + 1) % 7 + 1


def _value(text: str, lo: int, hi: int, names: tuple[str, ...], field: str) -> int:
    if names and text.upper() in names:
        return names.index(text.upper()) + 1
    if not _NUM.match(text):
        raise CronSyntaxError(f"The {field} field has an invalid value '{text}'.")
    v = int(text)
    if not lo <= v <= hi:
        raise CronSyntaxError(f"The {field} field value {v} is outside {lo}-{hi}.")
    return v


def _span(a: int, b: int, step: int, lo: int, hi: int) -> list[int]:
    """a..b by step, wrapping past hi back to lo when b < a."""
    if b >= a:
        return list(range(a, b + 1, step))
    size = hi - lo + 1
    return [lo + (a - lo + i) % size for i in range(0, (b - a) % size + 1, step)]


def _values(text: str, lo: int, hi: int, field: str, names: tuple[str, ...] = ()) -> list[int]:
    """A list of `*`, values, ranges and steps (`,` `-` `*` `/`)."""
    out: set[int] = set()
    for item in text.split(","):
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not _NUM.match(step_text) or int(step_text) == 0:
                raise CronSyntaxError(f"The {field} field has an invalid step '{item}'.")
            step = int(step_text)
        if base == "*":
            a, b = lo, hi
        elif "-" in base:
            first, _, last = base.partition("-")
            a, b = _value(first, lo, hi, names, field), _value(last, lo, hi, names, field)
        else:
            a = _value(base, lo, hi, names, field)
            b = hi if slash else a
        out.update(_span(a, b, step, lo, hi))
    return sorted(out)


def _dom(text: str) -> DaySpec:
    if text == "?":
        return DaySpec("any")
    if text == "L":
        return DaySpec("last")
    if text == "LW":
        return DaySpec("lastweekday")
    if text.endswith("W"):
        return DaySpec("nearest", n=_value(text[:-1], 1, 31, (), "day-of-month"))
    return DaySpec("set", frozenset(_values(text, 1, 31, "day-of-month")))


def _dow(text: str) -> DaySpec:
    if text == "?":
        return DaySpec("any")
    if text == "L":
        return DaySpec("set", frozenset({7}))
    if "#" in text:
        day, _, nth = text.partition("#")
        if not (_NUM.match(nth) and 1 <= int(nth) <= 5):
            raise CronSyntaxError(f"The day-of-week field needs 1-5 after '#' in '{text}'.")
        return DaySpec("nth", n=_value(day, 1, 7, WEEKDAYS, "day-of-week"), k=int(nth))
    if len(text) > 1 and text.endswith("L"):
        return DaySpec("lastdow", n=_value(text[:-1], 1, 7, WEEKDAYS, "day-of-week"))
    return DaySpec("set", frozenset(_values(text, 1, 7, "day-of-week", WEEKDAYS)))


@lru_cache(maxsize=256)
def parse_cron(body: str) -> Cron:
    """Parse the six fields inside `cron(...)`; raises CronSyntaxError."""
    fields = body.split()
    if len(fields) != 6:
        raise CronSyntaxError(f"A cron expression has 6 fields, not {len(fields)}.")
    minute, hour, dom_text, month, dow_text, year = fields
    if (dom_text == "?") == (dow_text == "?"):
        raise CronSyntaxError("Exactly one of day-of-month and day-of-week must be '?'.")
    if "?" in minute + hour + month + year:
        raise CronSyntaxError("Only day-of-month and day-of-week may be '?'.")
    return Cron(
        minutes=tuple(_values(minute, 0, 59, "minutes")),
        hours=tuple(_values(hour, 0, 23, "hours")),
        months=tuple(_values(month, 1, 12, "month", MONTHS)),
        years=tuple(_values(year, YEAR_MIN, YEAR_MAX, "year")),
        dom=_dom(dom_text),
        dow=_dow(dow_text),
    )


def _weekday_near(year: int, month: int, day: int, last: int) -> int:
    """The MON-FRI day nearest to `day`, never leaving the month (Quartz/AWS `W`)."""
    wd = dt.date(year, month, day).weekday()  # MON = 0
    if wd == 5:  # Saturday: Friday before, or Monday after when the 1st
        return day - 1 if day > 1 else day + 2
    if wd == 6:  # Sunday: Monday after, or Friday before when the last day
        return day + 1 if day < last else day - 2
    return day


@lru_cache(maxsize=4096)
def month_days(cron: Cron, year: int, month: int) -> tuple[int, ...]:
    """The days of (year, month) on which `cron` fires, ascending."""
    last = calendar.monthrange(year, month)[1]
    dom, dow = cron.dom, cron.dow
    if dom.kind == "set":
        return tuple(sorted(d for d in dom.days if d <= last))
    if dom.kind == "last":
        return (last,)
    if dom.kind == "lastweekday":
        return (_weekday_near(year, month, last, last),)
    if dom.kind == "nearest":
        return (_weekday_near(year, month, dom.n, last),) if dom.n <= last else ()
    first = aws_weekday(dt.date(year, month, 1))  # AWS weekday number of day 1
    if dow.kind == "nth":
        day = 1 + (dow.n - first) % 7 + 7 * (dow.k - 1)
        return (day,) if day <= last else ()
    if dow.kind == "lastdow":
        day = 1 + (dow.n - first) % 7
        return (day + 7 * ((last - day) // 7),)
    return tuple(d for d in range(1, last + 1) if (first + d - 2) % 7 + 1 in dow.days)


def _first_at_least(values: tuple[int, ...], floor: int) -> int | None:
    for v in values:
        if v >= floor:
            return v
    return None


def next_fire(cron: Cron, after: float) -> float | None:
    """The first fire time strictly after `after` (epoch seconds, UTC); None if there is none.

    Skips by field (year, month, day, hour, minute) instead of stepping through minutes, so a
    search over the whole year range costs at most a few thousand month look-ups.
    """
    start = dt.datetime.fromtimestamp((int(after // 60) + 1) * 60, _UTC)
    y, mo, d, h, mi = start.year, start.month, start.day, start.hour, start.minute
    for year in cron.years:
        if year < y:
            continue
        if year > y:
            mo, d, h, mi = 1, 1, 0, 0
        for month in cron.months:
            if (year, month) < (y, mo):
                continue
            if (year, month) > (y, mo):
                d, h, mi = 1, 0, 0
            hit = _in_month(cron, year, month, d, h, mi)
            if hit is not None:
                return hit
        y = year
    return None


def _in_month(cron: Cron, year: int, month: int, d: int, h: int, mi: int) -> float | None:
    for day in month_days(cron, year, month):
        if day < d:
            continue
        if day > d:
            h, mi = 0, 0
        for hour in cron.hours:
            if hour < h:
                continue
            minute = _first_at_least(cron.minutes, mi if hour == h else 0)
            if minute is not None:
                moment = dt.datetime(year, month, day, hour, minute, tzinfo=_UTC)
                return moment.timestamp()
        h, mi = 0, 0
    return None
