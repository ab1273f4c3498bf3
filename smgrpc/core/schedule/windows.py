"""Rotation windows: when the next one opens, and the NextRotationDate DescribeSecret reports.

AWS ("Rotation schedules", https://docs.aws.amazon.com/secretsmanager/latest/userguide/
rotate-secrets_schedule.html; RotationRulesType): "Secrets Manager rotation windows always start
on the hour. For a rotation schedule that uses a rate() expression in days, the rotation window
starts at midnight. You can set the start time for the rotation window by using a cron()
expression." "By default, the rotation window closes after one hour for a rotation schedule in
hours, and at the end of the day for a rotation schedule in days." AutomaticallyAfterDays: "If you
use this field to set the rotation schedule, Secrets Manager calculates the next rotation date
based on the previous rotation." A cron "that includes increments of hours resets each day".

DescribeSecret NextRotationDate: "The next rotation is scheduled to occur on or before this date.
If the secret isn't configured for rotation or rotation has been disabled, Secrets Manager returns
null. [...] This date represents the latest date that rotation will occur".

Choices where AWS leaves one (also in README "Rotation schedules"):
* AutomaticallyAfterDays N and rate(N days): the window opens at 00:00 UTC of the day N days after
  the day of the last rotation (the time of day of the last rotation does not matter).
* rate(N hours): windows open at 00:00, N, 2N, ... hours of every UTC day (it "starts at
  midnight" and, like the cron form cron(0 0/N * * ? *), resets each day).
* NextRotationDate is the last second of the window the next rotation falls in (window end - 1 s).
* A window that closed before `now` without a rotation is missed: the next rotation falls in the
  next window still open (for day schedules, the daily window of today or tomorrow).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from smgrpc.core.schedule.cron import next_fire
from smgrpc.core.schedule.rules import Plan, Schedule, plan

DAY = 86400.0
HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class Window:
    start: float  # epoch seconds, UTC
    end: float  # start + duration


def _day_start(t: float) -> float:
    return (t // DAY) * DAY


def _after(p: Plan, after: float) -> Window:
    length = p.hours * HOUR
    if p.every_days is not None:
        start = _day_start(after) + p.every_days * DAY
        return Window(start, start + length)
    assert p.cron is not None
    fire = next_fire(p.cron, after)
    if fire is None:
        raise ValueError("the schedule has no rotation window after this time")
    return Window(fire, fire + length)


def next_window(s: Schedule, after: float) -> Window:
    """The first rotation window that starts strictly after `after`.

    For day schedules (AutomaticallyAfterDays, rate(N days)) `after` is the last rotation and the
    window counts from its day; for cron and rate(N hours) it opens at the next fire time.
    Raises ValueError for a Schedule without automatic rotation (`s.automatic` is False).
    """
    return _after(plan(s), after)


def due_window(s: Schedule, last_rotated: float | None, now: float) -> Window:
    """The window the next rotation falls in: may already be open (start <= now < end).

    The first window after the last rotation (after `now` if never rotated), unless it closed
    before `now`; then the next window still open at `now` or later.
    """
    p = plan(s)
    w = _after(p, now if last_rotated is None else last_rotated)
    if w.end > now:
        return w
    length = p.hours * HOUR
    if p.every_days is not None:
        today = _day_start(now)
        start = today if now < today + length else today + DAY
        return Window(start, start + length)
    return _after(p, now - length)  # the first fire whose window has not closed yet


def next_rotation_date(s: Schedule, last_rotated: float | None, now: float) -> float | None:
    """DescribeSecret's NextRotationDate: the latest second the next rotation can happen.

    None when the schedule has no automatic rotation (AWS: null).
    """
    if not s.automatic:
        return None
    return due_window(s, last_rotated, now).end - 1.0


@lru_cache(maxsize=1024)
def _window_hours(s: Schedule) -> int:
    """A schedule's window length in hours (memoised: every secret of a herd shares rules)."""
    return plan(s).hours


def opens_at(s: Schedule, next_rotation: float) -> float:
    """When the window whose NextRotationDate (its last second) is `next_rotation` opens: the
    time a scheduled rotation starts. Invariant: opens_at(s, next_rotation_date(s, l, n)) ==
    due_window(s, l, n).start."""
    return next_rotation + 1.0 - _window_hours(s) * HOUR
