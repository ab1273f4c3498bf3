"""Security tests may run real server processes too (see tests/harness.py)."""

from tests.harness import servers

__all__ = ["servers"]
