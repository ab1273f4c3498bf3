"""The cluster secret shared by the Regions: authenticates and seals replication traffic.

Every replication call carries an HMAC-SHA256 over (method, source, target, timestamp, body)
checked in constant time, and every secret value inside it is sealed with AES-256-GCM under a
key derived from the same secret (AAD: source, target, ARN, version id), so plaintext never
crosses the wire even without TLS. IAM access-key secrets are sealed the same way under their
own derived key (AAD: source, target, AccessKeyId). Keys are derived with HKDF, one per purpose.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stat
import struct
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAX_SKEW = 300.0  # seconds, as AWS SigV4


class ClusterKeyError(Exception):
    """The cluster secret file is missing, too open, or malformed."""


class PeerAuthError(Exception):
    """A replication call failed authentication (never says which part, on purpose)."""


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"smgrpc-cluster-v1", info=purpose
    ).derive(secret)


def _canon(*parts: bytes) -> bytes:
    return b"".join(struct.pack(">I", len(p)) + p for p in parts)


def new_cluster_secret() -> str:
    return base64.b64encode(os.urandom(32)).decode()


class ClusterKey:
    """Signing and sealing keys derived from the shared cluster secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ClusterKeyError("the cluster secret must hold at least 32 bytes")
        self._mac = _derive(secret, b"auth")
        self._wire = AESGCM(_derive(secret, b"wire"))
        self._iam_wire = AESGCM(_derive(secret, b"wire-iam-access-key"))

    @classmethod
    def from_file(cls, path: Path) -> ClusterKey:
        if not path.exists():
            raise ClusterKeyError(f"cluster secret file {path} does not exist")
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ClusterKeyError(
                f"cluster secret file {path} has mode {mode:04o}; it must be readable by its "
                f"owner only (chmod 600 {path})"
            )
        try:
            return cls(base64.b64decode(path.read_bytes().strip(), validate=True))
        except ValueError as exc:
            raise ClusterKeyError(f"cluster secret file {path} is not base64") from exc

    def sign(self, method: str, source: str, target: str, timestamp: float, body: bytes) -> str:
        msg = _canon(
            method.encode(),
            source.encode(),
            target.encode(),
            repr(timestamp).encode(),
            hashlib.sha256(body).digest(),
        )
        return hmac.new(self._mac, msg, hashlib.sha256).hexdigest()

    def verify(
        self,
        method: str,
        source: str,
        target: str,
        timestamp: float,
        body: bytes,
        signature: str,
        now: float,
    ) -> None:
        expected = self.sign(method, source, target, timestamp, body)
        # Constant-time comparison first, then the clock window (both fail the same way).
        ok = hmac.compare_digest(expected.encode(), signature.encode())
        if not ok or abs(now - timestamp) > MAX_SKEW:
            raise PeerAuthError("replication call not authenticated")

    def seal_value(
        self, plaintext: bytes, *, source: str, target: str, arn: str, version_id: str
    ) -> bytes:
        nonce = os.urandom(12)
        aad = _canon(source.encode(), target.encode(), arn.encode(), version_id.encode())
        return nonce + self._wire.encrypt(nonce, plaintext, aad)

    def open_value(
        self, sealed: bytes, *, source: str, target: str, arn: str, version_id: str
    ) -> bytes:
        aad = _canon(source.encode(), target.encode(), arn.encode(), version_id.encode())
        try:
            return self._wire.decrypt(sealed[:12], sealed[12:], aad)
        except (InvalidTag, ValueError) as exc:
            raise PeerAuthError("replicated value failed authentication") from exc

    def seal_access_key(
        self, secret: str, *, source: str, target: str, access_key_id: str
    ) -> bytes:
        """A SecretAccessKey for one push from `source` to `target` (never sent in clear)."""
        nonce = os.urandom(12)
        aad = _canon(source.encode(), target.encode(), access_key_id.encode())
        return nonce + self._iam_wire.encrypt(nonce, secret.encode(), aad)

    def open_access_key(
        self, sealed: bytes, *, source: str, target: str, access_key_id: str
    ) -> str:
        aad = _canon(source.encode(), target.encode(), access_key_id.encode())
        try:
            return self._iam_wire.decrypt(sealed[:12], sealed[12:], aad).decode("ascii")
        except (InvalidTag, ValueError) as exc:
            raise PeerAuthError("replicated access key failed authentication") from exc
