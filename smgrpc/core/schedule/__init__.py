"""Rotation schedules (pure): RotationRules validation, AWS cron and rate, rotation windows.

No clock, storage or transport here: every time is passed in as epoch seconds, UTC.
"""

from smgrpc.core.schedule.rules import Schedule, parse_rules
from smgrpc.core.schedule.windows import (
    Window,
    due_window,
    next_rotation_date,
    next_window,
    opens_at,
)

__all__ = [
    "Schedule",
    "Window",
    "due_window",
    "next_rotation_date",
    "next_window",
    "opens_at",
    "parse_rules",
]
