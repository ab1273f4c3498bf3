"""Storage is untrusted: edited rows never decrypt to wrong plaintext (§D row 14, §C.9)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import grpc

from tests.conftest import aws_error, pb
from tests.harness import Servers, channel_stub

DECRYPT_MSG = "Secrets Manager can't decrypt the protected secret text using the provided KMS key."


def _flip(blob: bytes, index: int) -> bytes:
    b = bytearray(blob)
    b[index] ^= 0x01
    return bytes(b)


def _tamper(db: Path, arns: dict[str, str], vids: dict[str, str], swap_b: str) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    try:

        def row(name: str, vid: str | None = None) -> tuple[bytes, bytes, str]:
            r = conn.execute(
                "SELECT wrapped_key, ciphertext, kms_key_id FROM versions "
                "WHERE arn = ? AND version_id = ?",
                (arns[name], vid or vids[name]),
            ).fetchone()
            return bytes(r[0]), bytes(r[1]), r[2]

        def set_blobs(name: str, vid: str, wrapped: bytes, ct: bytes) -> None:
            cur = conn.execute(
                "UPDATE versions SET wrapped_key = ?, ciphertext = ? "
                "WHERE arn = ? AND version_id = ?",
                (wrapped, ct, arns[name], vid),
            )
            assert cur.rowcount == 1

        conn.execute("BEGIN")
        # One flipped bit in the ciphertext (nonce, body, tag) and in the wrapped key.
        for name, index in (("t/ct-nonce", 3), ("t/ct-body", 14), ("t/ct-tag", -1)):
            wrapped, ct, _ = row(name)
            set_blobs(name, vids[name], wrapped, _flip(ct, index))
        wrapped, ct, _ = row("t/wrapped")
        set_blobs("t/wrapped", vids["t/wrapped"], _flip(wrapped, 20), ct)
        # Truncated and missing ciphertext.
        wrapped, ct, _ = row("t/ct-short")
        set_blobs("t/ct-short", vids["t/ct-short"], wrapped, ct[:5])
        conn.execute("UPDATE versions SET ciphertext = NULL WHERE arn = ?", (arns["t/ct-null"],))
        # A whole version row copied to another secret (same version id), and another secret's
        # blobs pasted over a version of this secret.
        src = conn.execute(
            "SELECT * FROM versions WHERE arn = ? AND version_id = ?",
            (arns["t/src"], vids["t/src"]),
        ).fetchone()
        conn.execute(
            "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (arns["t/dst"], src[1], src[2], '["MOVED"]', *src[4:]),
        )
        wrapped, ct, _ = row("t/src")
        set_blobs("t/dst", vids["t/dst"], wrapped, ct)
        # The same secret, copied under another version id.
        conn.execute(
            "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (arns["t/src"], "f" * 32 + "-renamed", src[2], '["RENAMED"]', *src[4:]),
        )
        # Wrapped data keys swapped between two versions of one secret.
        wa, ca, _ = row("t/swap")
        wb, cb, _ = row("t/swap", swap_b)
        set_blobs("t/swap", vids["t/swap"], wb, ca)
        set_blobs("t/swap", swap_b, wa, cb)
        conn.execute("COMMIT")
    finally:
        conn.close()


async def test_tampered_rows_fail_to_decrypt_and_metadata_still_serves(servers: Servers) -> None:
    server = await servers.start()
    names = [
        "t/ct-nonce",
        "t/ct-body",
        "t/ct-tag",
        "t/ct-short",
        "t/ct-null",
        "t/wrapped",
        "t/src",
        "t/dst",
        "t/swap",
        "t/control",
    ]
    arns: dict[str, str] = {}
    vids: dict[str, str] = {}
    ch, stub = await channel_stub(server)
    try:
        for i, name in enumerate(names):
            resp = await stub.CreateSecret(
                pb.CreateSecretRequest(
                    name=name, secret_string=f"plaintext-{i}", description=f"d{i}"
                )
            )
            arns[name], vids[name] = resp.arn, resp.version_id
        swap_b = (
            await stub.PutSecretValue(
                pb.PutSecretValueRequest(secret_id="t/swap", secret_string="plaintext-swap-b")
            )
        ).version_id
    finally:
        await ch.close()
    assert await server.terminate() == 0

    _tamper(server.data_dir / "secrets.db", arns, vids, swap_b)

    server = await servers.start(server.data_dir)
    ch, stub = await channel_stub(server)
    try:
        broken: list[tuple[str, str | None]] = [
            ("t/ct-nonce", None),
            ("t/ct-body", None),
            ("t/ct-tag", None),
            ("t/ct-short", None),
            ("t/ct-null", None),
            ("t/wrapped", None),
            ("t/dst", None),
            ("t/dst", vids["t/src"]),
            ("t/src", "f" * 32 + "-renamed"),
            ("t/swap", vids["t/swap"]),
            ("t/swap", swap_b),
        ]
        for name, vid in broken:
            req = pb.GetSecretValueRequest(secret_id=name)
            if vid:
                req.version_id = vid
            err = await aws_error(stub.GetSecretValue(req))
            assert (err.code, err.aws_code, err.reason) == (
                grpc.StatusCode.FAILED_PRECONDITION,
                "DecryptionFailure",
                "DECRYPTION_FAILURE",
            ), (name, vid, err)
            assert err.message == DECRYPT_MSG
            # Metadata is not secret and stays readable.
            d = await stub.DescribeSecret(pb.DescribeSecretRequest(secret_id=name))
            assert d.arn == arns[name]
        # Untouched rows still decrypt: the original of the moved row and a control secret.
        got = await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="t/src"))
        assert got.secret_string == f"plaintext-{names.index('t/src')}"
        got = await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="t/control"))
        assert got.secret_string == f"plaintext-{names.index('t/control')}"
        listed = await stub.ListSecrets(pb.ListSecretsRequest())
        assert sorted(s.name for s in listed.secret_list) == sorted(names)
        batch = await stub.BatchGetSecretValue(
            pb.BatchGetSecretValueRequest(secret_id_list=["t/ct-body", "t/control"])
        )
        assert [v.name for v in batch.secret_values] == ["t/control"]
        assert [(e.secret_id, e.error_code) for e in batch.errors] == [
            ("t/ct-body", "DecryptionFailure")
        ]
    finally:
        await ch.close()
    assert await server.terminate() == 0
    out = server.output()
    assert b"Traceback" not in out and b"internal error" not in out, out.decode()[-3000:]
    for i in range(len(names)):
        assert f"plaintext-{i}".encode() not in out
