"""compose/docker-compose.yml and compose/Dockerfile, checked without a Docker engine.

Every Region's command is parsed by the real `smgrpc serve` parser and turned into a Config; the
`secrets-init` service is run for real against temp dirs standing in for the named volumes, and
the files it writes must be accepted by the Region's own key loaders.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from smgrpc.cli.main import _parser
from smgrpc.config import Config, from_args
from smgrpc.crypto.cluster import ClusterKey
from smgrpc.crypto.master import load_master_key
from smgrpc.startup import check_plaintext

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose" / "docker-compose.yml"
DOCKERFILE = ROOT / "compose" / "Dockerfile"
REGIONS = {"us-east-1", "eu-west-1", "ap-southeast-2"}
INIT = "secrets-init"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def _regions(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Service name -> service, for the services that run `smgrpc serve --region ...`."""
    return {
        name: svc
        for name, svc in compose["services"].items()
        if "--region" in (svc.get("command") or [])
    }


def _serve_config(svc: dict[str, Any]) -> Config:
    command = svc["command"]
    assert isinstance(command, list) and all(isinstance(a, str) for a in command), (
        "use the exec (list) form so no shell re-splits the flags"
    )
    try:
        args = _parser().parse_args(["serve", *command])
    except SystemExit as exc:  # argparse reports unknown or malformed flags this way
        raise AssertionError(f"`smgrpc serve` rejects {shlex.join(command)}") from exc
    env = {str(k): str(v) for k, v in _environment(svc).items()}
    return from_args(args, env=env)


def _environment(svc: dict[str, Any]) -> dict[str, Any]:
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return dict(env)


def _mounts(svc: dict[str, Any], compose: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """Container path -> (named volume, read-only) for the service's volume mounts."""
    out: dict[str, tuple[str, bool]] = {}
    for spec in svc.get("volumes") or []:
        assert isinstance(spec, str), "short volume syntax expected"
        source, target, *opts = spec.split(":")
        assert source in (compose.get("volumes") or {}), f"{source} is not a declared volume"
        out[target] = (source, "ro" in opts)
    return out


def _volume_of(
    path: PurePosixPath | Path, mounts: dict[str, tuple[str, bool]]
) -> tuple[str, str, bool]:
    """(mount target, volume, read-only) holding path; fails if path is on no volume."""
    p = PurePosixPath(str(path))
    hits = [t for t in mounts if p == PurePosixPath(t) or PurePosixPath(t) in p.parents]
    assert hits, f"{p} is not on a mounted volume (mounts: {sorted(mounts)})"
    target = max(hits, key=len)
    return target, mounts[target][0], mounts[target][1]


def _host_path(
    path: PurePosixPath | Path, mounts: dict[str, tuple[str, bool]], volumes: Path
) -> Path:
    target, volume, _ = _volume_of(path, mounts)
    rel = PurePosixPath(str(path)).relative_to(target)
    return volumes / volume / rel


def _listen_port(cfg: Config) -> int:
    return int(cfg.listen.rsplit(":", 1)[1])


def _published(svc: dict[str, Any]) -> list[tuple[int, int]]:
    """(host port, container port) for each published port ("[IP:]HOST:CONTAINER")."""
    out = []
    for spec in svc.get("ports") or []:
        parts = str(spec).split(":")
        assert len(parts) in (2, 3), f"publish a fixed host port: {spec!r}"
        out.append((int(parts[-2]), int(parts[-1].split("/")[0])))
    return out


def test_three_services_one_per_region(compose: dict[str, Any]) -> None:
    regions = _regions(compose)
    assert set(regions) == REGIONS  # service name = Region name = peer host name
    for name, svc in regions.items():
        assert _serve_config(svc).region == name


def test_every_flag_is_accepted_by_smgrpc_serve(compose: dict[str, Any]) -> None:
    for name, svc in _regions(compose).items():
        assert "entrypoint" not in svc, "the image's entrypoint is `smgrpc serve`"
        cfg = _serve_config(svc)
        host, _, port = cfg.listen.rpartition(":")
        assert host == "0.0.0.0", f"{name} must listen on all interfaces inside its container"
        assert port == "50051"
        check_plaintext(cfg)  # 0.0.0.0 without TLS must say --insecure, or it exits 2
        assert cfg.master_key_file is not None, f"{name}: pass --master-key-file explicitly"
        assert cfg.cluster_secret_file is not None
        for key in _environment(svc):
            assert not str(key).startswith("SMGRPC_"), "configure with flags, as the README does"


def test_peers_are_the_other_two_regions_by_service_name(compose: dict[str, Any]) -> None:
    regions = _regions(compose)
    configs = {name: _serve_config(svc) for name, svc in regions.items()}
    for name, cfg in configs.items():
        peers = dict(cfg.peers)
        assert len(cfg.peers) == len(peers) == 2
        assert set(peers) == REGIONS - {name}
        for region, address in peers.items():
            host, _, port = address.rpartition(":")
            assert host == region, f"{name} must reach {region} by its service name"
            assert int(port) == _listen_port(configs[region])


def test_every_region_names_the_same_iam_region_and_says_where_the_admin_token_is(
    compose: dict[str, Any],
) -> None:
    configs = {name: _serve_config(svc) for name, svc in _regions(compose).items()}
    assert {cfg.iam_holder for cfg in configs.values()} == {"us-east-1"}
    holder = configs["us-east-1"]
    assert str(holder.admin_token_path) == "/data/admin.token"
    assert "exec -T us-east-1 cat /data/admin.token" in COMPOSE.read_text()


def test_published_ports_are_distinct_and_reach_the_listen_port(compose: dict[str, Any]) -> None:
    seen: dict[int, str] = {}
    for name, svc in _regions(compose).items():
        # The gRPC port (the metrics port: tests/metrics/test_compose_metrics.py).
        published = [p for p in _published(svc) if p[1] == _listen_port(_serve_config(svc))]
        assert len(published) == 1
        host_port, container_port = published[0]
        assert host_port not in seen, f"{name} and {seen.get(host_port)} publish {host_port}"
        seen[host_port] = name
    assert sorted(seen) == [50051, 50052, 50053]
    assert seen[50051] == "us-east-1"


def _cluster_script() -> Any:
    """scripts/cluster.py, the helper behind scripts/cluster, as a module."""
    spec = importlib.util.spec_from_file_location("cluster_script", ROOT / "scripts" / "cluster.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # @dataclass looks its module up there
    spec.loader.exec_module(sys.modules[spec.name])
    return sys.modules[spec.name]


def test_compose_and_scripts_cluster_describe_the_same_topology(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    """The same Regions on the same host ports, the same IAM Region, the same full mesh."""
    cluster = _cluster_script()
    configs = {name: _serve_config(svc) for name, svc in _regions(compose).items()}
    host_port = {
        name: next(h for h, c in _published(svc) if c == _listen_port(configs[name]))
        for name, svc in _regions(compose).items()
    }
    nodes = cluster.nodes(tmp_path, cluster.DEFAULT_BASE_PORT)
    assert [n.region for n in nodes] == sorted(configs, key=host_port.__getitem__)
    for node in nodes:
        ours = configs[node.region]
        command = cluster.serve_command(
            node, [n for n in nodes if n is not node], tmp_path / "cluster.secret"
        )
        assert command[1] == "serve"
        theirs = from_args(_parser().parse_args(command[1:]), env={})
        assert node.port == host_port[node.region]  # scripts/cluster's port = compose's host port
        assert theirs.region == ours.region
        assert theirs.iam_holder == ours.iam_holder == cluster.IAM_REGION
        # each peer is the same Region, reached on its listen address in either world
        by_port = {n.address: n.region for n in nodes}
        assert {r: by_port[a] for r, a in theirs.peers} == {r: r for r, _ in ours.peers}


def test_every_region_publishes_its_aws_listener_on_loopback(compose: dict[str, Any]) -> None:
    """--aws-listen 0.0.0.0:4566 in each container; the host gets 127.0.0.1:4566-4568."""
    seen = {}
    for name, svc in _regions(compose).items():
        cfg = _serve_config(svc)
        assert cfg.aws_listen == "0.0.0.0:4566", f"{name}: serve the AWS listener"
        aws_port = int(cfg.aws_listen.rsplit(":", 1)[1])
        (published,) = [h for h, c in _published(svc) if c == aws_port]
        seen[published] = name
        assert all(str(p).startswith("127.0.0.1:") for p in svc["ports"]), "loopback only"
    assert seen == {4566: "us-east-1", 4567: "eu-west-1", 4568: "ap-southeast-2"}


def test_files_live_on_volumes_one_data_volume_per_region(compose: dict[str, Any]) -> None:
    data_volumes, secret_volumes = set(), set()
    for name, svc in _regions(compose).items():
        cfg = _serve_config(svc)
        mounts = _mounts(svc, compose)
        _, data_vol, data_ro = _volume_of(cfg.data_dir, mounts)
        assert not data_ro, f"{name}: the data volume must be writable"
        _, key_vol, _ = _volume_of(cfg.key_path, mounts)
        assert key_vol == data_vol, f"{name}: its master key stays in its own volume"
        assert cfg.cluster_secret_file is not None
        _, secret_vol, secret_ro = _volume_of(cfg.cluster_secret_file, mounts)
        assert secret_ro, f"{name}: mount the cluster secret read-only"
        data_volumes.add(data_vol)
        secret_volumes.add((secret_vol, str(cfg.cluster_secret_file)))
        depends = svc.get("depends_on") or {}
        assert depends.get(INIT, {}).get("condition") == "service_completed_successfully"
    assert len(data_volumes) == 3
    assert len(secret_volumes) == 1  # the same cluster secret everywhere
    assert not data_volumes & {v for v, _ in secret_volumes}


def test_secrets_init_writes_files_every_region_accepts(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    volumes = tmp_path / "volumes"
    for volume in compose["volumes"]:
        (volumes / volume).mkdir(parents=True)
    init = compose["services"][INIT]
    init_mounts = _mounts(init, compose)
    entry = init["entrypoint"]
    assert entry[0] == "python"
    (script,) = _copied_into_image()[entry[1]]
    argv = [
        a if not a.startswith("/") else str(_host_path(PurePosixPath(a), init_mounts, volumes))
        for a in init["command"]
    ]
    for _ in range(2):  # a second run (restart, `up` again) keeps the files
        done = subprocess.run(
            [sys.executable, str(ROOT / script), *argv], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
    assert "kept existing" in done.stdout and "created" not in done.stdout

    secrets, masters = set(), set()
    for svc in _regions(compose).values():
        cfg = _serve_config(svc)
        mounts = _mounts(svc, compose)
        assert cfg.cluster_secret_file is not None
        secret = _host_path(cfg.cluster_secret_file, mounts, volumes)
        key = _host_path(cfg.key_path, mounts, volumes)
        assert secret.stat().st_mode & 0o777 == 0o600
        assert key.stat().st_mode & 0o777 == 0o600
        ClusterKey.from_file(secret)  # what the Region does at start
        masters.add(load_master_key(key, create=False))
        secrets.add(secret.read_bytes())
    assert len(secrets) == 1 and len(masters) == 3

    owner = re.fullmatch(r"(\d+):(\d+)", init["command"][init["command"].index("--owner") + 1])
    assert owner is not None
    assert _dockerfile_instructions("USER") == [f"{owner[1]}:{owner[2]}"], (
        "secrets-init must hand the files to the image's user"
    )
    assert str(init.get("user")) in ("0", "0:0", "root"), "secrets-init needs root to chown"


def test_healthcheck_is_valid_python(compose: dict[str, Any]) -> None:
    for svc in _regions(compose).values():
        test = svc["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"]
        compile(test[3], "<healthcheck>", "exec")
        assert "/readyz" in test[3]


# --- Dockerfile -----------------------------------------------------------------------------


def _dockerfile_instructions(keyword: str) -> list[str]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())  # join continuation lines
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            if word.upper() == keyword:
                out.append(rest.strip())
    return out


def _build_args() -> dict[str, str]:
    """ARG name -> its default."""
    return dict(rest.partition("=")[::2] for rest in _dockerfile_instructions("ARG"))


def _copied_into_image() -> dict[str, list[str]]:
    """Image path -> the repository paths each COPY takes there (build args at their default)."""
    args = _build_args()
    out: dict[str, list[str]] = {}
    for rest in _dockerfile_instructions("COPY"):
        *srcs, dst = rest.split()
        assert not any(s.startswith("--") for s in srcs), "plain COPY expected"
        out[dst] = [re.sub(r"\$\{(\w+)\}", lambda m: args[m[1]], s) for s in srcs]
    return out


def test_dockerfile_builds_with_pip_alone_and_runs_smgrpc(compose: dict[str, Any]) -> None:
    # python:3.11-slim unless BASE_IMAGE names another (scripts/image --offline: a Debian base)
    assert _dockerfile_instructions("FROM") == ["${BASE_IMAGE}"]
    assert _build_args()["BASE_IMAGE"] == "python:3.11-slim"
    runs = " && ".join(_dockerfile_instructions("RUN"))
    assert re.search(r"\bpip install \.(\s|$)", runs), "install the repository with pip"
    # into a virtualenv on PATH (a plain Debian python3 refuses system-wide pip installs)
    assert "python3 -m venv /opt/smgrpc" in runs
    (env,) = _dockerfile_instructions("ENV")
    assert "PATH=/opt/smgrpc/bin:$PATH" in env.split()
    # the default wheelhouse holds no wheel, so the online build installs from PyPI
    wheelhouse = ROOT / _build_args()["WHEELHOUSE"]
    assert wheelhouse.is_dir() and not list(wheelhouse.glob("*.whl"))
    assert "PIP_NO_INDEX=1 PIP_FIND_LINKS=/tmp/wheelhouse" in runs
    for tool in ("apt-get", "apt ", "apk", "poetry", "uv ", "conda", "pipenv", "curl", "wget"):
        assert tool not in runs, f"the image must be built with pip alone, found {tool!r}"
    (entrypoint,) = _dockerfile_instructions("ENTRYPOINT")
    assert json.loads(entrypoint) == ["smgrpc", "serve"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["smgrpc"] == "smgrpc.cli.main:main"
    for srcs in _copied_into_image().values():
        for src in srcs:
            assert (ROOT / src).exists(), f"COPY {src}: no such file in the repository"
    for svc in compose["services"].values():
        build = svc["build"]
        assert (COMPOSE.parent / build["context"]).resolve() == ROOT
        assert (ROOT / build["dockerfile"]).resolve() == DOCKERFILE
    ignored = (ROOT / ".dockerignore").read_text().split()
    for needed in ("smgrpc", "pyproject.toml", "README.md", "compose"):
        assert needed not in ignored
    # scripts/image --offline: the cache stays out of the context, but for its wheelhouse
    assert ".cache" in ignored and "!.cache/image/wheelhouse" in ignored
