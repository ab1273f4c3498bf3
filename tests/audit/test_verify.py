"""`smgrpc audit verify`: an intact chain across rotated files and restarts passes; a flipped
byte, a deleted record, a truncated file, a missing file or a forged checkpoint each fail at
the right record, with the documented exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.audit.verify import files_of
from smgrpc.cli.main import main as cli_main
from smgrpc.config import Config, ConfigError
from smgrpc.crypto.audit_key import PUB_FILE, load_signer
from tests.audit.helpers import check, records
from tests.conftest import admin_channel, make_config, pb, running


async def _traffic(cfg: Config, calls: int) -> None:
    """One write and `calls` reads."""
    async with running(cfg) as region:
        async with admin_channel(region) as ch:
            stub = pbg.SecretsManagerStub(ch)
            if region.store.find("t") is None:
                await stub.CreateSecret(pb.CreateSecretRequest(name="t", secret_string="v"))
            else:
                await stub.PutSecretValue(
                    pb.PutSecretValueRequest(secret_id="t", secret_string="v")
                )
            for _ in range(calls):
                await stub.GetSecretValue(pb.GetSecretValueRequest(secret_id="t"))


@pytest.fixture
async def trail(tmp_path: Path) -> tuple[Path, Config]:
    """A log rotated several times, written by two runs of the server."""
    log = tmp_path / "logs" / "audit.log"
    cfg = make_config(tmp_path, audit_log=log, audit_max_bytes=4096)
    await _traffic(cfg, 12)
    await _traffic(cfg, 12)
    return log, cfg


def _verify(capsys: pytest.CaptureFixture[str], log: Path, cfg: Config) -> tuple[int, str]:
    code = cli_main(["audit", "verify", str(log), "--data-dir", str(cfg.data_dir)])
    return code, capsys.readouterr().out


def _line_of(path: Path, number: int) -> tuple[int, int]:
    """(offset, length) of line `number` (1-based) in path."""
    data = path.read_bytes()
    offset = 0
    for _ in range(number - 1):
        offset = data.index(b"\n", offset) + 1
    return offset, data.index(b"\n", offset) - offset


async def test_an_intact_trail_verifies_across_files_and_restarts(
    trail: tuple[Path, Config], capsys: pytest.CaptureFixture[str]
) -> None:
    log, cfg = trail
    files = files_of(log)
    assert len(files) >= 3  # rotated at least twice
    report = check(log, cfg.data_dir)
    assert report.ok and report.closed and report.first_seq == 1
    every = [r for f in files for r in records(f)]
    assert [r["recordSeq"] for r in every] == list(range(1, len(every) + 1))
    reasons = [r["reason"] for r in every if r["recordType"] == "Checkpoint"]
    assert reasons.count("open") == len(files) + 1  # every file, and the second start
    assert reasons.count("close") == 2
    assert reasons.count("rotate") == len(files) - 1
    assert _verify(capsys, log, cfg)[0] == 0


async def test_a_flipped_byte_fails_at_that_record(
    trail: tuple[Path, Config], capsys: pytest.CaptureFixture[str]
) -> None:
    log, cfg = trail
    victim = files_of(log)[1]
    offset, length = _line_of(victim, 3)
    data = bytearray(victim.read_bytes())
    at = data.index(b"GetSecretValue", offset)
    data[at] ^= 0x20  # G -> g
    victim.write_bytes(bytes(data))
    seq = records(files_of(log)[0])[-1]["recordSeq"] + 3
    code, out = _verify(capsys, log, cfg)
    assert code == 1
    assert f"BROKEN at {victim}:3 (recordSeq {seq})" in out and "modified" in out


async def test_a_deleted_record_fails_at_the_next_one_naming_it(
    trail: tuple[Path, Config], capsys: pytest.CaptureFixture[str]
) -> None:
    log, cfg = trail
    victim = files_of(log)[0]
    lines = victim.read_bytes().splitlines(keepends=True)
    gone = json.loads(lines[4])["recordSeq"]
    victim.write_bytes(b"".join(lines[:4] + lines[5:]))
    code, out = _verify(capsys, log, cfg)
    assert code == 1
    assert f"BROKEN at {victim}:5 (recordSeq {gone + 1})" in out
    assert f"record(s) {gone} missing" in out


async def test_a_file_cut_mid_record_fails_at_the_cut_record(
    trail: tuple[Path, Config], capsys: pytest.CaptureFixture[str]
) -> None:
    log, cfg = trail
    victim = files_of(log)[-2]
    offset, length = _line_of(victim, 4)
    with victim.open("r+b") as fh:
        fh.truncate(offset + length // 2)
    code, out = _verify(capsys, log, cfg)
    assert code == 1 and f"BROKEN at {victim}:4" in out and "truncated" in out


async def test_the_active_file_cut_inside_its_last_record_fails_there(
    trail: tuple[Path, Config], capsys: pytest.CaptureFixture[str]
) -> None:
    log, cfg = trail
    last = len(log.read_bytes().splitlines())
    offset, length = _line_of(log, last)
    with log.open("r+b") as fh:
        fh.truncate(offset + length - 5)
    code, out = _verify(capsys, log, cfg)
    assert code == 1 and f"BROKEN at {log}:{last}" in out and "truncated" in out


async def test_a_rotated_file_cut_at_a_record_boundary_fails_at_its_end(
    trail: tuple[Path, Config], capsys: pytest.CaptureFixture[str]
) -> None:
    log, cfg = trail
    victim = files_of(log)[0]
    lines = victim.read_bytes().splitlines(keepends=True)
    victim.write_bytes(b"".join(lines[:-2]))  # its last record and its rotate checkpoint
    code, out = _verify(capsys, log, cfg)
    assert code == 1 and f"BROKEN at {victim}:end" in out and "rotate checkpoint" in out


async def test_a_deleted_rotated_file_fails_at_the_next_file(
    trail: tuple[Path, Config], capsys: pytest.CaptureFixture[str]
) -> None:
    log, cfg = trail
    files = files_of(log)
    files[1].unlink()
    code, out = _verify(capsys, log, cfg)
    assert code == 1 and f"BROKEN at {files[2]}:1" in out and "missing" in out


async def test_a_rewritten_chain_fails_at_its_forged_checkpoint(
    trail: tuple[Path, Config], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Whoever rewrites the whole log (recomputing every hash) cannot sign its checkpoints
    with the Region's key: verify with the trusted audit.pub names the first checkpoint."""
    log, cfg = trail
    other = tmp_path / "other"
    forged = make_config(other, audit_log=other / "audit.log")
    await _traffic(forged, 1)
    for f in files_of(log):
        f.unlink()
    shutil.copy(other / "audit.log", log)
    code, out = _verify(capsys, log, cfg)
    assert code == 1 and f"BROKEN at {log}:1 (recordSeq 1)" in out and "signature" in out
    assert load_signer(cfg.data_dir).public == (cfg.data_dir / PUB_FILE).read_text().strip()


async def test_exit_code_2_without_a_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["audit", "verify", str(tmp_path / "none.log")]) == 2
    assert cli_main(["audit", "nonsense"]) == 2


async def test_a_torn_last_line_from_a_crash_is_cut_and_noted_at_the_next_start(
    tmp_path: Path,
) -> None:
    log = tmp_path / "audit.log"
    cfg = make_config(tmp_path, audit_log=log)
    await _traffic(cfg, 1)
    with log.open("ab") as fh:
        fh.write(b'{"recordType":"Event","eventName":"Get')  # a write cut by a crash
    await _traffic(cfg, 1)
    opened = [r for r in records(log) if r["recordType"] == "Checkpoint"]
    assert [r.get("tornBytes", 0) for r in opened] == [0, 0, 38, 0]
    assert check(log, cfg.data_dir).ok


async def test_whole_records_cut_off_the_end_fail_against_the_signed_head(
    trail: tuple[Path, Config], capsys: pytest.CaptureFixture[str]
) -> None:
    """The active file cut at a record boundary looks whole by itself: the signed head in
    the data dir names the last record, so verify (with --data-dir) says what is missing."""
    log, cfg = trail
    lines = log.read_bytes().splitlines(keepends=True)
    last = json.loads(lines[-1])["recordSeq"]
    log.write_bytes(b"".join(lines[:-3]))
    code, out = _verify(capsys, log, cfg)
    assert code == 1 and f"BROKEN at {log}:end (recordSeq {last - 2})" in out
    assert f"names record {last}" in out and "cut off the end" in out
    # And the server refuses to continue such a log (rather than overwrite the head).
    with pytest.raises(ConfigError, match="records were removed"):
        await _traffic(cfg, 1)
    # Without the head it is not detectable, and verify says so (exit 3, never a plain OK).
    assert cli_main(["audit", "verify", str(log)]) == 3


async def test_the_loops_writer_rotates_and_verifies_too(tmp_path: Path) -> None:
    """--audit-sync write (written on the event loop): same files, same chain."""
    log = tmp_path / "audit.log"
    cfg = make_config(tmp_path, audit_log=log, audit_max_bytes=4096, audit_sync="write")
    await _traffic(cfg, 12)
    await _traffic(cfg, 12)
    assert len(files_of(log)) >= 3
    report = check(log, cfg.data_dir)
    assert report.ok and report.closed and report.first_seq == 1
    assert report.last_seq == sum(len(records(f)) for f in files_of(log))
