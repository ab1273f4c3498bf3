"""RotationRules validation: AutomaticallyAfterDays, ScheduleExpression, Duration.

Sources (AWS documentation):
* RotationRulesType (API reference, https://docs.aws.amazon.com/secretsmanager/latest/
  apireference/API_RotationRulesType.html) and the botocore model: AutomaticallyAfterDays is a
  long 1..1000; Duration a string of length 2..3 matching `[0-9]+h`; ScheduleExpression a string
  of length 1..256 matching `[0-9A-Za-z\\(\\)#\\?\\*\\-\\/, ]+`. "In RotateSecret, you can set the
  rotation schedule in RotationRules with AutomaticallyAfterDays or ScheduleExpression, but not
  both." Violations of the model answer ValidationException ("1 validation error detected").
* "Rotation schedules" (user guide, rotate-secrets_schedule.html): `rate(Value Unit)` with Unit
  hour, hours, day or days; "You can rotate a secret as often as every four hours"; "The maximum
  rotation period is 999 days"; cron minutes "Must be 0" ("rotation windows open on the hour") and
  year "Must be *" ("Secrets Manager does not support rotation schedules that are more than a
  year apart"); "You can set the rotation window as small as one hour"; "The rotation window must
  not extend into the next rotation window [...] for a rotation schedule in hours, confirm that
  the rotation window is less than or equal to the number of hours between rotations. For a
  rotation schedule in days, confirm that the start hour plus the window duration is less than or
  equal to 24 hours."

The service checks answer InvalidParameterException. Wording: "You cannot specify both rotation
frequency and schedule expression together." is AWS's (quoted in terraform-provider-aws issues
#31915 and #33329). The other sentences ("Invalid schedule expression.", "Rate in hour should be
least 4 and less than 24.", "Rate in day should be greater than 0 and less than 1000.",
"Duration must be at least 1 hour, at most 24 hour.", "Duration cannot be greater than Rate in
hour.", "Starting hour and duration must be within a day.") are AWS's as reported by one
third-party rule set, unverified; "Invalid schedule expression." is followed by a sentence naming
the problem, since AWS's bare sentence does not say what is wrong.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from smgrpc.core.errors import InvalidParameter, validation
from smgrpc.core.schedule.cron import Cron, CronSyntaxError, month_days, parse_cron

DAYS_PATH = "rotationRules.automaticallyAfterDays"
EXPRESSION_PATH = "rotationRules.scheduleExpression"
DURATION_PATH = "rotationRules.duration"
MIN_INTERVAL_HOURS = 4
_DURATION_RE = re.compile(r"^[0-9]+h$")
_EXPRESSION_RE = re.compile(r"^[0-9A-Za-z()#?*\-/, ]+$")
_RATE_RE = re.compile(r"^rate\(([0-9]+) (hour|hours|day|days)\)$")
_CRON_RE = re.compile(r"^cron\((.*)\)$")

BOTH = "You cannot specify both rotation frequency and schedule expression together."
INVALID_EXPRESSION = "Invalid schedule expression."
RATE_HOURS = "Rate in hour should be least 4 and less than 24."
RATE_DAYS = "Rate in day should be greater than 0 and less than 1000."
DURATION_RANGE = "Duration must be at least 1 hour, at most 24 hour."
DURATION_OVER_RATE = "Duration cannot be greater than Rate in hour."
DURATION_OVER_INTERVAL = "Duration cannot be greater than the hours between rotation windows."
WITHIN_A_DAY = "Starting hour and duration must be within a day."
DURATION_ALONE = "Duration needs AutomaticallyAfterDays or ScheduleExpression to start a window."


@dataclass(frozen=True, slots=True)
class Schedule:
    """A validated rotation schedule; make it with parse_rules (fields are AWS's, as given)."""

    automatically_after_days: int | None
    schedule_expression: str | None  # as given: "rate(10 days)", "cron(0 8 ? * MON *)"
    duration: str | None  # "3h" as given; None = AWS's default window

    @property
    def automatic(self) -> bool:
        """True when the rules define automatic rotations (days or an expression)."""
        return self.automatically_after_days is not None or self.schedule_expression is not None


@dataclass(frozen=True, slots=True)
class Plan:
    """How a Schedule places its windows (derived, never stored).

    every_days: windows open at midnight UTC `every_days` days after the last rotation's day.
    cron: windows open at the fire times of this cron (rate(N hours) is cron(0 0/N * * ? *)).
    hours: the window length in hours (Duration, or AWS's default).
    """

    every_days: int | None
    cron: Cron | None
    hours: int


def parse_rules(days: int | None, expression: str | None, duration: str | None) -> Schedule:
    """Validate RotationRules as RotateSecret does; raises ValidationError / InvalidParameter."""
    _model_checks(days, expression, duration)
    if days is not None and expression is not None:
        raise InvalidParameter(BOTH, field=EXPRESSION_PATH)
    schedule = Schedule(days, expression, duration)
    if not schedule.automatic:
        if duration is not None:
            raise InvalidParameter(DURATION_ALONE, field=DURATION_PATH)
        return schedule
    plan(schedule)  # the service checks
    return schedule


def _model_checks(days: int | None, expression: str | None, duration: str | None) -> None:
    if days is not None and not 1 <= days <= 1000:
        bound = "greater than or equal to 1" if days < 1 else "less than or equal to 1000"
        raise validation(f"'{days}'", DAYS_PATH, f"Member must have value {bound}")
    for value, path, lo, hi, pattern, shown_pattern in (
        (duration, DURATION_PATH, 2, 3, _DURATION_RE, "[0-9]+h"),
        (expression, EXPRESSION_PATH, 1, 256, _EXPRESSION_RE, r"[0-9A-Za-z\(\)#\?\*\-\/, ]+"),
    ):
        if value is None:
            continue
        shown = f"'{value}'"
        if len(value) < lo:
            raise validation(shown, path, f"Member must have length greater than or equal to {lo}")
        if len(value) > hi:
            raise validation(shown, path, f"Member must have length less than or equal to {hi}")
        if not pattern.match(value):
            constraint = f"Member must satisfy regular expression pattern: {shown_pattern}"
            raise validation(shown, path, constraint)


def plan(schedule: Schedule) -> Plan:
    """The window plan of a schedule, checking the service rules (InvalidParameter)."""
    hours = _duration_hours(schedule.duration)
    if schedule.automatically_after_days is not None:
        return Plan(schedule.automatically_after_days, None, hours or 24)
    text = schedule.schedule_expression
    if text is None:
        raise ValueError("a schedule without days or an expression has no windows")
    rate = _RATE_RE.match(text)
    if rate:
        return _rate_plan(int(rate.group(1)), rate.group(2).startswith("hour"), hours)
    body = _CRON_RE.match(text)
    if not body:
        raise _invalid("Use rate(N hours), rate(N days) or cron(...).")
    try:
        cron = parse_cron(body.group(1))
    except CronSyntaxError as exc:
        raise _invalid(str(exc)) from None
    return _cron_plan(cron, hours)


def _invalid(detail: str) -> InvalidParameter:
    return InvalidParameter(f"{INVALID_EXPRESSION} {detail}", field=EXPRESSION_PATH)


def _duration_hours(duration: str | None) -> int | None:
    if duration is None:
        return None
    hours = int(duration[:-1])
    if not 1 <= hours <= 24:
        raise InvalidParameter(DURATION_RANGE, field=DURATION_PATH)
    return hours


def _rate_plan(n: int, in_hours: bool, hours: int | None) -> Plan:
    if not in_hours:
        if not 1 <= n <= 999:
            raise InvalidParameter(RATE_DAYS, field=EXPRESSION_PATH)
        return Plan(n, None, hours or 24)
    if not MIN_INTERVAL_HOURS <= n <= 23:
        raise InvalidParameter(RATE_HOURS, field=EXPRESSION_PATH)
    if hours is not None and hours > n:
        raise InvalidParameter(DURATION_OVER_RATE, field=DURATION_PATH)
    cron = parse_cron(f"0 0/{n} * * ? *")
    _within_a_day(cron, hours or 1)
    return Plan(None, cron, hours or 1)


def _cron_plan(cron: Cron, hours: int | None) -> Plan:
    if cron.minutes != (0,):
        raise _invalid("The minutes field must be 0: rotation windows open on the hour.")
    if len(cron.years) != len(range(1970, 2200)):
        raise _invalid("The year field must be '*'.")
    if not any(month_days(cron, y, m) for y in range(2000, 2029) for m in cron.months):
        raise _invalid("The expression never fires.")
    gap = _min_gap(cron)
    if gap < MIN_INTERVAL_HOURS:
        raise _invalid("Rotations must be at least 4 hours apart.")
    in_hours = len(cron.hours) > 1  # AWS: "a cron expression that represents a schedule in hours"
    if in_hours and hours is not None and hours > gap:
        raise InvalidParameter(DURATION_OVER_INTERVAL, field=DURATION_PATH)
    length = hours or (1 if in_hours else 24 - cron.hours[0])
    _within_a_day(cron, length)
    return Plan(None, cron, length)


def _within_a_day(cron: Cron, hours: int) -> None:
    if cron.hours[-1] + hours > 24:
        raise InvalidParameter(WITHIN_A_DAY, field=DURATION_PATH)


def _min_gap(cron: Cron) -> int:
    """The smallest number of hours between two fires (minutes are 0 here)."""
    hs = cron.hours
    gaps = [b - a for a, b in zip(hs, hs[1:], strict=False)]
    wrap = 24 - hs[-1] + hs[0]
    if wrap < MIN_INTERVAL_HOURS and _fires_on_consecutive_days(cron):
        gaps.append(wrap)
    return min(gaps, default=24)


def _fires_on_consecutive_days(cron: Cron) -> bool:
    """Whether two adjacent calendar days can both fire, over 28 years (2000-2027).

    28 years hold every combination of weekday and month length that 1901-2099 has.
    """
    previous = -2
    for year in range(2000, 2028):
        for month in cron.months:
            base = dt.date(year, month, 1).toordinal() - 1
            for day in month_days(cron, year, month):
                if base + day == previous + 1:
                    return True
                previous = base + day
    return False
