"""Rotation windows and NextRotationDate (smgrpc.core.schedule), all in UTC, table-driven."""

from __future__ import annotations

import datetime as dt

import pytest

from smgrpc.core.schedule import Window, due_window, next_rotation_date, next_window, parse_rules


def ts(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


def iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def win(start: str, end: str) -> Window:
    return Window(ts(start), ts(end))


# (days, expression, duration, after, expected window)
NEXT = [
    # AutomaticallyAfterDays: midnight of the day N days after the last rotation's day,
    # closing at the end of that day unless Duration says otherwise
    (30, None, None, "2024-01-15T13:45", win("2024-02-14T00:00", "2024-02-15T00:00")),
    (1, None, None, "2024-02-28T23:59", win("2024-02-29T00:00", "2024-03-01T00:00")),
    (1, None, None, "2023-02-28T00:00", win("2023-03-01T00:00", "2023-03-02T00:00")),
    (30, None, "3h", "2024-01-15T00:00", win("2024-02-14T00:00", "2024-02-14T03:00")),
    (1000, None, None, "2024-01-01T12:00", win("2026-09-27T00:00", "2026-09-28T00:00")),
    # rate(N days): the same
    (None, "rate(10 days)", None, "2024-12-25T08:00", win("2025-01-04T00:00", "2025-01-05T00:00")),
    (None, "rate(1 day)", "2h", "2024-03-31T22:00", win("2024-04-01T00:00", "2024-04-01T02:00")),
    # rate(N hours): 00:00, N, 2N ... of each UTC day; default window one hour
    (None, "rate(6 hours)", None, "2024-02-10T13:20", win("2024-02-10T18:00", "2024-02-10T19:00")),
    (None, "rate(6 hours)", None, "2024-02-10T18:00", win("2024-02-11T00:00", "2024-02-11T01:00")),
    (None, "rate(5 hours)", "4h", "2024-02-10T20:30", win("2024-02-11T00:00", "2024-02-11T04:00")),
    (
        None,
        "rate(12 hours)",
        "12h",
        "2024-12-31T12:00",
        win("2025-01-01T00:00", "2025-01-01T12:00"),
    ),
    # cron in days: opens at the cron time, closes at the end of the UTC day by default
    (
        None,
        "cron(0 16 1,15 * ? *)",
        None,
        "2024-01-01T16:30",
        win("2024-01-15T16:00", "2024-01-16T00:00"),
    ),
    (
        None,
        "cron(0 16 1,15 * ? *)",
        "2h",
        "2024-01-01T15:00",
        win("2024-01-01T16:00", "2024-01-01T18:00"),
    ),
    (
        None,
        "cron(0 0 L * ? *)",
        None,
        "2024-02-01T00:00",
        win("2024-02-29T00:00", "2024-03-01T00:00"),
    ),
    (
        None,
        "cron(0 0 L * ? *)",
        None,
        "2023-02-01T00:00",
        win("2023-02-28T00:00", "2023-03-01T00:00"),
    ),
    (
        None,
        "cron(0 0 29 2 ? *)",
        None,
        "2024-03-01T00:00",
        win("2028-02-29T00:00", "2028-03-01T00:00"),
    ),
    (
        None,
        "cron(0 8 ? * 3#2 *)",
        "3h",
        "2024-01-09T09:00",
        win("2024-02-13T08:00", "2024-02-13T11:00"),
    ),
    # cron in hours: closes after one hour by default
    (
        None,
        "cron(0 4/12 * * ? *)",
        None,
        "2024-02-10T05:00",
        win("2024-02-10T16:00", "2024-02-10T17:00"),
    ),
    (
        None,
        "cron(0 4/12 * * ? *)",
        "8h",
        "2024-02-10T16:00",
        win("2024-02-11T04:00", "2024-02-11T12:00"),
    ),
]


@pytest.mark.parametrize(("days", "expression", "duration", "after", "expected"), NEXT)
def test_next_window(
    days: int | None, expression: str | None, duration: str | None, after: str, expected: Window
) -> None:
    s = parse_rules(days, expression, duration)
    got = next_window(s, ts(after))
    assert (iso(got.start), iso(got.end)) == (iso(expected.start), iso(expected.end))
    assert got.start > ts(after)


# (days, expression, duration, last rotated, now, NextRotationDate)
NEXT_DATE = [
    # counted from the last rotation; the last second of the window
    (30, None, None, "2024-01-15T13:45", "2024-01-15T13:45", "2024-02-14T23:59:59"),
    (30, None, "4h", "2024-01-15T13:45", "2024-01-20T00:00", "2024-02-14T03:59:59"),
    (None, "rate(10 days)", None, "2024-02-25T00:10", "2024-02-25T00:10", "2024-03-06T23:59:59"),
    # never rotated (RotateImmediately=false): counted from now
    (7, None, None, None, "2024-02-10T10:00", "2024-02-17T23:59:59"),
    (None, "cron(0 16 1,15 * ? *)", "2h", None, "2024-02-10T10:00", "2024-02-15T17:59:59"),
    # a window open now and not yet used: the rotation happens in it
    (
        None,
        "cron(0 16 1,15 * ? *)",
        "2h",
        "2024-01-15T16:10",
        "2024-02-01T17:00",
        "2024-02-01T17:59:59",
    ),
    (None, "rate(6 hours)", None, "2024-02-10T12:30", "2024-02-10T18:20", "2024-02-10T18:59:59"),
    # missed windows (the server was down): the next window still open
    (30, None, None, "2023-01-01T00:00", "2024-02-10T10:00", "2024-02-10T23:59:59"),
    (30, None, "2h", "2023-01-01T00:00", "2024-02-10T10:00", "2024-02-11T01:59:59"),
    (
        None,
        "cron(0 16 1,15 * ? *)",
        "2h",
        "2023-01-01T16:30",
        "2024-02-10T10:00",
        "2024-02-15T17:59:59",
    ),
    (None, "rate(6 hours)", "3h", "2024-02-01T00:30", "2024-02-10T13:00", "2024-02-10T14:59:59"),
    (None, "rate(6 hours)", "3h", "2024-02-01T00:30", "2024-02-10T15:00", "2024-02-10T20:59:59"),
]


@pytest.mark.parametrize(("days", "expression", "duration", "last", "now", "expected"), NEXT_DATE)
def test_next_rotation_date(
    days: int | None,
    expression: str | None,
    duration: str | None,
    last: str | None,
    now: str,
    expected: str,
) -> None:
    s = parse_rules(days, expression, duration)
    got = next_rotation_date(s, None if last is None else ts(last), ts(now))
    assert got is not None
    assert iso(got) == expected


def test_no_schedule_has_no_next_rotation_date() -> None:
    s = parse_rules(None, None, None)
    assert next_rotation_date(s, ts("2024-01-01T00:00"), ts("2024-01-02T00:00")) is None
    with pytest.raises(ValueError):
        next_window(s, ts("2024-01-01T00:00"))


def test_due_window_is_open_or_ahead() -> None:
    s = parse_rules(None, "cron(0 16 1,15 * ? *)", "2h")
    open_now = due_window(s, ts("2024-01-15T16:10"), ts("2024-02-01T17:00"))
    assert open_now == win("2024-02-01T16:00", "2024-02-01T18:00")
    ahead = due_window(s, ts("2024-02-01T16:10"), ts("2024-02-01T17:00"))
    assert ahead == win("2024-02-15T16:00", "2024-02-15T18:00")


def test_windows_follow_each_other_without_overlap() -> None:
    # a year of windows of a cron in hours, each rotation at its window's start
    s = parse_rules(None, "cron(0 4/12 * * ? *)", "8h")
    t, windows = ts("2024-01-01T00:00"), []
    for _ in range(732):  # 2024 has 366 days
        w = next_window(s, t)
        windows.append(w)
        t = w.start
    assert all(a.end <= b.start for a, b in zip(windows, windows[1:], strict=False))
    assert iso(windows[-1].start) == "2024-12-31T16:00:00"
