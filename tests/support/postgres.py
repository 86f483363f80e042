"""A throwaway PostgreSQL server for tests: initdb into a temp dir, start on loopback.

Uses Debian's server binaries (``/usr/lib/postgresql/<version>/bin``; install them with
``scripts/install-test-services.sh``). PostgreSQL refuses to run as root, so as root the
server runs as the ``postgres`` system user.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.servers import free_port

PG_GLOB = "/usr/lib/postgresql/*/bin"


class PostgresUnavailable(RuntimeError):
    """No usable PostgreSQL server binaries (or no user to run them as)."""


def find_pg_bin() -> Path:
    """Return the newest PostgreSQL ``bin`` folder that has ``initdb`` and ``pg_ctl``."""
    found = [
        p
        for p in Path("/").glob(PG_GLOB.lstrip("/"))
        if (p / "initdb").exists() and (p / "pg_ctl").exists()
    ]
    if not found:
        raise PostgresUnavailable(
            f"no PostgreSQL server binaries under {PG_GLOB}; "
            "run scripts/install-test-services.sh (apt-get install postgresql)"
        )
    return max(found, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)


def _runner() -> tuple[list[str], str | None]:
    """Return the command prefix that drops root, and the user to own the data dir."""
    if os.geteuid() != 0:
        return [], None
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise PostgresUnavailable("running as root and there is no 'postgres' user") from exc
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", "postgres", "--"], "postgres"
    return ["su", "postgres", "-s", "/bin/sh", "-c"], "postgres"


@contextmanager
def running_postgres(user: str = "deepsearch") -> Iterator[str]:
    """Start a private PostgreSQL on 127.0.0.1 and yield its DSN; stop and delete it on exit."""
    bindir = find_pg_bin()
    prefix, owner = _runner()
    root = Path(tempfile.mkdtemp(prefix="deepsearch-pg-"))
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    sockets.mkdir()
    if owner:
        shutil.chown(root, owner, owner)
        shutil.chown(sockets, owner, owner)

    def run(*args: str) -> None:
        command = [*prefix, *args]
        if prefix and prefix[0] == "su":  # su takes one shell command string
            command = [*prefix, shlex.join(args)]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    port = free_port()
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    try:
        run(
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            user,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start")
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode(errors="replace")[-500:]
        server_log = log.read_text(errors="replace")[-500:] if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise PostgresUnavailable(f"PostgreSQL did not start: {detail} {server_log}") from exc
    try:
        yield f"postgresql://{user}@127.0.0.1:{port}/postgres"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
