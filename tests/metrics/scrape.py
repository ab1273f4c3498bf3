"""Scraping a real metrics listener over HTTP (off the event loop: the listener's /healthz
needs the loop to answer) and reading it with prometheus_client's own text parser."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from prometheus_client.parser import text_string_to_metric_families


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def get_now(port: int, path: str) -> tuple[int, bytes]:
    """A blocking GET (for a thread of the test's own)."""
    return _get(f"http://127.0.0.1:{port}{path}")


async def get(port: int, path: str) -> tuple[int, bytes]:
    """(HTTP status, body) of a GET on 127.0.0.1:port."""
    return await asyncio.to_thread(_get, f"http://127.0.0.1:{port}{path}")


async def probe(port: int, path: str) -> tuple[int, dict[str, Any]]:
    status, body = await get(port, path)
    return status, json.loads(body)


class Scrape:
    """One /metrics answer: samples by name, looked up by a subset of their labels."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples = [s for f in text_string_to_metric_families(text) for s in f.samples]

    def value(self, name: str, **labels: str) -> float:
        """The one sample `name` whose labels include `labels` (0 if there is none)."""
        found = [s.value for s in self.samples if s.name == name and _has(s.labels, labels)]
        assert len(found) <= 1, f"{name}{labels}: {len(found)} samples"
        return float(found[0]) if found else 0.0

    def total(self, name: str, **labels: str) -> float:
        """The sum of every sample `name` whose labels include `labels`."""
        return sum(s.value for s in self.samples if s.name == name and _has(s.labels, labels))

    def label_values(self) -> set[str]:
        return {v for s in self.samples for v in s.labels.values()}


def _has(labels: Mapping[str, str], want: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in want.items())


async def scrape(port: int) -> Scrape:
    status, body = await get(port, "/metrics")
    assert status == 200, body
    return Scrape(body.decode())
