"""The api modules meet at public names only: no module imports another's private (_name)
helper, and the unary plumbing (handlers) does not import the streaming one, not even lazily,
so there is no import cycle to dodge."""

from __future__ import annotations

import ast
from pathlib import Path

import smgrpc.api

API = Path(smgrpc.api.__file__).parent


def _imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) of every `from smgrpc.api.<module> import name`, anywhere in the file."""
    out: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("smgrpc.api."):
            out.extend((node.module or "", alias.name) for alias in node.names)
    return out


def test_no_private_names_cross_api_modules() -> None:
    crossing = [
        (path.name, module, name)
        for path in sorted(API.glob("*.py"))
        for module, name in _imports(path)
        if name.startswith("_")
    ]
    assert crossing == []


def test_handlers_does_not_import_streams() -> None:
    assert [m for m, _ in _imports(API / "handlers.py") if m == "smgrpc.api.streams"] == []
