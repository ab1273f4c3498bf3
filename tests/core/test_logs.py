"""Log formats: text lines with key=value fields, or one JSON object per line."""

from __future__ import annotations

import io
import json
import logging

from smgrpc import logs


def _record(msg: str, *args: object, exc: bool = False, **extra: object) -> logging.LogRecord:
    logger = logging.getLogger("smgrpc.access")
    exc_info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError as e:
            exc_info = (type(e), e, e.__traceback__)
    return logger.makeRecord(
        logger.name, logging.INFO, __file__, 1, msg, args, exc_info, extra=extra
    )


def test_json_has_time_level_logger_message_and_extra_fields() -> None:
    rec = _record("call %s", "done", method="GetSecretValue", status="OK", duration_ms=1.5)
    rec.created = 1767225600.25  # 2026-01-01T00:00:00.250Z
    line = logs.JsonFormatter().format(rec)
    assert "\n" not in line
    assert json.loads(line) == {
        "time": "2026-01-01T00:00:00.250+00:00",
        "level": "INFO",
        "logger": "smgrpc.access",
        "message": "call done",
        "method": "GetSecretValue",
        "status": "OK",
        "duration_ms": 1.5,
    }


def test_json_keeps_the_exception_inside_the_one_line() -> None:
    line = logs.JsonFormatter().format(_record("failed", exc=True, peer="ipv4:127.0.0.1:5"))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["peer"] == "ipv4:127.0.0.1:5"
    assert "ValueError: boom" in entry["exception"]


def test_json_extra_fields_never_override_the_core_members() -> None:
    entry = json.loads(logs.JsonFormatter().format(_record("m", level="forged", time="t")))
    assert (entry["level"], entry["message"]) == ("INFO", "m")
    assert entry["time"] != "t"


def test_text_appends_fields_quoted_when_needed() -> None:
    line = logs.TextFormatter().format(
        _record("call", method="GetSecretValue", code="", note="two words", n=3)
    )
    assert line.endswith(
        ' INFO smgrpc.access: call method=GetSecretValue code="" note="two words" n=3'
    )


def test_setup_installs_the_chosen_format_and_replaces_itself() -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    for h in saved[0]:
        root.removeHandler(h)
    try:
        out = io.StringIO()
        logs.setup("WARNING", "text", out)
        logs.setup("DEBUG", "json", out)  # a second call replaces the first handler
        logging.getLogger("smgrpc.t").debug("hello", extra={"k": 1})
        logging.getLogger("aiosqlite").debug("statement with parameters")
        lines = out.getvalue().splitlines()
        assert [json.loads(x)["message"] for x in lines] == ["hello"]
        assert json.loads(lines[0])["k"] == 1
        assert logging.getLogger("aiosqlite").level == logging.INFO
    finally:
        for h in root.handlers[:]:
            root.removeHandler(h)
        for h in saved[0]:
            root.addHandler(h)
        root.setLevel(saved[1])
