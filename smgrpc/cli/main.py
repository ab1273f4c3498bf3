"""`smgrpc serve` and `smgrpc kms create-key|list-keys|disable-key|enable-key`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from smgrpc import __version__, logs
from smgrpc.app import Region, open_keyring
from smgrpc.cli import audit, backup, iam, iam_region, kms_rotate, rotator, tls
from smgrpc.config import Config, ConfigError, add_arguments, from_args
from smgrpc.core.errors import ServiceError
from smgrpc.core.ports import SystemClock
from smgrpc.crypto.cluster import ClusterKeyError
from smgrpc.crypto.keyring import KmsError
from smgrpc.crypto.master import MasterKeyError
from smgrpc.storage.rekey import DataDirBusy, lock

SERVE_HELP = (
    "Serve one Region over gRPC. It runs in the foreground until SIGTERM or Ctrl-C. The first "
    "start creates the Region's data dir (database and, by default, its master key); every "
    "setting is checked before anything is created."
)
KMS_HELP = (
    "Manage the KMS-like keys of an existing Region's data dir (a running server picks the "
    "change up within ~2 s). The Region comes from the data dir; --region only cross-checks it."
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="smgrpc", description=__doc__)
    p.add_argument("--version", action="version", version=f"smgrpc {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve one Region over gRPC", description=SERVE_HELP)
    add_arguments(serve, serve=True)
    kms = sub.add_parser("kms", help="manage this Region's KMS-like keys", description=KMS_HELP)
    ksub = kms.add_subparsers(dest="kms_command", required=True)
    for name, helptext in (
        ("create-key", "create a customer key"),
        ("list-keys", "list keys"),
        ("disable-key", "disable a customer key"),
        ("enable-key", "enable a customer key"),
        ("rotate-key", "give a key new key material (older material still decrypts)"),
        ("rotate-master-key", "re-wrap every key under a new master key (server stopped)"),
    ):
        c = ksub.add_parser(name, help=helptext, description=f"{helptext}. {KMS_HELP}")
        add_arguments(c, serve=False)
        if name == "create-key":
            c.add_argument("--alias", help="alias/NAME for the new key (unique in the Region)")
            c.add_argument("--description", default="")
        if name in ("disable-key", "enable-key"):
            c.add_argument("key", help="key id, key ARN, alias or alias ARN")
        kms_rotate.add_arguments(name, c)
    tls.add_parser(sub)
    # Parsed by smgrpc.cli.iam (main dispatches before this parser runs); listed for --help.
    sub.add_parser("iam", help="IAM users, roles, policies and access keys of a running server")
    sub.add_parser("audit", help="verify an audit trail (smgrpc audit verify PATH)")
    sub.add_parser("secretsmanager", help="the Secrets Manager operations, aws-cli style")
    iam_region.add_parser(sub)
    rotator.add_parser(sub)
    backup.add_parser(sub)
    return p


async def _serve(cfg: Config) -> int:
    region = Region(cfg)
    await region.start()
    await region.serve_until_signal()
    return 0


async def _kms(args: argparse.Namespace, cfg: Config) -> int:
    clock = SystemClock()
    if args.kms_command == "rotate-master-key":
        return await kms_rotate.rotate_master_key(cfg, args.new_master_key_file)
    held: list[int] = []

    async def hold(data_dir: Path) -> None:
        # Shared (with servers and other kms commands): rotate-master-key (exclusive) can't
        # re-wrap the keys between this command's read of them and its write.
        held.append(await asyncio.to_thread(lock, data_dir, exclusive=False))

    try:
        store, keyring = await open_keyring(cfg, clock, serve=False, hold=hold)
    except BaseException:
        for fd in held:
            os.close(fd)
        raise
    try:
        if args.kms_command == "rotate-key":
            return await kms_rotate.rotate_key(store, keyring, clock, args.key_id)
        if args.kms_command == "create-key":
            rec = keyring.new_customer_key(args.alias, args.description, clock.now())
            if not await store.add_kms_key(rec, keyring.canary):  # the alias was taken meanwhile
                raise keyring.alias_exists(rec.alias or rec.key_id)
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
                            "KeyMaterialTerm": keyring.current_term(rec.key_id),
                        }
                    )
                )
        else:
            rec = keyring.check_state_change(args.key)
            enabled = args.kms_command == "enable-key"
            await store.set_kms_key_enabled(rec.key_id, enabled)
            print(json.dumps({"KeyId": rec.key_id, "Enabled": enabled}))
    finally:
        await store.close()
        for fd in held:
            os.close(fd)
    return 0


def _loop_factory(uvloop_on: bool) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop unless switched off: ~5-15 % less CPU per call (docs/BENCHMARKING)."""
    if not uvloop_on:
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["iam"]:
        return iam.main(argv[1:])
    if argv[:1] == ["audit"]:
        return audit.main(argv[1:])
    if argv[:1] == ["secretsmanager"]:
        from smgrpc.cli import secretsmanager  # jmespath and the client only when used

        return secretsmanager.main(argv[1:])
    args = _parser().parse_args(argv)
    if args.command == "iam-region":
        try:
            return iam_region.run(args)
        except ClusterKeyError as exc:
            print(f"smgrpc: {exc}", file=sys.stderr)
            return 2
    if args.command == "rotator":
        return rotator.run(args)
    if args.command in ("backup", "restore"):
        return backup.run(args)
    if args.command == "tls":
        try:
            return tls.run(args)
        except (ConfigError, OSError, ValueError) as exc:
            print(f"smgrpc: {exc}", file=sys.stderr)
            return 2
    try:
        cfg = from_args(args)
    except ConfigError as exc:
        print(f"smgrpc: {exc}", file=sys.stderr)
        return 2
    logs.setup(cfg.log_level, cfg.log_format)
    try:
        if args.command == "serve":
            with asyncio.Runner(loop_factory=_loop_factory(cfg.uvloop)) as runner:
                return runner.run(_serve(cfg))
        return asyncio.run(_kms(args, cfg))
    except KmsError as exc:
        print(f"smgrpc: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    except (MasterKeyError, ConfigError, ClusterKeyError, DataDirBusy) as exc:
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
