"""aws-cli's `--output json|text|table` and `--query` (JMESPath, with the jmespath library).

The three formats follow aws-cli's formatters: json is indented by 4 and prints nothing for an
empty response; text prints scalars tab-separated, nested lists under their upper-cased key,
one line per list element (keys sorted); table draws aws-cli's boxed sections titled with the
operation name, turning single-row sections vertical when the table is wider than the terminal.
"""

from __future__ import annotations

import json
import os
import sys
import unicodedata
from dataclasses import dataclass, field
from typing import Any, TextIO

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult

from smgrpc.cli.awscli import USAGE_ERROR, Failure

FORMATS = ("json", "text", "table")


def compile_query(expression: str | None) -> ParsedResult | None:
    if expression is None:
        return None
    try:
        return jmespath.compile(expression)
    except JMESPathError as exc:
        raise Failure(f"Bad value for --query {expression}: {exc}", USAGE_ERROR) from None


def search(query: ParsedResult | None, data: Any) -> Any:
    return data if query is None else query.search(data)


def emit(title: str, data: Any, fmt: str, query: ParsedResult | None, stream: TextIO) -> None:
    """Print a response (`title`: the operation, for table) queried, in the format."""
    data = search(query, data)
    if fmt == "text":
        write_text(data, stream)
        return
    if fmt == "table":
        write_table(title, data, stream)
    elif data != {}:
        stream.write(json.dumps(data, indent=4, ensure_ascii=False) + "\n")


# ---- text ----


def _scalar(v: Any) -> bool:
    return not isinstance(v, (dict, list))


def write_text(
    item: Any, out: TextIO, ident: str | None = None, keys: list[str] | None = None
) -> None:
    if isinstance(item, dict):
        _text_dict(item, out, ident, keys)
    elif isinstance(item, list):
        _text_list(item, out, ident)
    else:
        out.write(f"{_str(item)}\n")


def _str(v: Any) -> str:
    return str(v)  # aws-cli: str() of the parsed value (True, None, 7)


def _text_list(items: list[Any], out: TextIO, ident: str | None) -> None:
    if not items:
        return
    if any(isinstance(e, dict) for e in items):
        keys = sorted({k for e in items if isinstance(e, dict) for k, v in e.items() if _scalar(v)})
        for e in items:
            write_text(e, out, ident, keys)
        return
    scalars = [e for e in items if _scalar(e)]
    if scalars:
        if ident is not None:
            out.writelines(f"{ident.upper()}\t{_str(e)}\n" for e in scalars)
        else:
            out.write("\t".join(_str(e) for e in scalars) + "\n")
    for e in items:
        if not _scalar(e):
            write_text(e, out, ident)


def _text_dict(d: dict[str, Any], out: TextIO, ident: str | None, keys: list[str] | None) -> None:
    if keys is None:
        scalars = [_str(v) for k, v in sorted(d.items()) if _scalar(v)]
        nested = [(k, v) for k, v in sorted(d.items()) if not _scalar(v)]
    else:
        scalars = [_str(d.get(k, "")) for k in keys]
        nested = [(k, d[k]) for k in sorted(set(d) - set(keys))]
    if scalars:
        out.write("\t".join(([ident.upper()] if ident is not None else []) + scalars) + "\n")
    for k, v in nested:
        write_text(v, out, k)


# ---- table ----


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WFA" else 1 for c in text)


@dataclass
class Section:
    title: str = ""
    indent: int = 0
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    widths: list[int] = field(default_factory=list)

    def _grow(self, cells: list[str]) -> None:
        if not self.widths:
            self.widths = [width(c) for c in cells]
        else:
            self.widths = [max(w, width(c)) for w, c in zip(self.widths, cells, strict=False)]

    def add_header(self, headers: list[str]) -> None:
        self._grow(headers)
        self.headers = headers

    def add_row(self, row: list[Any]) -> None:
        cells = [_str(c) for c in row]
        self.rows.append(cells)
        self._grow(cells)

    def columns(self, total: int | None = None) -> list[int]:
        """Column widths (padding 4) scaled to sum to `total`, as aws-cli's Section."""
        raw = [w + 4 for w in self.widths]
        if total is None or not raw:
            return raw
        scaled = [int(round(total / sum(raw) * w)) for w in raw]
        off = sum(scaled) - total
        while off:
            order = range(len(scaled)) if off > 0 else reversed(range(len(scaled)))
            for i in order:
                step = -1 if off > 0 else 1
                scaled[i] += step
                off += step
                if not off:
                    break
        return scaled

    def total_width(self) -> int:
        cols = sum(self.columns()) + 2 + 2 * self.indent
        return max(width(self.title) + 2 + 2 * self.indent, cols)


def _center(text: str, length: int, edge: str = "|") -> str:
    start = length // 2 - width(text) // 2 - 1
    left = edge + " " * start + text
    return left + " " * (length - 1 - len(edge) - start - width(text)) + "|"


def _left(text: str, length: int, edge: str) -> str:
    pad = 2 if length - (width(text) + 2 + len(edge) + 1) >= 0 else 0
    cell = edge + " " * pad + text
    return cell + " " * (length - len(edge) - pad - width(text) - 1) + "|"


class Table:
    def __init__(self) -> None:
        self.sections: list[Section] = []

    @property
    def current(self) -> Section:
        return self.sections[-1]

    def new_section(self, title: str, indent: int) -> None:
        self.sections.append(Section(title, indent))

    def build(self, title: str | None, data: Any, indent: int = 0) -> bool:
        if not data:
            return False
        if title is not None:
            self.new_section(title, indent)
        if isinstance(data, list):
            if isinstance(data[0], dict):
                self._from_list(data, indent, title)
            else:
                for item in data:
                    if _scalar(item):
                        self.current.add_row([item])
                    elif all(_scalar(e) for e in item):
                        self.current.add_row(list(item))
                    else:
                        self.build(None, item)
        if isinstance(data, dict):
            self._from_dict(data, indent)
        return True

    def _from_dict(self, d: dict[str, Any], indent: int) -> None:
        headers = sorted(k for k, v in d.items() if _scalar(v))
        more = sorted(k for k, v in d.items() if not _scalar(v))
        if len(headers) == 1:
            self.current.add_row([headers[0], d[headers[0]]])
        elif headers:
            self.current.add_header(headers)
            self.current.add_row([d[k] for k in headers])
        for k in more:
            self.build(k, d[k], indent + 1)

    def _from_list(self, items: list[Any], indent: int, title: str | None) -> None:
        dicts = [e for e in items if isinstance(e, dict)]
        headers = sorted({k for e in dicts for k, v in e.items() if _scalar(v)})
        more = sorted({k for e in dicts for k, v in e.items() if not _scalar(v)})
        self.current.add_header(headers)
        for n, e in enumerate(dicts):
            if n and more:
                self.new_section(title or "", indent)
                self.current.add_header(headers)
            self.current.add_row([e.get(h, "") for h in headers])
            for k in more:
                if k in e:
                    self.build(k, e[k], indent + 1)

    def render(self, out: TextIO, terminal: int) -> None:
        total = max(s.total_width() for s in self.sections)
        if total > terminal:  # aws-cli: single-row sections become key | value rows
            for i, s in enumerate(self.sections):
                if len(s.rows) == 1 and s.headers:
                    v = Section(s.title, s.indent)
                    for h, cell in zip(s.headers, s.rows[0], strict=False):
                        v.add_row([h, cell])
                    self.sections[i] = v
            total = max(s.total_width() for s in self.sections)
        out.write("-" * total + "\n")
        for s in self.sections:
            lines = self._section(s, total - 2 * s.indent)
            out.writelines("|" * s.indent + line + "|" * s.indent + "\n" for line in lines)

    def _section(self, s: Section, total: int) -> list[str]:
        lines: list[str] = []
        if s.title:
            lines.append(_center(s.title, total))
            if not s.headers and not s.rows:
                lines.append("+" + "-" * (total - 2) + "+")
        cols = s.columns(total)
        if s.headers:
            lines.append(_line_break(cols))
            lines.append(
                "".join(
                    _center(h, w, "|" if i == 0 else "")
                    for i, (w, h) in enumerate(zip(cols, s.headers, strict=False))
                )
            )
        if s.rows and cols:
            lines.append(_line_break(cols))
            for row in s.rows:
                lines.append(
                    "".join(
                        _left(c, w, "|" if i == 0 else "")
                        for i, (w, c) in enumerate(zip(cols, row, strict=False))
                    )
                )
            lines.append(_line_break(cols))
        return lines


def _line_break(cols: list[int]) -> str:
    return "".join(
        ("+" + "-" * (w - 2) + "+") if i == 0 else ("-" * (w - 1) + "+") for i, w in enumerate(cols)
    )


def terminal_width(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 80


def write_table(title: str, data: Any, out: TextIO = sys.stdout) -> None:
    table = Table()
    if table.build(title, data):
        table.render(out, terminal_width(out))
