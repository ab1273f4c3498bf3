"""Recording how many data keys each KMS key material wrapped, and rotating at the bound."""

from __future__ import annotations

import logging

from smgrpc.core.ports import Clock, KeyRecords
from smgrpc.crypto.keyring import Keyring

log = logging.getLogger("smgrpc.kms")


async def kms_upkeep(store: KeyRecords, keyring: Keyring, clock: Clock) -> bool:
    """Record the data keys wrapped since the last call; give every key whose newest material
    reached the bound (Keyring.rotate_after) a new material. True: the key set changed."""
    usage = keyring.take_usage()
    if usage:
        try:
            await store.add_kms_usage(usage)
        except BaseException:
            keyring.return_usage(usage)  # recorded next time
            raise
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
