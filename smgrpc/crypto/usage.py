"""Recording how many data keys each KMS key material wrapped, and rotating at the bound."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from smgrpc.core.ports import Clock, KeyRecords
from smgrpc.crypto.keyring import Keyring, Usage

log = logging.getLogger("smgrpc.kms")


async def _record(store: KeyRecords, keyring: Keyring, usage: Usage) -> None:
    """Add `usage` to the stored counts; if the write fails, hand it back (recorded next time).

    A cancellation (Region.stop cancels the upkeep task) does not tell whether the write
    committed: aiosqlite's thread goes on with it. Handing the counts back then would count
    them twice once the shutdown's final upkeep records them again (keys rotated too early),
    so the write is shielded and its own outcome decides, when it ends."""
    write = asyncio.ensure_future(store.add_kms_usage(usage))
    try:
        await asyncio.shield(write)
    except asyncio.CancelledError:
        write.add_done_callback(lambda done: _returned(done, keyring, usage))
        raise
    except Exception:
        keyring.return_usage(usage)
        raise


def _returned(write: asyncio.Future[Any], keyring: Keyring, usage: Usage) -> None:
    if write.cancelled() or write.exception() is not None:
        keyring.return_usage(usage)


async def kms_upkeep(store: KeyRecords, keyring: Keyring, clock: Clock) -> bool:
    """Record the data keys wrapped since the last call; give every key whose newest material
    reached the bound (Keyring.rotate_after) a new material. True: the key set changed."""
    usage = keyring.take_usage()
    if usage:
        await _record(store, keyring, usage)
    rotated = False
    for key_id in keyring.due_for_rotation():
        rec = keyring.new_material(key_id, clock.now())
        # False: another process rotated it meanwhile
        if await store.add_kms_material(rec, keyring.canary):
            log.info(
                "KMS key %s: new key material (term %d) after %d data keys under the last one",
                key_id,
                rec.term,
                keyring.rotate_after,
            )
        rotated = True
    return rotated
