"""Create the cluster secret and the master keys of the compose demo (once; never overwritten).

Runs as the `secrets-init` service before the Regions start, as root inside the container, so it
can hand the files (mode 0600) and their directories to the unprivileged user of the image.
Every file holds base64 of 32 random bytes, the format `smgrpc serve` expects for both
--master-key-file and --cluster-secret-file.

    python init_secrets.py --owner 10001:10001 FILE...
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
from pathlib import Path


def ensure(path: Path, owner: tuple[int, int] | None) -> bool:
    """Create path with a fresh key unless it exists; True if created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    created = False
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(base64.b64encode(os.urandom(32)) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        created = True
    os.chmod(path, 0o600)
    if owner is not None and os.geteuid() == 0:
        # The directory is the volume's root: the Region writes its database next to the key.
        os.chown(path.parent, *owner)
        os.chmod(path.parent, 0o700)
        os.chown(path, *owner)
    return created


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--owner", help="UID:GID to own the files and their directories")
    p.add_argument("files", nargs="+", type=Path)
    args = p.parse_args(argv)
    owner = None
    if args.owner:
        uid, _, gid = args.owner.partition(":")
        owner = (int(uid), int(gid or uid))
    for path in args.files:
        state = "created" if ensure(path, owner) else "kept existing"
        print(f"secrets-init: {state} {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
