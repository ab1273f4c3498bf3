"""Fault tests run real server processes (see tests/harness.py)."""

from tests.harness import servers

__all__ = ["servers"]
