"""The central's PostgreSQL: a connection, and the schema brought up to date at start from the versioned files in
central/migrations/ (NNN_name.sql, applied in order, each once, each in its own transaction)."""
from __future__ import annotations

import logging
import re
from pathlib import Path

import psycopg

from appliance.site import SetupError
from central.config import READERS

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION = re.compile(r"(\d{3})_[a-z0-9_]+\.sql")
_LOCK = 0x7475726e   # one central at a time migrates ("turn")
# Idempotent, at every start: the role may be made after the schema (an upgrade), or never (no BI tool).
_GRANTS = f"""DO $$ BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{READERS}') THEN
        GRANT USAGE ON SCHEMA bi TO {READERS};
        GRANT SELECT ON ALL TABLES IN SCHEMA bi TO {READERS};
    END IF;
END $$"""


class DatabaseError(SetupError):
    """The central's database cannot be reached or brought up to date; the message says what to do."""


def connect(dsn: str, *, autocommit: bool = False) -> psycopg.Connection:
    try:
        return psycopg.connect(dsn, autocommit=autocommit)
    except psycopg.OperationalError as exc:
        raise DatabaseError(f"cannot reach the central's PostgreSQL with [database] dsn {dsn!r}: "
                            f"{str(exc).strip()}") from None


def migrations() -> list[tuple[int, Path]]:
    found = sorted((int(m[1]), path) for path in MIGRATIONS.iterdir() if (m := _MIGRATION.fullmatch(path.name)))
    return found


def migrate(dsn: str) -> list[str]:
    """Applies the migrations the database has not had; returns their names."""
    applied = []
    with connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
                     " applied_at timestamptz NOT NULL DEFAULT now())")
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        for version, path in migrations():
            if version in done:
                continue
            with conn.transaction():
                conn.execute(path.read_text(encoding="utf-8"))
                conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, path.name))
            log.info("database: applied %s", path.name)
            applied.append(path.name)
        conn.execute(_GRANTS)
        conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK,))
    return applied
