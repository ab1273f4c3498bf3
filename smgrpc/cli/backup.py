"""`smgrpc backup` and `smgrpc restore`: an online, consistent copy of a Region's database,
and a new data dir made from one.

    smgrpc backup --data-dir D --out FILE          (the server on D may keep running)
    smgrpc restore --from FILE --data-dir D2 [--master-key-file KEY]

A backup holds ciphertext only (secret values, wrapped KMS keys, sealed access keys): it is
useless without the Region's master key file, which it does NOT contain. Keep the key file
apart from the backups (and keep every key a backup needs: after `smgrpc kms
rotate-master-key`, older backups still need the old key). A restored data dir gets a new
incarnation id: the Regions it replicates with resynchronise it with a snapshot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import uuid
from contextlib import closing
from pathlib import Path

from smgrpc.crypto.master import MasterKeyError, load_master_key, verify_canary
from smgrpc.storage.backup import BackupError, BackupInfo, backup, restore

KEY_NOTE = (
    "This backup holds ciphertext only: it is useless without the Region's master key file, "
    "which is not in it. Keep that key safe and apart from the backup."
)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    fmt = argparse.RawDescriptionHelpFormatter
    b = sub.add_parser(
        "backup",
        help="back up a Region's database (online)",
        description=__doc__,
        formatter_class=fmt,
    )
    b.add_argument("--data-dir", required=True, type=Path, metavar="DIR")
    b.add_argument("--out", required=True, type=Path, metavar="FILE", help="a new file (0600)")
    r = sub.add_parser(
        "restore",
        help="make a new data dir from a backup",
        description=__doc__,
        formatter_class=fmt,
    )
    r.add_argument("--from", dest="source", required=True, type=Path, metavar="FILE")
    r.add_argument(
        "--data-dir", required=True, type=Path, metavar="DIR", help="absent or empty directory"
    )
    r.add_argument(
        "--master-key-file",
        type=Path,
        metavar="FILE",
        help="check first that this key opens the backup (the server needs it to start)",
    )


def _shown(info: BackupInfo) -> dict[str, object]:
    return {
        "Region": info.region,
        "Secrets": info.secrets,
        "Versions": info.versions,
        "KmsKeys": info.kms_keys,
        "Bytes": info.size,
    }


def _check_key(source: Path, key_file: Path) -> None:
    master = load_master_key(key_file, create=False)
    uri = f"{source.resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as conn:
        row = conn.execute("SELECT v FROM meta WHERE k = 'keycheck'").fetchone()
    verify_canary(master, bytes(row[0]))


async def _run(args: argparse.Namespace) -> int:
    if args.command == "backup":
        info = await asyncio.to_thread(backup, args.data_dir, args.out)
        print(json.dumps({"Backup": str(args.out), **_shown(info)}))
        print(f"smgrpc: {KEY_NOTE}", file=sys.stderr)
        return 0
    if args.master_key_file is not None:
        await asyncio.to_thread(_check_key, args.source, args.master_key_file)
    incarnation = uuid.uuid4().hex
    info = await asyncio.to_thread(restore, args.source, args.data_dir, incarnation)
    print(json.dumps({"DataDir": str(args.data_dir), "Incarnation": incarnation, **_shown(info)}))
    print(
        f"smgrpc: restored Region {info.region} into {args.data_dir}; start it with "
        f"`smgrpc serve --region {info.region} --data-dir {args.data_dir} --master-key-file "
        "<the Region's master key file>` (it refuses any other key). Its peers resynchronise "
        "it with a snapshot (new incarnation).",
        file=sys.stderr,
    )
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_run(args))
    except (BackupError, MasterKeyError) as exc:
        print(f"smgrpc: {exc}", file=sys.stderr)
        return 2
    except (OSError, sqlite3.Error) as exc:  # fixed texts (file names, SQLite messages)
        print(f"smgrpc: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
