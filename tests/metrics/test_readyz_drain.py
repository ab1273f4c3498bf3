"""/readyz answers 503 from the moment SIGTERM arrives (serve_until_signal first stops the
rotation scheduler, then closes the gate: readiness must not wait for that)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

from tests.conftest import make_config, start_region
from tests.metrics.scrape import get_now, probe


async def test_readyz_503_as_soon_as_sigterm_arrives(tmp_path: Path) -> None:
    region = await start_region(make_config(tmp_path, metrics_listen="127.0.0.1:0"))
    port = region.metrics_port
    seen: list[tuple[int, bytes]] = []

    class AtSignal(logging.Handler):
        """Asks /readyz (served off the loop) the moment the signal is taken, before the drain
        goes on: the loop is held by this blocking GET meanwhile."""

        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage() == "signal received: draining":
                seen.append(get_now(port, "/readyz"))

    logger = logging.getLogger("smgrpc")
    level, handler = logger.level, AtSignal()
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        serving = asyncio.create_task(region.serve_until_signal())
        await asyncio.sleep(0.05)  # its signal handlers are installed
        assert (await probe(port, "/readyz"))[0] == 200
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(serving, 20)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        await region.stop()
    assert len(seen) == 1
    status, body = seen[0]
    assert status == 503 and b"draining: the Region is shutting down" in body
