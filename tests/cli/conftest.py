from tests.harness import servers

__all__ = ["servers"]
