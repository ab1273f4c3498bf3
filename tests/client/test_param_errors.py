"""A value protobuf refuses never appears in ParamValidationError: not in its text, its repr,
its traceback, nor in any exception it chains (__context__ / __cause__), with either protobuf
backend (the pure-Python one words its TypeError with the value)."""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

import pytest

from smgrpc.client import SecretsManagerClient, errors
from tests.conftest import CANARY

# (operation, members) whose values protobuf refuses; each carries the canary.
BAD: list[tuple[str, dict[str, Any]]] = [
    ("put_secret_value", {"SecretId": "s", "SecretString": CANARY.encode() + b"\xff\xfe"}),
    ("put_secret_value", {"SecretId": "s", "SecretString": CANARY + "\udcff"}),
    ("put_secret_value", {"SecretId": "s", "SecretString": [CANARY]}),
    ("put_secret_value", {"SecretId": "s", "SecretString": {CANARY: 1}}),
    ("put_secret_value", {"SecretId": "s", "SecretBinary": CANARY}),
    ("put_secret_value", {"SecretId": "s", "VersionStages": [CANARY.encode() + b"\xff"]}),
    ("create_secret", {"Name": "s", "Tags": [{"Key": "k", "Value": CANARY.encode() + b"\xff"}]}),
]


def leaks(exc: BaseException) -> list[str]:
    """Where the canary shows in `exc` or anything it chains."""
    found: list[str] = []
    text = "".join(traceback.format_exception(exc))
    if CANARY in text:
        found.append("traceback")
    seen: BaseException | None = exc
    while seen is not None:
        for what in (str(seen), repr(seen), repr(seen.args), repr(getattr(seen, "object", ""))):
            if CANARY in what:
                found.append(type(seen).__name__)
        seen = seen.__context__ or seen.__cause__
    return found


def test_refused_values_never_reach_the_error(client: SecretsManagerClient) -> None:
    for method, members in BAD:
        with pytest.raises(errors.ParamValidationError) as got:
            getattr(client, method)(**members)
        assert leaks(got.value) == [], (method, got.value)
        assert got.value.__context__ is None and got.value.__cause__ is None
        assert "Invalid type for parameter" in str(got.value)


def test_pure_python_protobuf_backend_too(tmp_path: Path) -> None:
    """The same cases under PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python (a subprocess:
    the backend is chosen at first import)."""
    script = tmp_path / "probe.py"
    script.write_text(
        "from google.protobuf.internal import api_implementation\n"
        "assert api_implementation.Type() == 'python', api_implementation.Type()\n"
        "from smgrpc.client import operations, errors\n"
        "from smgrpc.client.operations import snake\n"
        "from tests.client.test_param_errors import BAD, leaks\n"
        "ops = {snake(n): o for n, o in operations.OPERATIONS.items()}\n"
        "bad = 0\n"
        "for method, members in BAD:\n"
        "    try:\n"
        "        operations.build(ops[method].request, members)\n"
        "    except errors.ParamValidationError as exc:\n"
        "        if leaks(exc) or exc.__context__ is not None:\n"
        "            print('LEAK', method, leaks(exc)); bad += 1\n"
        "    else:\n"
        "        print('ACCEPTED', method); bad += 1\n"
        "print('bad', bad)\n"
    )
    env = {**os.environ, "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION": "python"}
    root = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = f"{root}{os.pathsep}{env.get('PYTHONPATH', '')}"
    out = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "bad 0", out.stdout
