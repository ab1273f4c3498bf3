"""Customer KMS keys made with `smgrpc kms`: selection, disable/enable, re-encryption."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import grpc
import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.app import Region, open_keyring
from smgrpc.cli.main import main as cli_main
from smgrpc.config import Config
from smgrpc.core.model import KmsKeyRecord
from tests.api.helpers import (
    AwsError,
    aws_error,
    create,
    describe,
    expect,
    get,
    kms,
    poll,
    put,
    tok,
)
from tests.conftest import admin_channel, make_config, pb, running, start_region

FP = grpc.StatusCode.FAILED_PRECONDITION
DECRYPT = "Secrets Manager can't decrypt the protected secret text using the provided KMS key."
ENCRYPT = (
    "Secrets Manager can't encrypt the protected secret text using the provided KMS key. "
    "Check that the KMS key is available, enabled, and not in an invalid state."
)
KMS_PREFIX = "arn:aws:kms:us-east-1:123456789012:"


async def new_key(region, alias: str) -> KmsKeyRecord:
    """Create a key with the CLI and wait until the running server has loaded it."""
    await kms(region, "create-key", "--alias", alias)

    async def loaded() -> KmsKeyRecord | None:
        return next((r for r in region.keyring.records() if r.alias == alias), None)

    key = await poll(loaded, within=5.0)
    assert key.arn == KMS_PREFIX + "key/" + key.key_id
    return key


async def kms_ids(stub, sid: str) -> dict[str, list[str]]:
    r = await stub.ListSecretVersionIds(
        pb.ListSecretVersionIdsRequest(secret_id=sid, include_deprecated=True)
    )
    return {v.version_id: list(v.kms_key_ids) for v in r.versions}


async def until_error(call_factory, code: grpc.StatusCode) -> AwsError:
    """Poll a side-effect-free call until it fails (keys reload every 0.1 s in tests)."""

    async def attempt() -> AwsError | None:
        try:
            await call_factory()
        except grpc.aio.AioRpcError:
            err = await aws_error(call_factory())
            return err if err.code == code else None
        return None

    return await poll(attempt, within=5.0)


async def until_key_state(region, alias: str, enabled: bool) -> None:
    async def reached() -> bool | None:
        return True if region.keyring.resolve(alias).enabled is enabled else None

    await poll(reached, within=5.0)


async def until_ok(call_factory):
    async def attempt():
        try:
            return await call_factory()
        except grpc.aio.AioRpcError:
            return None

    return await poll(attempt, within=5.0)


async def test_customer_key_is_used_and_reported(stub, region) -> None:
    key = await new_key(region, "alias/app")
    for i, ref in enumerate(("alias/app", key.key_id, key.arn, KMS_PREFIX + "alias/app")):
        name = f"s{i}"
        await create(stub, name, f"v{i}", kms_key_id=ref, client_request_token=tok(i))
        assert (await describe(stub, name)).kms_key_id == ref
        assert await kms_ids(stub, name) == {tok(i): [key.arn]}
        assert (await get(stub, name)).secret_string == f"v{i}"
        listed = (
            await stub.ListSecrets(
                pb.ListSecretsRequest(filters=[pb.Filter(key="name", values=[name])])
            )
        ).secret_list
        assert [e.kms_key_id for e in listed] == [ref]
    # The default key is reported as DefaultEncryptionKey and omitted from DescribeSecret.
    await create(stub, "plain", "v", client_request_token=tok("p"))
    assert await kms_ids(stub, "plain") == {tok("p"): ["DefaultEncryptionKey"]}
    assert not (await describe(stub, "plain")).HasField("kms_key_id")


async def test_unknown_key_rejected(stub) -> None:
    msg = "The KMS key alias/nope can't be found in Region us-east-1."
    await expect(
        create(stub, "s", "v", kms_key_id="alias/nope"),
        grpc.StatusCode.INVALID_ARGUMENT,
        "InvalidParameterException",
        msg,
    )
    await expect(describe(stub, "s"), grpc.StatusCode.NOT_FOUND, "ResourceNotFoundException")
    await create(stub, "s", "v")
    await expect(
        stub.UpdateSecret(pb.UpdateSecretRequest(secret_id="s", kms_key_id="alias/nope")),
        grpc.StatusCode.INVALID_ARGUMENT,
        "InvalidParameterException",
        msg,
    )
    assert not (await describe(stub, "s")).HasField("kms_key_id")


async def test_disable_and_enable_key(stub, region) -> None:
    await new_key(region, "alias/app")
    await create(stub, "s", "v1", kms_key_id="alias/app")
    await create(stub, "other", "fine")
    await kms(region, "disable-key", "alias/app")

    err = await until_error(lambda: get(stub, "s"), FP)
    assert (err.aws_code, err.reason, err.message) == (
        "DecryptionFailure",
        "DECRYPTION_FAILURE",
        DECRYPT,
    )
    await expect(put(stub, "s", "v2"), FP, "EncryptionFailure", ENCRYPT)
    err = await aws_error(put(stub, "s", "v2"))
    assert err.reason == "ENCRYPTION_FAILURE"
    await expect(create(stub, "new", "v", kms_key_id="alias/app"), FP, "EncryptionFailure", ENCRYPT)
    await expect(
        stub.UpdateSecret(pb.UpdateSecretRequest(secret_id="s", secret_string="v3")),
        FP,
        "EncryptionFailure",
        ENCRYPT,
    )
    batch = await stub.BatchGetSecretValue(
        pb.BatchGetSecretValueRequest(secret_id_list=["s", "other"])
    )
    assert [v.name for v in batch.secret_values] == ["other"]
    assert [(e.secret_id, e.error_code, e.message) for e in batch.errors] == [
        ("s", "DecryptionFailure", DECRYPT)
    ]
    # Metadata operations do not need the key.
    assert (await describe(stub, "s")).kms_key_id == "alias/app"
    assert (await get(stub, "other")).secret_string == "fine"

    await kms(region, "enable-key", "alias/app")
    got = await until_ok(lambda: get(stub, "s"))
    assert got.secret_string == "v1"
    p = await put(stub, "s", "v2")
    assert list(p.version_stages) == ["AWSCURRENT"]
    assert (await get(stub, "s")).secret_string == "v2"


async def test_update_kms_key_reencrypts_labeled_versions(stub, region) -> None:
    k1 = await new_key(region, "alias/app")
    k2 = await new_key(region, "alias/other")
    await create(stub, "s", "v1", kms_key_id="alias/app", client_request_token=tok(1))
    await put(stub, "s", "v2", client_request_token=tok(2))
    await put(stub, "s", "v3", client_request_token=tok(3))
    await put(stub, "s", "v4", client_request_token=tok(4), version_stages=["CUSTOM"])
    # tok(1) is deprecated (no labels) by now.
    assert await kms_ids(stub, "s") == {tok(i): [k1.arn] for i in (1, 2, 3, 4)}

    u = await stub.UpdateSecret(pb.UpdateSecretRequest(secret_id="s", kms_key_id="alias/other"))
    assert not u.HasField("version_id")
    assert (await describe(stub, "s")).kms_key_id == "alias/other"
    assert await kms_ids(stub, "s") == {
        tok(1): [k1.arn],
        tok(2): [k2.arn],
        tok(3): [k2.arn],
        tok(4): [k2.arn],
    }

    # With the OLD key disabled, every labeled version still reads; the deprecated one does not.
    await kms(region, "disable-key", "alias/app")
    err = await until_error(lambda: get(stub, "s", version_id=tok(1)), FP)
    assert err.aws_code == "DecryptionFailure"
    assert (await get(stub, "s")).secret_string == "v3"
    assert (await get(stub, "s", version_stage="AWSPREVIOUS")).secret_string == "v2"
    assert (await get(stub, "s", version_stage="CUSTOM")).secret_string == "v4"
    # New versions use the new key.
    await put(stub, "s", "v5", client_request_token=tok(5))
    assert (await kms_ids(stub, "s"))[tok(5)] == [k2.arn]
    assert (await get(stub, "s")).secret_string == "v5"


async def test_update_with_value_and_key_together(stub, region) -> None:
    k1 = await new_key(region, "alias/app")
    await create(stub, "s", "v1", client_request_token=tok(1))
    await stub.UpdateSecret(
        pb.UpdateSecretRequest(
            secret_id="s", kms_key_id="alias/app", secret_string="v2", client_request_token=tok(2)
        )
    )
    assert await kms_ids(stub, "s") == {tok(1): [k1.arn], tok(2): [k1.arn]}
    assert (await get(stub, "s")).secret_string == "v2"
    # Back to the AWS managed key with an empty KmsKeyId.
    await stub.UpdateSecret(pb.UpdateSecretRequest(secret_id="s", kms_key_id=""))
    assert not (await describe(stub, "s")).HasField("kms_key_id")
    assert await kms_ids(stub, "s") == {
        tok(1): ["DefaultEncryptionKey"],
        tok(2): ["DefaultEncryptionKey"],
    }
    assert (await get(stub, "s", version_stage="AWSPREVIOUS")).secret_string == "v1"


async def test_update_to_disabled_key_changes_nothing(stub, region) -> None:
    await new_key(region, "alias/app")
    await create(stub, "s", "v1", client_request_token=tok(1))
    await kms(region, "disable-key", "alias/app")
    await until_key_state(region, "alias/app", enabled=False)
    await expect(
        stub.UpdateSecret(pb.UpdateSecretRequest(secret_id="s", kms_key_id="alias/app")),
        FP,
        "EncryptionFailure",
        ENCRYPT,
    )
    assert not (await describe(stub, "s")).HasField("kms_key_id")
    assert await kms_ids(stub, "s") == {tok(1): ["DefaultEncryptionKey"]}


# ---- keys are never destroyed; AWS managed keys stay enabled; the Region comes from the data dir


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The real CLI entry point in a worker thread: (exit code, stdout, stderr)."""
    capsys.readouterr()
    rc = await asyncio.to_thread(cli_main, list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def key_rows(db: Path) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT * FROM kms_keys ORDER BY key_id").fetchall()


async def test_duplicate_alias_is_refused_and_the_key_survives(stub, region, capsys) -> None:
    key = await new_key(region, "alias/app")
    await create(stub, "s", "v1", kms_key_id="alias/app")
    data = str(region.config.data_dir)
    before = key_rows(region.config.db_path)
    for alias in ("alias/app", "app"):  # "app" means alias/app too
        rc, out, err = await cli(capsys, "kms", "create-key", "--alias", alias, "--data-dir", data)
        assert (rc, out) == (1, ""), err
        assert err == (
            "smgrpc: AlreadyExistsException: An alias with the name "
            f"{KMS_PREFIX}alias/app already exists\n"
        )
    assert key_rows(region.config.db_path) == before
    rc, out, _ = await cli(capsys, "kms", "list-keys", "--data-dir", data)
    listed = [json.loads(line) for line in out.splitlines()]
    assert [k["KeyId"] for k in listed if k["Alias"] == "alias/app"] == [key.key_id]
    await asyncio.sleep(0.3)  # past a key refresh: the server still has the key
    assert (await get(stub, "s")).secret_string == "v1"


async def test_reserved_and_malformed_aliases_are_refused(region, capsys) -> None:
    data = str(region.config.data_dir)
    before = key_rows(region.config.db_path)
    for alias, code in (
        ("alias/aws/secretsmanager", "NotAuthorizedException"),
        ("alias/aws/mine", "NotAuthorizedException"),
        ("alias/has space", "ValidationException"),
        ("alias/", "ValidationException"),
    ):
        rc, _, err = await cli(capsys, "kms", "create-key", "--alias", alias, "--data-dir", data)
        assert rc == 1 and err.startswith(f"smgrpc: {code}: "), err
    assert key_rows(region.config.db_path) == before


async def test_key_rows_cannot_be_deleted_or_replaced_even_with_raw_sql(region) -> None:
    await new_key(region, "alias/app")
    db = region.config.db_path
    before = key_rows(db)
    key_id, arn = before[0][0], before[0][1]
    attempts = [
        ("DELETE FROM kms_keys", ()),
        ("DELETE FROM kms_keys WHERE alias = 'alias/app'", ()),
        ("UPDATE kms_keys SET material = x'00'", ()),
        ("UPDATE kms_keys SET key_id = 'other' WHERE key_id = ?", (key_id,)),
        ("UPDATE kms_keys SET arn = 'arn:x' WHERE key_id = ?", (key_id,)),
        ("UPDATE kms_keys SET created_at = 0", ()),
        ("UPDATE kms_keys SET alias = NULL", ()),
        (
            "INSERT OR REPLACE INTO kms_keys SELECT 'new', 'arn:new', alias, description, "
            "enabled, created_at, x'01' FROM kms_keys WHERE alias = 'alias/app'",
            (),
        ),
        ("INSERT OR REPLACE INTO kms_keys SELECT * FROM kms_keys", ()),
        ("REPLACE INTO kms_keys VALUES (?, ?, NULL, '', 1, 0, x'02')", (key_id, arn)),
        ("UPDATE kms_keys SET enabled = 0 WHERE alias = 'alias/aws/secretsmanager'", ()),
    ]
    with closing(sqlite3.connect(db)) as conn:
        for sql, params in attempts:
            with pytest.raises(sqlite3.IntegrityError, match="kms_keys"):
                conn.execute(sql, params)
            conn.commit()
    assert key_rows(db) == before
    # The one change a key accepts: enabled (of a customer key).
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("UPDATE kms_keys SET enabled = 0 WHERE alias = 'alias/app'")
        conn.commit()
    assert [r[4] for r in key_rows(db) if r[2] == "alias/app"] == [0]


async def test_the_default_key_cannot_be_disabled_or_enabled(stub, region, capsys) -> None:
    await create(stub, "s", "v1")
    data = str(region.config.data_dir)
    before = key_rows(region.config.db_path)
    default_arn = region.keyring.resolve("alias/aws/secretsmanager").arn
    for command in ("disable-key", "enable-key"):
        for ref in (
            "alias/aws/secretsmanager",
            default_arn,
            KMS_PREFIX + "alias/aws/secretsmanager",
        ):
            rc, out, err = await cli(capsys, "kms", command, ref, "--data-dir", data)
            assert (rc, out) == (1, ""), err
            assert err == (
                "smgrpc: UnsupportedOperationException: alias/aws/secretsmanager is an AWS "
                "managed key: it can't be disabled or enabled.\n"
            )
    assert key_rows(region.config.db_path) == before
    await asyncio.sleep(0.3)
    assert (await get(stub, "s")).secret_string == "v1"


async def test_kms_takes_the_region_from_the_data_dir(tmp_path, clock, capsys) -> None:
    eu = await start_region(make_config(tmp_path, "eu-west-1"), clock=clock)
    try:
        data = str(eu.config.data_dir)
        rc, out, err = await cli(
            capsys, "kms", "create-key", "--alias", "eu-app", "--data-dir", data
        )
        assert rc == 0, err
        made = json.loads(out)
        assert made["Arn"] == f"arn:aws:kms:eu-west-1:123456789012:key/{made['KeyId']}"
        rc, out, err = await cli(
            capsys, "kms", "list-keys", "--data-dir", data, "--region", "us-east-1"
        )
        assert (rc, out) == (2, "")
        assert err == (
            f"smgrpc: {data} belongs to Region eu-west-1, not us-east-1 (nothing was modified; "
            "a kms command takes the Region from the data dir)\n"
        )
        rc, out, _ = await cli(
            capsys, "kms", "list-keys", "--data-dir", data, "--region", "eu-west-1"
        )
        assert rc == 0
        assert {json.loads(line)["Arn"].split(":")[3] for line in out.splitlines()} == {"eu-west-1"}
        # The server resolves the key by its eu-west-1 ARN.
        await poll(lambda: _has(eu, made["Arn"]), within=5.0)
    finally:
        await eu.stop(0.5)


async def _has(region: Region, ref: str) -> bool | None:
    return True if any(ref == r.arn for r in region.keyring.records()) else None


@pytest.mark.parametrize(
    "argv",
    [
        ["list-keys"],
        ["create-key", "--alias", "alias/x"],
        ["disable-key", "alias/x"],
        ["enable-key", "alias/x"],
    ],
)
async def test_kms_on_a_missing_data_dir_creates_nothing(tmp_path, capsys, argv) -> None:
    typo = tmp_path / "typo" / "us-east-1"
    rc, out, err = await cli(capsys, "kms", *argv, "--data-dir", str(typo))
    assert (rc, out) == (2, "")
    assert err == (
        f"smgrpc: no Region in {typo} (no secrets.db): only `smgrpc serve` creates a Region's "
        "data dir; check --data-dir\n"
    )
    assert list(tmp_path.iterdir()) == []


async def test_kms_on_a_data_dir_with_a_database_but_no_key_creates_nothing(region, capsys):
    key = region.config.key_path
    saved = key.read_bytes()
    key.unlink()
    try:
        rc, _, err = await cli(
            capsys, "kms", "list-keys", "--data-dir", str(region.config.data_dir)
        )
        assert rc == 2
        assert err == (
            f"smgrpc: master key file {key} does not exist (the data in this dir is encrypted "
            "under it)\n"
        )
        assert not key.exists()
    finally:
        key.write_bytes(saved)
        key.chmod(0o600)


async def test_kms_commands_open_the_key_rows_only(tmp_path, clock) -> None:
    """`smgrpc kms` never loads the Region's secrets (seconds at 1M): keys and meta only."""
    cfg = make_config(tmp_path)
    async with running(cfg, clock=clock) as region:
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            await stub.CreateSecret(pb.CreateSecretRequest(name="kept", secret_string="v"))
    kms_cfg = Config(region=cfg.region, data_dir=cfg.data_dir)
    store, keyring = await open_keyring(kms_cfg, clock, serve=False)
    try:
        assert store.all() == []  # nothing loaded
        assert any(r.alias == "alias/aws/secretsmanager" for r in keyring.records())
    finally:
        await store.close()
    async with running(cfg, clock=clock) as region:  # the secret is still there, of course
        assert region.store.find("kept") is not None
