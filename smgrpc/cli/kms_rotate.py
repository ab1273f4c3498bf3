"""`smgrpc kms rotate-master-key` (offline) and `smgrpc kms rotate-key` (online).

rotate-master-key re-wraps every KMS key material, the key-check canary and the sealed IAM
access keys under a new master key, in one SQLite transaction (storage.rekey): a kill -9 at
any step leaves a data dir that starts with the old key (before COMMIT) or the new one (after),
never neither. The new key file is written and fsynced before that transaction. The server
must be stopped (the data dir lock says whether it is).

Test hook (config.rekey_pause_at): with SMGRPC_TEST_HOOKS=1, SMGRPC_TEST_REKEY_PAUSE_AT=<step>
pauses the command at a step (bounded: SMGRPC_TEST_REKEY_PAUSE_SECONDS, at most 300 s; SIGUSR1
ends the pause early) so a test can kill -9 it there or run another command against the locked
dir; steps: checked,
key-written, rewrapped (written, not committed), committed. Without SMGRPC_TEST_HOOKS=1 the
command refuses to run while the hook is set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from smgrpc.config import Config, rekey_pause_at
from smgrpc.core.durable import fsync_dir
from smgrpc.core.ports import Clock
from smgrpc.crypto.keyring import Keyring, KmsError
from smgrpc.crypto.master import load_master_key
from smgrpc.crypto.rekey import fingerprint, rewrap
from smgrpc.startup import inspect_data_dir
from smgrpc.storage.rekey import lock, rekey
from smgrpc.storage.sqlite import SqliteStore

ROTATE_ATTEMPTS = 3


def add_arguments(name: str, c: argparse.ArgumentParser) -> None:
    if name == "rotate-master-key":
        c.add_argument(
            "--new-master-key-file",
            required=True,
            type=Path,
            metavar="FILE",
            help="the new master key (base64, 0600); generated if the file does not exist",
        )
    if name == "rotate-key":
        c.add_argument("--key-id", required=True, help="key id, key ARN, alias or alias ARN")


def _pauser(pause: tuple[str, float] | None) -> Callable[[str], None]:
    resume = threading.Event()  # SIGUSR1 ends the pause early (a test done with the lock)
    if pause is not None:
        signal.signal(signal.SIGUSR1, lambda *_: resume.set())

    def checkpoint(step: str) -> None:
        if pause is not None and step == pause[0]:
            print(
                f"smgrpc: test hook: paused at {step} for {pause[1]:g} s",
                file=sys.stderr,
                flush=True,
            )
            resume.wait(pause[1])  # a test kills it meanwhile, resumes it, or it goes on

    return checkpoint


def _new_key(path: Path) -> bytes:
    created = not path.exists()
    key = load_master_key(path, create=True)
    if created:
        fsync_dir(path.parent)
    return key


def _rotate_master_sync(
    cfg: Config, old: bytes, new_file: Path, checkpoint: Callable[[str], None]
) -> dict[str, object]:
    checkpoint("checked")
    new = _new_key(new_file)
    checkpoint("key-written")
    done = rekey(cfg.db_path, cfg.account, lambda s: rewrap(old, new, s), checkpoint)
    return {
        "OldMasterKeyId": fingerprint(old),
        "MasterKeyId": fingerprint(new),
        "MasterKeyFile": str(new_file),
        "KmsKeys": len(done.keys),
        "RotatedMaterials": len(done.materials),
        "AccessKeys": len(done.access_keys),
    }


async def rotate_master_key(cfg: Config, new_file: Path) -> int:
    checkpoint = _pauser(rekey_pause_at())
    found = await inspect_data_dir(cfg, serve=False)  # the data dir exists, the key file too
    # Exclusive before anything is read: no server or `smgrpc kms` command holds (and may
    # write with) the old key while the rows are re-wrapped; rekey checks the canary again.
    fd = await asyncio.to_thread(lock, cfg.data_dir, exclusive=True)
    try:
        found = await inspect_data_dir(cfg, serve=False)  # the old key opens the canary
        assert found.master is not None
        shown = await asyncio.to_thread(
            _rotate_master_sync, cfg, found.master, new_file, checkpoint
        )
    finally:
        os.close(fd)
    print(json.dumps(shown))
    print(
        f"smgrpc: the data dir is now under the master key in {new_file}: start the server "
        f"with --master-key-file {new_file}. The old key no longer opens this data dir, but "
        "backups made before now still need it: keep it as long as you keep them. NextTokens "
        "issued before the rotation are no longer accepted.",
        file=sys.stderr,
    )
    return 0


async def rotate_key(store: SqliteStore, keyring: Keyring, clock: Clock, ref: str) -> int:
    """A new material for one key (new data keys use it; older ones stay for decryption)."""
    rec = keyring.resolve(ref)
    for _ in range(ROTATE_ATTEMPTS):
        material = keyring.new_material(rec.key_id, clock.now())
        if await store.add_kms_material(material, keyring.canary):
            break
        # Another process (a server at the data-key bound, another rotate-key) took the term.
        keyring.reload(await store.kms_keys(), await store.kms_materials())
    else:
        raise KmsError(
            "ConflictException",
            f"key {rec.key_id} was rotated by another process {ROTATE_ATTEMPTS} times while "
            "this ran: no material was added; run it again",
        )
    print(json.dumps({"KeyId": rec.key_id, "Arn": rec.arn, "KeyMaterialTerm": material.term}))
    return 0
