"""aws-cli's shorthand syntax for structure parameters: `Key=name,Values=prod,dev`.

Grammar (as aws-cli's ShorthandParser):

    parameter := keyval ("," keyval)*
    keyval    := key "=" [values]
    values    := "[" [value ("," value)*] "]" | "{" parameter "}" | csv
    csv       := value ("," value)*        (stops before a "," followed by `key=`)
    value     := 'single quoted' | "double quoted" | plain (up to , ] } ; `\\,` is a comma)

A csv of one value is a scalar, of several a list; the caller makes a scalar a one-element
list where the field is repeated (as aws-cli does from the model).
"""

from __future__ import annotations

import re

Value = str | list["Value"] | dict[str, "Value"]

_KEY = re.compile(r"\s*([A-Za-z0-9\-_.#/:@]+)\s*=")
_PLAIN_STOP = frozenset(",]}")


class ShorthandError(ValueError):
    """The text is not shorthand; the message says where (never echoes more than the text)."""


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    def fail(self, what: str) -> ShorthandError:
        return ShorthandError(f"{what} at position {self.i}: {self.text!r}")

    def peek(self) -> str:
        return self.text[self.i] if self.i < len(self.text) else ""

    def skip_ws(self) -> None:
        while self.peek().isspace():
            self.i += 1

    def expect(self, char: str) -> None:
        self.skip_ws()
        if self.peek() != char:
            raise self.fail(f"expected {char!r}")
        self.i += 1

    def parameter(self, closing: str = "") -> dict[str, Value]:
        out: dict[str, Value] = {}
        while True:
            m = _KEY.match(self.text, self.i)
            if m is None:
                raise self.fail("expected key=value")
            self.i = m.end()
            out[m[1]] = self.values(closing)
            self.skip_ws()
            if self.peek() != ",":
                return out
            self.i += 1

    def values(self, closing: str) -> Value:
        self.skip_ws()
        if self.peek() == "[":
            return self.explicit_list()
        if self.peek() == "{":
            return self.hash_literal()
        first = self.value()
        items: list[Value] = [first]
        while self.peek() == "," and _KEY.match(self.text, self.i + 1) is None:
            self.i += 1
            if closing and self.text[self.i :].lstrip().startswith(closing):
                break
            items.append(self.value())
        return first if len(items) == 1 else items

    def explicit_list(self) -> list[Value]:
        self.expect("[")
        items: list[Value] = []
        self.skip_ws()
        if self.peek() == "]":
            self.i += 1
            return items
        while True:
            self.skip_ws()
            if self.peek() == "[":
                items.append(self.explicit_list())
            elif self.peek() == "{":
                items.append(self.hash_literal())
            else:
                items.append(self.value())
            self.skip_ws()
            if self.peek() == "]":
                self.i += 1
                return items
            self.expect(",")

    def hash_literal(self) -> dict[str, Value]:
        self.expect("{")
        out = self.parameter("}")
        self.expect("}")
        return out

    def value(self) -> str:
        self.skip_ws()
        quote = self.peek()
        if quote in ("'", '"'):
            return self.quoted(quote)
        start = self.i
        chars: list[str] = []
        while self.i < len(self.text) and self.text[self.i] not in _PLAIN_STOP:
            if self.text.startswith("\\,", self.i):
                chars.append(",")
                self.i += 2
                continue
            chars.append(self.text[self.i])
            self.i += 1
        if self.i == start and self.peek() not in ("", ","):
            raise self.fail("expected a value")
        return "".join(chars).strip()

    def quoted(self, quote: str) -> str:
        self.i += 1
        chars: list[str] = []
        while self.i < len(self.text):
            c = self.text[self.i]
            if c == "\\" and self.text[self.i + 1 : self.i + 2] in (quote, "\\"):
                chars.append(self.text[self.i + 1])
                self.i += 2
                continue
            if c == quote:
                self.i += 1
                return "".join(chars)
            chars.append(c)
            self.i += 1
        raise self.fail(f"unterminated {quote} quote")


def parse(text: str) -> dict[str, Value]:
    """`Key=a,Values=b,c` -> {"Key": "a", "Values": ["b", "c"]}; ShorthandError if malformed."""
    p = _Parser(text)
    out = p.parameter()
    p.skip_ws()
    if p.i != len(text):
        raise p.fail("unexpected text")
    return out
