"""The bootstrap admin token file: `<AccessKeyId>:<SecretAccessKey>` on one line, mode 0600.

Written atomically: the line goes to a fresh temporary file in the same directory (O_EXCL,
0600 whatever the umask, fsynced), which is then linked to the final name (refusing an existing
file) or renamed over it (`replace=True`), and the directory is fsynced. A reader therefore sees
either no file, the old file, or the whole new line. Read back like the master key file: a
file readable by group or others is refused. Errors name the path, never the content.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from smgrpc.auth.bearer import PAIR_LEN, AccessKeyCredential, MalformedCredential, parse_key_pair
from smgrpc.core.durable import fsync_dir
from smgrpc.crypto.access_keys import NewAccessKey

MODE = 0o600
_MAX_BYTES = PAIR_LEN + 2  # the line, its newline, and one byte to detect "too long"


class TokenFileError(Exception):
    """The admin token file is missing, too open, or not one well-formed line."""


def write_admin_token(path: Path, key: NewAccessKey, *, replace: bool = False) -> None:
    """Write the credential to `path` (0600, atomic); TokenFileError if it exists already."""
    line = f"{key.access_key_id}:{key.secret_access_key}"
    parse_key_pair(line)  # never write a file that read_admin_token would refuse
    write_private(path, line.encode("ascii") + b"\n", replace=replace)


def write_private(path: Path, data: bytes, *, replace: bool = False) -> None:
    """Write `data` to `path` atomically, mode 0600 (see the module doc); TokenFileError if
    it exists already and not `replace`."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), MODE)  # the umask may only have narrowed it; be exact
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    except FileExistsError:
        raise TokenFileError(f"admin token file {path} already exists; not overwritten") from None
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def read_admin_token(path: Path) -> AccessKeyCredential:
    """The credential in an admin token file, validated (owner-only mode, exact shape)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise TokenFileError(f"admin token file {path} does not exist") from None
    except OSError as exc:
        raise TokenFileError(f"admin token file {path} can't be read: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise TokenFileError(f"admin token file {path} is not a regular file")
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077:
            raise TokenFileError(
                f"admin token file {path} has mode {mode:04o}; it must be readable by its owner "
                f"only (chmod 600 {path})"
            )
        data = os.read(fd, _MAX_BYTES)
    finally:
        os.close(fd)
    malformed = TokenFileError(
        f"admin token file {path} is not one <AccessKeyId>:<SecretAccessKey> line"
    )
    if len(data) > PAIR_LEN + 1 or not data.isascii():
        raise malformed
    try:
        return parse_key_pair(data.decode("ascii").removesuffix("\n"))
    except MalformedCredential:
        raise malformed from None
