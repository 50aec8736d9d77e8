"""A throwaway PostgreSQL server for the store tests: initdb in a temp dir, a free port.

The tests run against a real server (not a mock) because the store relies on PostgreSQL's own
locking, types and constraint behaviour. initdb refuses to run as root, so as root the cluster
belongs to the `postgres` system user (created by Debian's postgresql package) and every server
command runs through `runuser`.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl, pg_dump) not found on PATH or under "
    "/usr/lib/postgresql/*/bin: the store tests run against a real server; install it with "
    "`apt-get update && apt-get install -y postgresql` (Debian package)"
)
SUPERUSER = "voiceauth"
SERVER_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """The server cannot be found or started; the message says what to install or fix."""


def find_bindir() -> Path:
    """The directory holding initdb and pg_ctl (PATH first, then Debian's versioned dirs)."""
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for folder in candidates:
        if all((folder / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres", "pg_dump")):
            return folder
    raise PostgresUnavailable(INSTALL_HINT)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    bindir: Path
    root: Path
    port: int
    run_as: list[str]

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _conninfo(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={database}"

    def execute(self, sql: str, database: str = "postgres") -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
        with psycopg.connect(self._conninfo(database), autocommit=True) as conn:
            conn.execute(sql.encode("utf-8"))

    def dump(self, database: str) -> str:
        """`pg_dump` of the database as SQL text (bytea columns appear as hex)."""
        result = subprocess.run(
            [
                str(self.bindir / "pg_dump"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                "--no-owner",
                database,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self.run_as, *args], capture_output=True, text=True)
        if result.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PostgresUnavailable(
                f"{Path(args[0]).name} failed ({result.returncode}): {result.stderr.strip()}\n"
                f"{tail}"
            )

    def start(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.datadir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        self.resume()

    def _pg_ctl(self, action: str, *options: str) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), *options, action)

    def resume(self) -> None:
        """Start the (initialised or halted) server and wait until it accepts connections."""
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            # Throwaway data: skip durability work to keep the suite fast on a shared machine.
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._pg_ctl("start", "-l", str(self.root / "server.log"), "-o", options, "-w", "-t", "60")

    def halt(self) -> None:
        """Stop the server (fast: open connections are cut) but keep its data, to resume."""
        self._pg_ctl("stop", "-m", "fast", "-w", "-t", "60")

    def stop(self) -> None:
        subprocess.run(
            [
                *self.run_as,
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.datadir),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def start_server() -> PostgresServer:
    """Find the binaries, create a cluster in a fresh temp dir and start it on a free port."""
    bindir = find_bindir()
    root = Path(tempfile.mkdtemp(prefix="voiceauth-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam(SERVER_USER)
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            raise PostgresUnavailable(
                f"running as root and no {SERVER_USER!r} system user to own the test cluster "
                "(initdb refuses root): install Debian's postgresql package, which creates it"
            ) from None
        os.chown(root, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", SERVER_USER, "--"]
    server = PostgresServer(bindir, root, _free_port(), run_as)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return server
