"""Log formatting (text or one JSON object per line) and the process-wide logging set-up.

Structured fields travel in `extra`: `log.info("call", extra={"method": "GetSecretValue"})`.
The text format appends them as `key=value`; the JSON format adds them as members.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

# Attributes every LogRecord has: anything else on a record came from `extra`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields a call passed in `extra`, in the order given."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


def _iso(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": _iso(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            out.setdefault(key, value)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message key=value ...` (values JSON-quoted when they need it)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = extra_fields(record)
        if not fields:
            return line
        head, sep, tail = line.partition("\n")  # keep a traceback after the fields
        pairs = " ".join(f"{k}={_text_value(v)}" for k, v in fields.items())
        return f"{head} {pairs}{sep}{tail}"


def _text_value(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if text and not any(c.isspace() or c in "\"='" for c in text):
        return text
    return json.dumps(text, ensure_ascii=False)


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler `setup` installs (and replaces on a second call)."""


def setup(level: str, log_format: str, stream: IO[str] | None = None) -> None:
    """Configure the root logger (level and format already validated by config).

    Like logging.basicConfig, it leaves a root logger that someone else configured alone
    (a host process, pytest's capture), except for the aiosqlite guard.
    """
    root = logging.getLogger()
    ours = [h for h in root.handlers if isinstance(h, _Handler)]
    if ours or not root.handlers:
        for old in ours:
            root.removeHandler(old)
        handler = _Handler(stream or sys.stderr)
        handler.setFormatter(formatter(log_format))
        root.addHandler(handler)
        root.setLevel(level)
    # aiosqlite logs every statement WITH its parameters at DEBUG (wrapped data keys,
    # ciphertext, key material): never let it below INFO, whatever the level says.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, root.getEffectiveLevel()))
