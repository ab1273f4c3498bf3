"""A throwaway PostgreSQL cluster for tests: initdb in a temp dir, started as a non-root user.

The binaries come from PATH or Debian's /usr/lib/postgresql/<version>/bin (package
`postgresql`; scripts/test installs it when missing). As root the cluster runs as the
`postgres` system user the package creates (initdb refuses root): the temp dir is handed to
it. Password logins over TCP use scram-sha-256; the unix socket (in the temp dir) trusts.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

SUPERUSER = "postgres"
START_TIMEOUT = 30


def binaries() -> Path | None:
    """The directory holding initdb and pg_ctl, if PostgreSQL is installed."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    """A running cluster: superuser `postgres` with `password` over TCP on 127.0.0.1:port."""

    bindir: Path
    root: Path
    port: int
    password: str
    user: str | None  # the OS user it runs as (None: this process's user)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            user=self.user,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
            check=check,
        )

    def init(self) -> None:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        self._chown(pwfile)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )
        pwfile.unlink()

    def start(self) -> None:
        opts = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.root} -c fsync=off -c full_page_writes=off "
            "-c max_connections=50 -c shared_buffers=16MB"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-o", opts, "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)

    def _chown(self, path: Path) -> None:
        if self.user is not None:
            pw = pwd.getpwnam(self.user)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def psql(self, sql: str) -> str:
        """Run SQL as the superuser over the unix socket; the last result as `psql -At` shows
        it (rows on lines, columns joined by |, booleans t/f)."""
        with psycopg.connect(
            host=str(self.root), port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as conn:
            cur = conn.execute(sql.encode())
            rows = cur.fetchall() if cur.description else []
        show = {True: "t", False: "f", None: ""}
        return "\n".join(
            "|".join(show[v] if isinstance(v, bool) or v is None else str(v) for v in row)
            for row in rows
        )


def start_cluster(bindir: Path, password: str) -> Cluster:
    user: str | None = None
    if os.geteuid() == 0:
        user = SUPERUSER
        pwd.getpwnam(user)  # KeyError: no such user (the package creates it)
    root = Path(tempfile.mkdtemp(prefix="smgrpc-pg-"))
    root.chmod(0o700)
    last: Exception | None = None
    for _ in range(3):  # a port taken between picking and binding: pick another
        cluster = Cluster(bindir, root, _free_port(), password, user)
        cluster._chown(root)
        try:
            if not cluster.data.exists():
                cluster.init()
            cluster.start()
            return cluster
        except subprocess.CalledProcessError as exc:
            last = exc
            time.sleep(0.2)
    log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
    shutil.rmtree(root, ignore_errors=True)
    raise RuntimeError(f"PostgreSQL did not start: {last}; {getattr(last, 'stderr', '')}{log}")


def remove(cluster: Cluster) -> None:
    cluster.stop()
    shutil.rmtree(cluster.root, ignore_errors=True)
