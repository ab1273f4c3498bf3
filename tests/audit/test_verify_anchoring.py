"""`smgrpc audit verify` never says a plain OK about what it cannot vouch for: a chain whose
oldest files were deleted fails unless --allow-pruned (M2), and a chain checked without the
signed head whose active file does not end with its close checkpoint exits 3, "unanchored"
(M3): records cut off the end, or rewritten with fresh hashes, would look intact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smgrpc.audit import chain
from smgrpc.audit.verify import files_of
from smgrpc.audit.writer import HEAD_FILE
from smgrpc.cli.main import main as cli_main
from smgrpc.config import Config
from smgrpc.crypto.audit_key import PUB_FILE
from tests.audit.helpers import check
from tests.audit.test_verify import _traffic
from tests.conftest import make_config, running


def _verify(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli_main(["audit", "verify", *argv])
    got = capsys.readouterr()
    return code, got.out, got.err


@pytest.fixture
async def rotated(tmp_path: Path) -> tuple[Path, Config]:
    """The review's reproduction: max_bytes 2000, at least five rotated files."""
    log = tmp_path / "logs" / "audit.log"
    cfg = make_config(tmp_path, audit_log=log, audit_max_bytes=2000)
    await _traffic(cfg, 12)
    assert len(files_of(log)) >= 6
    return log, cfg


async def test_deleting_the_oldest_rotated_files_fails_unless_allowed(
    rotated: tuple[Path, Config], capsys: pytest.CaptureFixture[str]
) -> None:
    log, cfg = rotated
    files = files_of(log)
    first_kept = json.loads(files[2].read_bytes().splitlines()[0])["recordSeq"]
    files[0].unlink()
    files[1].unlink()
    report = check(log, cfg.data_dir)
    assert not report.ok and report.broken_seq == first_kept
    code, out, _err = _verify(capsys, str(log), "--data-dir", str(cfg.data_dir))
    assert code == 1
    assert f"BROKEN at {files[2]}:1 (recordSeq {first_kept})" in out
    assert f"records 1-{first_kept - 1} missing (older files deleted)" in out
    assert "--allow-pruned" in out
    # Pruned on purpose: accepted, and said loudly (stdout, not only a note).
    code, out, err = _verify(capsys, str(log), "--data-dir", str(cfg.data_dir), "--allow-pruned")
    assert code == 0
    assert f"recordSeq {first_kept}-" in out
    assert f"PRUNED: records 1-{first_kept - 1} are not in these files" in out
    assert f"the retained chain starts at record {first_kept} in {files[2]}:1" in err
    report = check(log, cfg.data_dir, allow_pruned=True)
    assert report.ok and report.pruned == first_kept - 1 and report.first_seq == first_kept


async def test_a_chain_whose_first_record_is_not_the_genesis_fails(
    rotated: tuple[Path, Config],
) -> None:
    """recordSeq 1 must follow the 64 zeros: a forged start is not a "start"."""
    log, cfg = rotated
    first = files_of(log)[0]
    lines = first.read_bytes().splitlines(keepends=True)
    raw = lines[0][: lines[0].rfind(b',"recordSeq":')]
    forged, _digest = chain.seal(raw, 1, "1" * 64)
    first.write_bytes(forged + b"".join(lines[1:]))
    report = check(log, cfg.data_dir)
    assert not report.ok and report.broken_seq == 1 and "genesis" in report.reason


async def test_without_the_head_a_closed_log_is_ok_and_an_open_one_unanchored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "audit.log"
    cfg = make_config(tmp_path, audit_log=log)
    await _traffic(cfg, 3)
    code, out, _ = _verify(capsys, str(log))
    assert code == 0 and "ends with its signed close checkpoint" in out
    # The close checkpoint and the record before it cut off: looks whole by itself.
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:-2]))
    code, out, _ = _verify(capsys, str(log))
    assert code == 3 and out.startswith("UNANCHORED: ") and "OK" not in out
    code, out, _ = _verify(capsys, str(log), "--json")
    got = json.loads(out)
    assert code == 3 and got["exitCode"] == 3 and got["ok"] and not got["anchored"]
    # With the head the cut is found, by --data-dir or by a copy of the head.
    code, out, _ = _verify(capsys, str(log), "--data-dir", str(cfg.data_dir))
    assert code == 1 and "cut off the end" in out
    copy = tmp_path / "elsewhere.head"
    copy.write_bytes((cfg.data_dir / HEAD_FILE).read_bytes())
    pub = str(cfg.data_dir / PUB_FILE)
    code, out, _ = _verify(capsys, str(log), "--public-key", pub, "--head", str(copy))
    assert code == 1 and "cut off the end" in out
    assert _verify(capsys, str(log), "--head", str(copy))[0] == 2  # a head needs a key


async def test_records_rewritten_with_fresh_hashes_are_unanchored_without_the_head(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Someone edits the active file and recomputes every later hash (dropping the close
    checkpoint, whose signature they cannot forge): each line checks out by itself."""
    log = tmp_path / "audit.log"
    cfg = make_config(tmp_path, audit_log=log)
    await _traffic(cfg, 3)
    lines = log.read_bytes().splitlines()[:-1]  # without the close checkpoint
    at = next(i for i, ln in enumerate(lines) if b'"eventName":"GetSecretValue"' in ln)
    prev = json.loads(lines[at - 1])["hash"]
    out_lines = [ln + b"\n" for ln in lines[:at]]
    for number, line in enumerate(lines[at:], at + 1):
        raw = line[: line.rfind(b',"recordSeq":')].replace(b"127.0.0.1", b"10.9.8.7")
        sealed, prev = chain.seal(raw, number, prev)
        out_lines.append(sealed)
    log.write_bytes(b"".join(out_lines))
    assert b"10.9.8.7" in log.read_bytes()
    code, out, _ = _verify(capsys, str(log))
    assert code == 3 and "UNANCHORED" in out
    code, out, _ = _verify(capsys, str(log), "--data-dir", str(cfg.data_dir))
    assert code == 1 and "BROKEN" in out


async def test_a_running_servers_log_is_anchored_by_its_head(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "audit.log"
    cfg = make_config(tmp_path, audit_log=log)
    async with running(cfg):
        code, out, _ = _verify(capsys, str(log), "--data-dir", str(cfg.data_dir))
        assert code == 0 and "reaches the signed head" in out and "open" in out
        code, out, _ = _verify(capsys, str(log))
        assert code == 3 and "no signed head given" in out
    (cfg.data_dir / HEAD_FILE).unlink()
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:-1]))  # the close checkpoint gone, and the head with it
    code, out, _ = _verify(capsys, str(log), "--data-dir", str(cfg.data_dir))
    assert code == 3 and f"no signed head at {cfg.data_dir / HEAD_FILE}" in out
