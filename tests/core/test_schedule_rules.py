"""RotationRules validation (smgrpc.core.schedule.parse_rules): exact error class and message."""

from __future__ import annotations

import time

import pytest

from smgrpc.core.errors import InvalidParameter, ServiceError, ValidationError
from smgrpc.core.schedule import Schedule, parse_rules
from smgrpc.core.schedule.cron import month_days, parse_cron

V1 = "1 validation error detected: Value "
EXPR_PATTERN = r"[0-9A-Za-z\(\)#\?\*\-\/, ]+"
INVALID = "Invalid schedule expression. "

VALID = [
    (1, None, None),
    (1000, None, None),
    (30, None, "3h"),
    (30, None, "24h"),
    (None, "rate(4 hours)", None),
    (None, "rate(23 hours)", None),
    (None, "rate(6 hours)", "6h"),
    (None, "rate(12 hours)", "2h"),
    (None, "rate(1 day)", None),
    (None, "rate(10 days)", "24h"),
    (None, "rate(999 days)", None),
    (None, "cron(0 16 1,15 * ? *)", "2h"),
    (None, "cron(0 4/12 * * ? *)", None),
    (None, "cron(0 0/4 * * ? *)", "4h"),
    (None, "cron(0 8/8 * * ? *)", None),
    (None, "cron(0 0 ? * SUN#1 *)", None),
    (None, "cron(0 16 L * ? *)", "8h"),
    (None, "cron(0 10 ? FEB,MAY,AUG,NOV TUE#2 *)", None),
    (None, "cron(0 0 29 2 ? *)", None),
    (None, "cron(0 0 LW * ? *)", None),
    (None, "cron(0 0 15W * ? *)", None),
    (None, "cron(0 0 ? * 3#2 *)", None),
    (None, "cron(0 23 ? * 6L *)", "1h"),
    # 23:00 and 01:00 are 2 h apart across midnight, but never on adjacent days (MON only)
    (None, "cron(0 1,23 ? * MON *)", "1h"),
    (None, None, None),  # no automatic rotation: RotateSecret with a function only
]


@pytest.mark.parametrize(("days", "expression", "duration"), VALID)
def test_valid_rules(days: int | None, expression: str | None, duration: str | None) -> None:
    assert parse_rules(days, expression, duration) == Schedule(days, expression, duration)


def test_automatic() -> None:
    assert parse_rules(7, None, None).automatic
    assert parse_rules(None, "rate(7 days)", None).automatic
    assert not parse_rules(None, None, None).automatic


INVALID_RULES: list[tuple[int | None, str | None, str | None, type[ServiceError], str]] = [
    # model constraints: ValidationException, in member order
    (
        0,
        None,
        None,
        ValidationError,
        V1 + "'0' at 'rotationRules.automaticallyAfterDays' "
        "failed to satisfy constraint: Member must have value greater than or equal to 1",
    ),
    (
        1001,
        None,
        None,
        ValidationError,
        V1 + "'1001' at 'rotationRules.automaticallyAfterDays' "
        "failed to satisfy constraint: Member must have value less than or equal to 1000",
    ),
    (
        1,
        None,
        "h",
        ValidationError,
        V1 + "'h' at 'rotationRules.duration' failed to satisfy "
        "constraint: Member must have length greater than or equal to 2",
    ),
    (
        1,
        None,
        "100h",
        ValidationError,
        V1 + "'100h' at 'rotationRules.duration' failed to "
        "satisfy constraint: Member must have length less than or equal to 3",
    ),
    (
        1,
        None,
        "3d",
        ValidationError,
        V1 + "'3d' at 'rotationRules.duration' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [0-9]+h",
    ),
    (
        1,
        None,
        "h3",
        ValidationError,
        V1 + "'h3' at 'rotationRules.duration' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [0-9]+h",
    ),
    (
        None,
        "",
        None,
        ValidationError,
        V1 + "'' at 'rotationRules.scheduleExpression' failed to "
        "satisfy constraint: Member must have length greater than or equal to 1",
    ),
    (
        None,
        "rate(1 day);",
        None,
        ValidationError,
        V1 + "'rate(1 day);' at "
        "'rotationRules.scheduleExpression' failed to satisfy constraint: Member must satisfy "
        "regular expression pattern: " + EXPR_PATTERN,
    ),
    (
        None,
        "cron(0 0 1 * ? *)" + " " * 250,
        None,
        ValidationError,
        V1 + "at "
        "'rotationRules.scheduleExpression' failed to satisfy constraint: Member must have length "
        "less than or equal to 256",
    ),
    # service checks: InvalidParameterException
    (
        10,
        "rate(10 days)",
        None,
        InvalidParameter,
        "You cannot specify both rotation frequency and schedule expression together.",
    ),
    (
        None,
        None,
        "3h",
        InvalidParameter,
        "Duration needs AutomaticallyAfterDays or ScheduleExpression to start a window.",
    ),
    (
        None,
        "rate(3 hours)",
        None,
        InvalidParameter,
        "Rate in hour should be least 4 and less than 24.",
    ),
    (
        None,
        "rate(24 hours)",
        None,
        InvalidParameter,
        "Rate in hour should be least 4 and less than 24.",
    ),
    (
        None,
        "rate(0 days)",
        None,
        InvalidParameter,
        "Rate in day should be greater than 0 and less than 1000.",
    ),
    (
        None,
        "rate(1000 days)",
        None,
        InvalidParameter,
        "Rate in day should be greater than 0 and less than 1000.",
    ),
    (
        None,
        "rate(10 minutes)",
        None,
        InvalidParameter,
        INVALID + "Use rate(N hours), rate(N days) or cron(...).",
    ),
    (
        None,
        "rate(10  days)",
        None,
        InvalidParameter,
        INVALID + "Use rate(N hours), rate(N days) or cron(...).",
    ),
    (
        None,
        "Rate(10 days)",
        None,
        InvalidParameter,
        INVALID + "Use rate(N hours), rate(N days) or cron(...).",
    ),
    (
        None,
        "0 0 1 * ? *",
        None,
        InvalidParameter,
        INVALID + "Use rate(N hours), rate(N days) or cron(...).",
    ),
    (
        None,
        "cron(0 0 1 * *)",
        None,
        InvalidParameter,
        INVALID + "A cron expression has 6 fields, not 5.",
    ),
    (
        None,
        "cron(0 0 1 * 2 *)",
        None,
        InvalidParameter,
        INVALID + "Exactly one of day-of-month and day-of-week must be '?'.",
    ),
    (
        None,
        "cron(0 0 ? * MONDAY *)",
        None,
        InvalidParameter,
        INVALID + "The day-of-week field has an invalid value 'MONDAY'.",
    ),
    (
        None,
        "cron(30 8 * * ? *)",
        None,
        InvalidParameter,
        INVALID + "The minutes field must be 0: rotation windows open on the hour.",
    ),
    (None, "cron(0 8 * * ? 2030)", None, InvalidParameter, INVALID + "The year field must be '*'."),
    (None, "cron(0 0 30 2 ? *)", None, InvalidParameter, INVALID + "The expression never fires."),
    (
        None,
        "cron(0 0 31 4,6,9,11 ? *)",
        None,
        InvalidParameter,
        INVALID + "The expression never fires.",
    ),
    (
        None,
        "cron(0 * * * ? *)",
        None,
        InvalidParameter,
        INVALID + "Rotations must be at least 4 hours apart.",
    ),
    (
        None,
        "cron(0 0/3 * * ? *)",
        None,
        InvalidParameter,
        INVALID + "Rotations must be at least 4 hours apart.",
    ),
    (
        None,
        "cron(0 8,10 ? * MON *)",
        None,
        InvalidParameter,
        INVALID + "Rotations must be at least 4 hours apart.",
    ),
    # 22:00 then 00:00 the next day: 2 hours apart on adjacent days
    (
        None,
        "cron(0 0,22 * * ? *)",
        None,
        InvalidParameter,
        INVALID + "Rotations must be at least 4 hours apart.",
    ),
    (
        None,
        "cron(0 0,22 ? * FRI,SAT *)",
        None,
        InvalidParameter,
        INVALID + "Rotations must be at least 4 hours apart.",
    ),
    # Duration
    (1, None, "0h", InvalidParameter, "Duration must be at least 1 hour, at most 24 hour."),
    (
        None,
        "rate(1 day)",
        "25h",
        InvalidParameter,
        "Duration must be at least 1 hour, at most 24 hour.",
    ),
    (
        None,
        "rate(6 hours)",
        "7h",
        InvalidParameter,
        "Duration cannot be greater than Rate in hour.",
    ),
    # rate(5 hours) opens at 20:00 too: a 5 h window would run into the next UTC day
    (
        None,
        "rate(5 hours)",
        "5h",
        InvalidParameter,
        "Starting hour and duration must be within a day.",
    ),
    (
        None,
        "cron(0 4/12 * * ? *)",
        "13h",
        InvalidParameter,
        "Duration cannot be greater than the hours between rotation windows.",
    ),
    (
        None,
        "cron(0 4/12 * * ? *)",
        "12h",
        InvalidParameter,
        "Starting hour and duration must be within a day.",
    ),
    (
        None,
        "cron(0 20 * * ? *)",
        "5h",
        InvalidParameter,
        "Starting hour and duration must be within a day.",
    ),
]


@pytest.mark.parametrize(("days", "expression", "duration", "cls", "message"), INVALID_RULES)
def test_invalid_rules(
    days: int | None,
    expression: str | None,
    duration: str | None,
    cls: type[ServiceError],
    message: str,
) -> None:
    with pytest.raises(ServiceError) as info:
        parse_rules(days, expression, duration)
    assert type(info.value) is cls
    assert info.value.message == message


def test_errors_name_the_field() -> None:
    with pytest.raises(ServiceError) as info:
        parse_rules(None, "rate(6 hours)", "7h")
    assert info.value.field == "rotationRules.duration"
    with pytest.raises(ServiceError) as info:
        parse_rules(None, "cron(30 8 * * ? *)", None)
    assert info.value.field == "rotationRules.scheduleExpression"


def test_worst_case_validation_stays_short() -> None:
    # 23:00 and 01:00 are 2 h apart across midnight: the adjacent-days scan runs over 28 years
    # (months skipped by field), well inside the event loop's ~20 ms budget.
    parse_cron.cache_clear()
    month_days.cache_clear()
    started = time.process_time()  # CPU time: what the loop would be blocked for, not the
    parse_rules(None, "cron(0 1,23 ? * MON *)", None)  # waits for a core on a loaded machine
    assert time.process_time() - started < 0.02
