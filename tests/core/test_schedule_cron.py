"""AWS cron next-fire times (smgrpc.core.schedule.cron), all in UTC, table-driven."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from smgrpc.core.schedule.cron import CronSyntaxError, aws_weekday, next_fire, parse_cron


def ts(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


def iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M")


def fires(expr: str, after: str, n: int) -> list[str | None]:
    cron, t, out = parse_cron(expr), ts(after), []
    for _ in range(n):
        nxt = next_fire(cron, t)
        out.append(None if nxt is None else iso(nxt))
        if nxt is None:
            break
        t = nxt
    return out


CASES = [
    # month ends: L is the last day, whatever the month's length and leap year
    ("0 0 L * ? *", "2023-01-31T00:00", ["2023-02-28T00:00", "2023-03-31T00:00"]),
    ("0 0 L * ? *", "2024-01-31T00:00", ["2024-02-29T00:00", "2024-03-31T00:00"]),
    ("0 16 L * ? *", "2024-04-30T15:59", ["2024-04-30T16:00", "2024-05-31T16:00"]),
    # day 31 only in 31-day months; day 30 never in February
    ("0 0 31 * ? *", "2024-01-31T00:00", ["2024-03-31T00:00", "2024-05-31T00:00"]),
    ("0 0 30 * ? *", "2024-01-30T00:00", ["2024-03-30T00:00", "2024-04-30T00:00"]),
    # Feb 29: only leap years (2100 is not one)
    ("0 0 29 2 ? *", "2023-01-01T00:00", ["2024-02-29T00:00", "2028-02-29T00:00"]),
    ("0 0 29 FEB ? *", "2096-03-01T00:00", ["2104-02-29T00:00"]),
    # LW: last weekday; March 2024 ends on a Sunday, June 2024 on a Sunday, Aug 2024 on a Sat
    ("0 0 LW * ? *", "2024-03-01T00:00", ["2024-03-29T00:00", "2024-04-30T00:00"]),
    ("0 0 LW 6,8 ? *", "2024-01-01T00:00", ["2024-06-28T00:00", "2024-08-30T00:00"]),
    # 15W: the nearest weekday; June 15 2024 is a Saturday, Sep 15 2024 a Sunday
    ("0 0 15W * ? *", "2024-06-01T00:00", ["2024-06-14T00:00", "2024-07-15T00:00"]),
    ("0 0 15W 9 ? *", "2024-01-01T00:00", ["2024-09-16T00:00"]),
    # 1W never leaves the month: June 1 2024 is a Saturday -> Monday 3rd
    ("0 0 1W 6 ? *", "2024-01-01T00:00", ["2024-06-03T00:00"]),
    # 31W: Aug 31 2024 is a Saturday -> Friday 30th; months without a 31st do not fire
    ("0 0 31W 8,9 ? *", "2024-01-01T00:00", ["2024-08-30T00:00", "2025-08-29T00:00"]),
    # 3#2: the second Tuesday (1 = SUN, so 3 = TUE)
    ("0 8 ? * 3#2 *", "2024-01-01T00:00", ["2024-01-09T08:00", "2024-02-13T08:00"]),
    ("0 10 ? FEB,MAY,AUG,NOV TUE#2 *", "2024-11-30T00:00", ["2025-02-11T10:00"]),
    # 6#5: a fifth Friday exists only in some months
    ("0 0 ? * 6#5 *", "2024-01-01T00:00", ["2024-03-29T00:00", "2024-05-31T00:00"]),
    # nL: last Friday; L alone in day-of-week is Saturday
    ("0 0 ? * 6L *", "2024-02-01T00:00", ["2024-02-23T00:00", "2024-03-29T00:00"]),
    ("0 0 ? * L *", "2024-02-01T00:00", ["2024-02-03T00:00", "2024-02-10T00:00"]),
    # ? in either day field; names for months and weekdays, any case
    ("0 9 ? * MON-FRI *", "2024-02-09T09:00", ["2024-02-12T09:00", "2024-02-13T09:00"]),
    ("0 9 ? * sun *", "2024-02-09T09:00", ["2024-02-11T09:00", "2024-02-18T09:00"]),
    ("0 0 1 jan,Jul ? *", "2024-02-09T09:00", ["2024-07-01T00:00", "2025-01-01T00:00"]),
    # steps: 0/15 minutes, 4/12 hours reset each day (AWS's own example), */4
    ("0/15 * * * ? *", "2024-02-10T23:50", ["2024-02-11T00:00", "2024-02-11T00:15"]),
    ("0 4/12 * * ? *", "2024-02-10T16:00", ["2024-02-11T04:00", "2024-02-11T16:00"]),
    ("0 */8 * * ? *", "2024-02-10T16:00", ["2024-02-11T00:00", "2024-02-11T08:00"]),
    ("0 8 1/7 * ? *", "2024-02-22T08:00", ["2024-02-29T08:00", "2024-03-01T08:00"]),
    # ranges that wrap: FRI-MON, 22-1 hours, NOV-FEB
    ("0 0 ? * FRI-MON *", "2024-02-08T00:00", ["2024-02-09T00:00", "2024-02-10T00:00"]),
    ("0 22-1 * * ? *", "2024-02-10T01:00", ["2024-02-10T22:00", "2024-02-10T23:00"]),
    ("0 0 1 NOV-FEB ? *", "2024-02-01T00:00", ["2024-11-01T00:00", "2024-12-01T00:00"]),
    # year ranges that end, and an expression that never fires again
    ("0 0 1 1 ? 2024-2025", "2024-06-01T00:00", ["2025-01-01T00:00", None]),
    ("0 0 1 1 ? 2020", "2024-06-01T00:00", [None]),
    ("0 0 30 2 ? *", "2024-01-01T00:00", [None]),
    # strictly after: a fire time equal to `after` is not returned; seconds round up
    ("0 12 * * ? *", "2024-02-10T12:00", ["2024-02-11T12:00"]),
    # year end
    ("0 0 1 * ? *", "2024-12-31T23:59", ["2025-01-01T00:00"]),
]


@pytest.mark.parametrize(("expr", "after", "expected"), CASES)
def test_next_fire(expr: str, after: str, expected: list[str | None]) -> None:
    assert fires(expr, after, len(expected)) == expected


def test_seconds_into_a_minute_round_up() -> None:
    cron = parse_cron("* * * * ? *")
    assert next_fire(cron, ts("2024-02-10T12:00") + 30.5) == ts("2024-02-10T12:01")


@pytest.mark.parametrize(
    ("day", "number"),
    [("2024-02-11", 1), ("2024-02-12", 2), ("2024-02-13", 3), ("2024-02-17", 7)],
)
def test_weekday_numbering_is_1_sun_to_7_sat(day: str, number: int) -> None:
    assert aws_weekday(dt.date.fromisoformat(day)) == number


BAD = [
    ("0 0 * * ?", "A cron expression has 6 fields, not 5."),
    ("0 0 * * ? * *", "A cron expression has 6 fields, not 7."),
    ("0 0 * * * *", "Exactly one of day-of-month and day-of-week must be '?'."),
    ("0 0 ? * ? *", "Exactly one of day-of-month and day-of-week must be '?'."),
    ("0 ? 1 * ? *", "Only day-of-month and day-of-week may be '?'."),
    ("60 0 1 * ? *", "The minutes field value 60 is outside 0-59."),
    ("0 24 1 * ? *", "The hours field value 24 is outside 0-23."),
    ("0 0 32 * ? *", "The day-of-month field value 32 is outside 1-31."),
    ("0 0 0 * ? *", "The day-of-month field value 0 is outside 1-31."),
    ("0 0 1 13 ? *", "The month field value 13 is outside 1-12."),
    ("0 0 ? * 0 *", "The day-of-week field value 0 is outside 1-7."),
    ("0 0 ? * 8 *", "The day-of-week field value 8 is outside 1-7."),
    ("0 0 1 * ? 1969", "The year field value 1969 is outside 1970-2199."),
    ("0 0 1 FOO ? *", "The month field has an invalid value 'FOO'."),
    ("0 0 ? * MONDAY *", "The day-of-week field has an invalid value 'MONDAY'."),
    ("0 0/0 1 * ? *", "The hours field has an invalid step '0/0'."),
    ("0 0 ? * 3#6 *", "The day-of-week field needs 1-5 after '#' in '3#6'."),
    ("0 0 ? * 3#0 *", "The day-of-week field needs 1-5 after '#' in '3#0'."),
    ("0 0 1,L * ? *", "The day-of-month field has an invalid value 'L'."),
    ("0 0 1-5W * ? *", "The day-of-month field has an invalid value '1-5'."),
    ("0 0 ? * 2,3#1 *", "The day-of-week field has an invalid value '2,3'."),
]


@pytest.mark.parametrize(("expr", "message"), BAD)
def test_syntax_errors(expr: str, message: str) -> None:
    with pytest.raises(CronSyntaxError) as info:
        parse_cron(expr)
    assert str(info.value) == message


def test_never_firing_search_skips_by_field() -> None:
    # Feb 30 is searched over every remaining year of the range: months are skipped, not
    # minutes, so this stays far below the event loop's 20 ms budget.
    cron = parse_cron("0 0 30 2 ? *")
    started = time.process_time()  # CPU time (a loaded machine's waits for a core aside)
    assert next_fire(cron, ts("1970-01-01T00:00")) is None
    assert time.process_time() - started < 0.05


def test_last_year_of_the_range() -> None:
    cron = parse_cron("0 0 31 12 ? *")
    assert next_fire(cron, ts("2199-12-30T00:00")) == ts("2199-12-31T00:00")
    assert next_fire(cron, ts("2199-12-31T00:00")) is None
