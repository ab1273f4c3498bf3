"""`smgrpc serve` and `smgrpc kms create-key|list-keys|disable-key|enable-key`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace

from smgrpc.app import Region, open_keyring
from smgrpc.config import ConfigError, add_serve_arguments, from_args
from smgrpc.core.errors import ServiceError
from smgrpc.core.ports import SystemClock
from smgrpc.crypto.cluster import ClusterKeyError
from smgrpc.crypto.keyring import new_key_record
from smgrpc.crypto.master import MasterKeyError, load_master_key


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="smgrpc", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve one Region over gRPC")
    add_serve_arguments(serve)
    serve.add_argument("--log-level", default="INFO")
    kms = sub.add_parser("kms", help="manage this Region's KMS-like keys")
    ksub = kms.add_subparsers(dest="kms_command", required=True)
    for name, helptext in (
        ("create-key", "create a customer key"),
        ("list-keys", "list keys"),
        ("disable-key", "disable a key"),
        ("enable-key", "enable a key"),
    ):
        c = ksub.add_parser(name, help=helptext)
        add_serve_arguments(c)
        if name == "create-key":
            c.add_argument("--alias", help="alias/NAME for the new key")
            c.add_argument("--description", default="")
        if name in ("disable-key", "enable-key"):
            c.add_argument("key", help="key id, key ARN or alias")
    return p


async def _serve(args: argparse.Namespace) -> int:
    region = Region(from_args(args))
    await region.start()
    await region.serve_until_signal()
    return 0


async def _kms(args: argparse.Namespace) -> int:
    cfg = from_args(args)
    clock = SystemClock()
    store, keyring = await open_keyring(cfg, clock)
    try:
        if args.kms_command == "create-key":
            alias = args.alias
            if alias and not alias.startswith("alias/"):
                alias = "alias/" + alias
            if alias and alias.startswith("alias/aws/"):
                print("smgrpc: aliases beginning with alias/aws/ are reserved", file=sys.stderr)
                return 2
            master = load_master_key(cfg.key_path, create=False)
            rec = new_key_record(
                master,
                cfg.region,
                cfg.account,
                alias=alias,
                description=args.description,
                now=clock.now(),
            )
            await store.put_kms_key(rec)
            print(json.dumps({"KeyId": rec.key_id, "Arn": rec.arn, "Alias": rec.alias}))
        elif args.kms_command == "list-keys":
            for rec in keyring.records():
                print(
                    json.dumps(
                        {
                            "KeyId": rec.key_id,
                            "Arn": rec.arn,
                            "Alias": rec.alias,
                            "Enabled": rec.enabled,
                            "Description": rec.description,
                        }
                    )
                )
        else:
            rec = keyring.resolve(args.key)
            await store.put_kms_key(replace(rec, enabled=args.kms_command == "enable-key"))
            print(json.dumps({"KeyId": rec.key_id, "Enabled": args.kms_command == "enable-key"}))
    finally:
        await store.close()
    return 0


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop unless SMGRPC_UVLOOP=0: ~5-15 % less CPU per call (docs/BENCHMARKING)."""
    if os.environ.get("SMGRPC_UVLOOP", "1") == "0":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=str(getattr(args, "log_level", "INFO")).upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # aiosqlite logs every statement WITH its parameters at DEBUG (wrapped data keys, ciphertext,
    # key material): never let it below INFO, whatever --log-level says.
    aiosqlite_log = logging.getLogger("aiosqlite")
    aiosqlite_log.setLevel(max(logging.INFO, logging.getLogger().getEffectiveLevel()))
    try:
        if args.command == "serve":
            with asyncio.Runner(loop_factory=_loop_factory()) as runner:
                return runner.run(_serve(args))
        return asyncio.run(_kms(args))
    except (MasterKeyError, ConfigError, ClusterKeyError) as exc:
        print(f"smgrpc: {exc}", file=sys.stderr)
        return 2
    except ServiceError as exc:
        print(f"smgrpc: {exc.message}", file=sys.stderr)
        return 2
    except sqlite3.Error as exc:  # SQLite's messages are fixed texts (no row data)
        print(f"smgrpc: the database could not be used: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
