"""A private PostgreSQL for the demo and the tests: a real cluster made by initdb in a folder of its own, listening
only on a Unix socket in that folder, stopped and removed afterwards. It never touches the system's clusters.

    with LocalPostgres() as db:
        psycopg.connect(db.dsn)

PostgreSQL refuses to run as root (FIELD_NOTES), and CI runs as root: then the cluster belongs to the system user
"postgres" (Debian's postgresql package makes it) and its folder is made outside any 0700 folder of root's, in
the temporary directory, so that user can reach it. As any other user it runs as that user.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

SUPERUSER = "turnero"
DATABASE = "turnero"
PORT = 5432          # only the socket's name: nothing listens on TCP


class PostgresError(RuntimeError):
    """The private PostgreSQL is missing, could not start, or did not stop."""


def find_bin(name: str) -> str:
    """A PostgreSQL server program: Debian keeps them in /usr/lib/postgresql/<version>/bin, outside PATH."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    program = found[-1] if found else shutil.which(name)
    if program:
        return program
    raise PostgresError(f"PostgreSQL's {name} is not installed: apt-get install postgresql")


class LocalPostgres:
    def __init__(self):
        self.folder: Path | None = None
        self._user = pwd.getpwnam("postgres") if os.geteuid() == 0 else None

    @property
    def dsn(self) -> str:
        return f"host={self.folder} port={PORT} user={SUPERUSER} dbname={DATABASE}"

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if self._user else []
        done = subprocess.run([*prefix, *command], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              cwd=self.folder)
        if check and done.returncode != 0:
            raise PostgresError(f"{Path(command[0]).name} failed ({done.returncode}): "
                                f"{(done.stderr or done.stdout).strip()[-2000:]}")
        return done

    def start(self) -> "LocalPostgres":
        self.folder = Path(tempfile.mkdtemp(prefix="turnero-pg-"))
        if self._user:
            os.chown(self.folder, self._user.pw_uid, self._user.pw_gid)
        self._run(find_bin("initdb"), "-D", str(self.folder / "data"), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        self._pg_ctl_start()
        self._run(find_bin("createdb"), "-h", str(self.folder), "-p", str(PORT), "-U", SUPERUSER, DATABASE)
        return self

    def restart(self, *, mode: str = "fast") -> None:
        """Stops (fast: in order; immediate: like a crash) and starts again, keeping the data."""
        self._pg_ctl("-m", mode, "-w", "stop")
        self._pg_ctl_start()

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        self._run(find_bin("pg_ctl"), "-D", str(self.folder / "data"), *args, check=check)

    def _pg_ctl_start(self) -> None:
        # fsync off: a test's machine never loses power, and a killed server still loses no commit (the WAL is in
        # the page cache); commits stay synchronous, so "committed" means what it means in production.
        options = (f"-c listen_addresses='' -c unix_socket_directories='{self.folder}' -p {PORT} -c fsync=off "
                   "-c full_page_writes=off")
        self._pg_ctl("-l", str(self.folder / "postgres.log"), "-w", "-t", "30", "-o", options, "start")

    def stop(self) -> None:
        if self.folder is None:
            return
        self._pg_ctl("-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    def __enter__(self) -> "LocalPostgres":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
