"""Landing checked rows in the warehouse: staging by COPY, set-based statements of sql/sync/, watermarks and rejects."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from ..config import (
    ROOT,
    DevdiagError,
    mask_secrets,
    redact,
)
from .base import (
    DEFAULT_KEEP_EVIDENCE_KEYS,
    DEFAULT_MAX_FUTURE_MINUTES,
    FIX_COLUMNS,
    ROW_LIMITS,
    ROW_TRIGGER_CHECKS,
    RUN_COLUMNS,
    TS_MAX,
    BusyError,
    Reject,
)
from .checks import Privacy, check_fix_row
from .store import Store

# --------------------------------------------------------------------------
# The warehouse side
# --------------------------------------------------------------------------

SQL_DIR = ROOT / "sql" / "sync"


def statement(name: str) -> str:
    """One statement of sql/sync/, where make lint sees it (psycopg's %(name)s parameters)."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


STAGE_DDL = tuple(statement(n) for n in ("stage_run", "stage_reject", "stage_fix"))
INSERT_NEW_RUNS = statement("insert_new_runs")
INSERT_RUNS_NOT_ARCHIVED = statement("insert_runs_not_archived")
ENSURE_DAYS = statement("ensure_days")
ENSURE_RUN_DAYS = statement("ensure_run_days")
REFRESH_ROLLUPS = statement("refresh_rollups")
STAGED_RUN_AS_JSON = statement("staged_run_as_json")
LAND_REJECTS = statement("land_rejects")
ADVANCE_WATERMARK = statement("advance_watermark")
PAIR_STAGE = statement("pair_stage")
APPLY_PAIRS = statement("apply_pairs")
COUNT_CHANGED_PAIRS = statement("count_changed_pairs")

#: errors a single bad row can cause; anything else (connection, privilege, lock) aborts the sync
ROW_ERRORS = ("DataError", "IntegrityError", "ProgramLimitExceeded")
#: the tables a row's own refusal may name (constraint violations name their table)
RUN_TABLES = ("diag_run", "sync_stage_run")
FIX_TABLES = ("fix_outcome", "fix_outcome_source", "sync_stage_pair", "sync_stage_fix")


def row_error_types():
    import psycopg

    return tuple(getattr(psycopg.errors, n) for n in ROW_ERRORS)


DAY_PARTITION = re.compile(r"_(p[0-9]{8}|default)$")


def caused_by_rows(exc, tables: tuple[str, ...]) -> bool:
    """Whether a refusal is about the rows sent (so the bad ones are isolated and rejected).

    An error raised for another table or from inside a function or trigger
    (a rollup that fails, say) is the warehouse's problem, not the rows': the
    sync stops instead of filing good rows as rejects.
    """
    diag = exc.diag
    table = diag.table_name
    if table and diag.schema_name == "devdiag_part":
        # a day partition (or the DEFAULT one) of a run table reports its own name
        table = DAY_PARTITION.sub("", table)
    if table and table not in tables:
        return False
    if diag.constraint_name in ROW_TRIGGER_CHECKS:
        return True
    context = diag.context or ""
    return "PL/pgSQL" not in context and "SQL function" not in context


def warehouse_fault(exc) -> DevdiagError:
    diag = exc.diag
    where = f" (table {diag.schema_name}.{diag.table_name})" if diag.table_name else ""
    context = (diag.context or "").strip().splitlines()
    return DevdiagError(
        f"the warehouse refused a batch for a reason that is not in the rows{where}: {diag.message_primary}"
        + (f" [{context[-1].strip()}]" if context else "") + "; nothing of this batch was written")


@dataclass
class Counts:
    runs_read: int = 0
    runs_landed: int = 0
    runs_present: int = 0
    runs_rejected: int = 0
    fixes_read: int = 0
    fixes_changed: int = 0
    fixes_rejected: int = 0
    rejects_new: int = 0
    rejects_known: int = 0


@dataclass
class Batch:
    lo: int
    hi: int
    n_rows: int
    good_ids: list = field(default_factory=list)
    data: bytes = b""
    rejects: list = field(default_factory=list)  # (sqlite_id, row, reason)
    days: set = field(default_factory=set)  # UTC days of the good rows, as days since 1970-01-01


class Warehouse:
    def __init__(self, dsn: str):
        import psycopg

        self.psycopg = psycopg
        self.dsn = dsn
        try:
            self.conn = psycopg.connect(dsn, application_name="devdiag-sync")
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DevdiagError(
                f"cannot connect to the warehouse ({redact(dsn)}): {mask_secrets(first, dsn)}") from None
        self.row_errors = row_error_types()
        self.limits: dict = {}
        self.lock_conn = None

    def where(self) -> str:
        info = self.conn.info
        host = info.host if not info.host.startswith("/") else f"socket {info.host}"
        return f"{info.dbname} on {host}:{info.port}"

    def check_migrated(self) -> None:
        row = self.conn.execute(
            """SELECT to_regclass('devdiag.sync_source') IS NOT NULL,
                      to_regclass('devdiag.sync_reject') IS NOT NULL,
                      to_regclass('devdiag.fix_outcome_source') IS NOT NULL,
                      to_regclass('devdiag.sync_run_lock') IS NOT NULL,
                      -- by the catalog: the sync may not use the rollups' schema
                      EXISTS (SELECT 1 FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                              WHERE n.nspname = 'devdiag_rollup' AND c.relname = 'rollup_refresh_state'),
                      EXISTS (SELECT 1 FROM pg_constraint
                              WHERE conname = 'diag_run_source_identity_unique')""").fetchone()
        self.conn.rollback()
        if not all(row):
            raise DevdiagError(
                f"the warehouse {self.where()} is not migrated for sync "
                "(devdiag.sync_source and friends are missing): run make migrate")

    def session_setup(self) -> None:
        c = self.conn
        # temp_buffers must be set before the first temporary table of the session.
        c.execute("SET temp_buffers = '64MB'")
        c.execute("SET lock_timeout = '60s'")
        c.execute("SET TimeZone = 'UTC'")
        for ddl in STAGE_DDL:
            c.execute(ddl)
        c.commit()

    def row_limits(self) -> dict:
        """The limits the warehouse's checks enforce (devdiag.row_limit), as the sync must apply them."""
        if not self.conn.execute("SELECT to_regprocedure('devdiag.row_limit(text)') IS NOT NULL").fetchone()[0]:
            self.conn.rollback()
            raise DevdiagError(f"the warehouse {self.where()} is not migrated for sync "
                               "(devdiag.row_limit is missing): run make migrate")
        rows = self.conn.execute("SELECT n, devdiag.row_limit(n) FROM unnest(%s::text[]) AS n",
                                 (list(ROW_LIMITS),)).fetchall()
        self.conn.rollback()
        self.limits = {n: v for n, v in rows if v is not None}
        return self.limits

    def newest_allowed_ts(self) -> float:
        """Epoch seconds past which a run is refused: the warehouse's clock plus settings.max_future_minutes."""
        row = self.conn.execute(
            """SELECT extract(EPOCH FROM now()),
                      (SELECT value #>> '{}' FROM devdiag.settings WHERE key = 'max_future_minutes')""").fetchone()
        self.conn.rollback()
        try:
            minutes = float(row[1]) if row[1] is not None else DEFAULT_MAX_FUTURE_MINUTES
        except ValueError:
            raise DevdiagError("devdiag.settings max_future_minutes must be a number") from None
        return min(float(row[0]) + 60 * minutes, TS_MAX)

    def keep_evidence_keys(self) -> tuple[str, ...]:
        row = self.conn.execute(
            "SELECT value FROM devdiag.settings WHERE key = 'keep_evidence_keys'").fetchone()
        self.conn.rollback()
        if row is None:
            return DEFAULT_KEEP_EVIDENCE_KEYS
        value = row[0]
        if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
            raise DevdiagError("devdiag.settings keep_evidence_keys must be a JSON array of strings")
        return tuple(value)

    def source(self, name: str, path: str, register: bool) -> dict | None:
        c = self.conn
        if register:
            c.execute(
                """INSERT INTO devdiag.sync_source (name, sqlite_path) VALUES (%s, %s)
                   ON CONFLICT (name) DO UPDATE SET sqlite_path = EXCLUDED.sqlite_path""",
                (name, path))
            c.commit()
        row = c.execute(
            """SELECT id, run_watermark, run_high_water, fingerprint_run_id, fingerprint
               FROM devdiag.sync_source WHERE name = %s""", (name,)).fetchone()
        c.rollback()
        if row is None:
            return None
        return dict(zip(("id", "watermark", "high_water", "fp_id", "fp"), row))

    def lock(self, source_id: int) -> None:
        """Hold the source's row of devdiag.sync_run_lock until the sync ends, on a connection of its own.

        Only devdiag_syncer may lock that row (an advisory key could be taken by
        any login); NOWAIT: a second sync of the source steps aside at once.
        """
        psycopg = self.psycopg
        c = self.lock_conn = psycopg.connect(self.dsn, application_name="devdiag-sync-lock")
        c.execute("SET idle_in_transaction_session_timeout = 0")
        c.execute("INSERT INTO devdiag.sync_run_lock (source_id) VALUES (%s) ON CONFLICT DO NOTHING", (source_id,))
        c.commit()
        try:
            c.execute("SELECT 1 FROM devdiag.sync_run_lock WHERE source_id = %s FOR UPDATE NOWAIT", (source_id,))
        except psycopg.errors.LockNotAvailable:
            c.rollback()
            raise BusyError("another sync of this source is running (it holds the source's row of "
                            "devdiag.sync_run_lock); try again later") from None

    # -- runs -----------------------------------------------------------------
    def land_runs(self, batch: Batch, source: dict, privacy: Privacy, counts: Counts) -> None:
        c = self.conn
        landed = 0
        rejects = [(describe_tenant(row[2]), "diag_run", sid, privacy.raw_row(RUN_COLUMNS, row), reason)
                   for sid, row, reason in batch.rejects]
        with c.transaction():
            if batch.good_ids:
                with c.cursor() as cur:
                    with cur.copy("COPY pg_temp.sync_stage_run FROM STDIN") as cp:
                        cp.write(batch.data)
                c.execute(ENSURE_DAYS)
                ids = batch.good_ids
                if batch.lo > source["high_water"]:
                    landed = self._insert_new(source["id"], ids, rejects)
                else:
                    landed = self._insert_range(INSERT_RUNS_NOT_ARCHIVED, source["id"], ids, 0, len(ids), rejects)
            new = self._land_rejects(source["id"], rejects)
            c.execute(ADVANCE_WATERMARK, {
                "hi": batch.hi, "landed": landed, "rejected": new, "source": source["id"],
                "fp_id": source.get("new_fp_id"), "fp": source.get("new_fp")})
        source["watermark"] = batch.hi
        source["high_water"] = max(source["high_water"], batch.hi)
        refused = len(rejects) - len(batch.rejects)  # refused by the warehouse after staging
        counts.runs_read += batch.n_rows
        counts.runs_landed += landed
        counts.runs_rejected += len(rejects)
        counts.runs_present += len(batch.good_ids) - landed - refused
        counts.rejects_new += new
        counts.rejects_known += len(rejects) - new

    def _insert_new(self, source_id: int, ids: list, rejects: list) -> int:
        """Runs above the high water: a plain INSERT, or row by row isolation if anything is refused."""
        try:
            with self.conn.transaction():
                return self.conn.execute(INSERT_NEW_RUNS, {"source": source_id, "lo": ids[0], "hi": ids[-1]}).rowcount
        except self.row_errors as exc:
            if not caused_by_rows(exc, RUN_TABLES):
                raise warehouse_fault(exc) from None
            # A bad row, or runs that are there after all (the high water was lowered by hand),
            # in diag_run or already archived.
            return self._insert_range(INSERT_RUNS_NOT_ARCHIVED, source_id, ids, 0, len(ids), rejects)

    def _insert_range(self, sql: str, source_id: int, ids: list, i: int, j: int, rejects: list) -> int:
        """Insert staged runs ids[i:j]; on a row error, halve until the bad rows are isolated."""
        try:
            with self.conn.transaction():
                cur = self.conn.execute(sql, {"source": source_id, "lo": ids[i], "hi": ids[j - 1]})
                return cur.rowcount
        except self.row_errors as exc:
            if not caused_by_rows(exc, RUN_TABLES):
                raise warehouse_fault(exc) from None
            if j - i == 1:
                reason = "refused by the warehouse: " + (exc.diag.message_primary or str(exc))
                tenant, raw = self.conn.execute(STAGED_RUN_AS_JSON, {"id": ids[i]}).fetchone()
                rejects.append((describe_tenant(tenant), "diag_run", ids[i], raw, reason))
                return 0
        mid = (i + j) // 2
        return (self._insert_range(sql, source_id, ids, i, mid, rejects)
                + self._insert_range(sql, source_id, ids, mid, j, rejects))

    def _land_rejects(self, source_id: int, rejects: list) -> int:
        if not rejects:
            return 0
        with self.conn.cursor() as cur:
            with cur.copy("COPY pg_temp.sync_stage_reject (tenant, table_name, sqlite_id, raw_row, reason) "
                          "FROM STDIN") as cp:
                for r in rejects:
                    cp.write_row(r)
            cur.execute(LAND_REJECTS, {"source": source_id})
            return len(cur.fetchall())

    # -- fix outcomes -------------------------------------------------------------
    def land_fixes(self, store: Store, source: dict, privacy: Privacy, counts: Counts, batch_rows: int,
                   apply: bool) -> None:
        c = self.conn
        rejects = []
        read = changed = 0
        with c.transaction() as tx:
            after = 0
            with c.cursor() as cur:
                with cur.copy("COPY pg_temp.sync_stage_fix FROM STDIN") as cp:
                    while True:
                        rows = store.fix_outcomes(after, batch_rows)
                        if not rows:
                            break
                        after = rows[-1][0]
                        read += len(rows)
                        for row in rows:
                            try:
                                cp.write_row(check_fix_row(row, self.limits))
                            except Reject as exc:
                                rejects.append((describe_tenant(row[2]), "fix_outcome", row[0],
                                                privacy.raw_row(FIX_COLUMNS, row), str(exc)))
            c.execute(PAIR_STAGE)
            if not apply:
                counts.fixes_read = read
                counts.fixes_changed = c.execute(COUNT_CHANGED_PAIRS, {"source": source["id"]}).fetchone()[0]
                counts.fixes_rejected = len(rejects)
                tx.force_rollback = True
                return
            n_pairs = c.execute("SELECT count(*) FROM pg_temp.sync_stage_pair").fetchone()[0]
            if n_pairs:
                changed = self._apply_pairs(source["id"], store.snapshot_at, 1, n_pairs, rejects)
            new = self._land_rejects(source["id"], rejects)
            c.execute("UPDATE devdiag.sync_source SET rows_rejected = rows_rejected + %s, last_sync_at = now() "
                      "WHERE id = %s", (new, source["id"]))
        counts.fixes_read = read
        counts.fixes_changed = changed
        counts.fixes_rejected = len(rejects)
        counts.rejects_new += new
        counts.rejects_known += len(rejects) - new

    def _apply_pairs(self, source_id: int, seen_at: datetime, lo: int, hi: int, rejects: list) -> int:
        try:
            with self.conn.transaction():
                state, _grown, _shrunk = self.conn.execute(
                    APPLY_PAIRS, {"source": source_id, "seen_at": seen_at, "lo": lo, "hi": hi}).fetchone()
                return state
        except self.row_errors as exc:
            if not caused_by_rows(exc, FIX_TABLES):
                raise warehouse_fault(exc) from None
            if lo == hi:
                reason = "refused by the warehouse: " + (exc.diag.message_primary or str(exc))
                for sqlite_id, tenant, raw in self.conn.execute(
                        """SELECT f.sqlite_id, f.tenant, row_to_json(f)::text
                           FROM pg_temp.sync_stage_fix AS f
                           JOIN pg_temp.sync_stage_pair AS p ON f.sqlite_id = ANY (p.sqlite_ids)
                           WHERE p.pair_no = %s""", (lo,)):
                    rejects.append((describe_tenant(tenant), "fix_outcome", sqlite_id, raw, reason))
                return 0
        mid = (lo + hi) // 2
        return (self._apply_pairs(source_id, seen_at, lo, mid, rejects)
                + self._apply_pairs(source_id, seen_at, mid + 1, hi, rejects))

    def ensure_days(self, days) -> None:
        """Partitions for these UTC days (days since 1970-01-01), in a transaction of their own."""
        epoch = date(1970, 1, 1)
        with self.conn.transaction():
            self.conn.execute(ENSURE_RUN_DAYS, {"days": [epoch + timedelta(days=int(d)) for d in sorted(days)]})

    def refresh_rollups(self, lock_wait_s: float) -> int | None:
        """Fold what was written (by this sync and any other writer) into the rollups; None when writers
        held the run tables longer than lock_wait_s (the minute job folds it then)."""
        row = self.conn.execute(REFRESH_ROLLUPS, {"lock_wait_s": lock_wait_s}).fetchone()
        self.conn.commit()
        return row[0]

    def close(self) -> None:
        for conn in (self.conn, self.lock_conn):
            try:
                if conn is not None:
                    conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection is best effort
                pass


class Refresher(threading.Thread):
    """Folds the batches already landed on a connection of its own while the sync lands the next one.

    The warehouse lands a batch on one server process; the fold of the batches
    before it runs on another, so a long sync keeps two cores busy and its
    closing refresh finds little left. Each pass is an ordinary
    ``devdiag.refresh_rollups()``: it folds what is committed, under the same
    locks as the minute job, so what it leaves undone (it failed, or writers
    held the tables) the closing refresh does.
    """

    def __init__(self, dsn: str, lock_wait_s: float):
        super().__init__(name="rollup-refresher", daemon=True)
        self.dsn, self.lock_wait_s = dsn, lock_wait_s
        self.cond = threading.Condition()
        self.wanted = False
        self.busy = False
        self.closing = False
        self.error: BaseException | None = None
        self.conn = None
        self.pass_started = 0.0  # time.monotonic() when the pass running began
        self.last_pass_s: float | None = None  # how long the last pass that ended took
        self.cancelled = False  # the pass running was ended on purpose (see stop)

    def nudge(self) -> None:
        """Ask for a pass (one pass covers every nudge made before it starts)."""
        with self.cond:
            self.wanted = True
            self.cond.notify_all()

    def wait_idle(self) -> None:
        """Until no pass is running or asked for: the run tables' partitions can then be attached."""
        with self.cond:
            self.cond.wait_for(lambda: not (self.busy or self.wanted) or not self.is_alive())

    def stop(self) -> bool:
        """No more passes; the pass running ends, early when it has most of its work ahead. Returns whether
        it was ended early (rolled back: its runs are still to fold).

        A pass folds what landed during the one before it, so it takes at
        least about as long as that one did. One that has run less than half
        that time has more work ahead than behind: it is cancelled, and the
        folds after it, which share the work across connections, take its
        runs too. Otherwise it runs to its end.
        """
        with self.cond:
            self.closing, self.wanted = True, False
            self.cond.notify_all()  # an idle refresher waits for this to end
            early = (self.busy and self.conn is not None and self.last_pass_s is not None
                     and time.monotonic() - self.pass_started < self.last_pass_s / 2)
            if early:
                self.cancelled = True
                self.conn.cancel_safe(timeout=10.0)
        self.join()
        return early

    def abandon(self) -> None:
        """Stop without a pass asked for; a pass running ends on its own (its work is committed whole)."""
        with self.cond:
            self.closing, self.wanted = True, False
            self.cond.notify_all()

    def run(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self.dsn, application_name="devdiag-sync-refresh", autocommit=True) as conn:
                conn.execute("SET lock_timeout = '60s'")
                while True:
                    with self.cond:
                        self.cond.wait_for(lambda: self.wanted or self.closing)
                        if not self.wanted:
                            return
                        self.wanted, self.busy = False, True
                        self.conn, self.pass_started = conn, time.monotonic()
                    try:
                        conn.execute(REFRESH_ROLLUPS, {"lock_wait_s": self.lock_wait_s})
                        self.last_pass_s = time.monotonic() - self.pass_started
                    except psycopg.errors.QueryCanceled:
                        if not self.cancelled:
                            raise
                        return
                    finally:
                        with self.cond:
                            self.busy = False
                            self.conn = None
                            self.cond.notify_all()
        except BaseException as exc:  # noqa: BLE001 - reported by the sync; its closing refresh redoes the work
            self.error = exc
        finally:
            with self.cond:
                self.busy = self.wanted = False
                self.cond.notify_all()


def describe_tenant(value) -> str:
    """The tenant a reject is filed under: the row's tenant when it is usable text, else ''.

    "Usable" includes short enough for the reject table's key (an over-long
    tenant is one of the things a reject may be about).
    """
    if isinstance(value, str) and "\x00" not in value and len(value.encode("utf-8", "surrogatepass")) <= 1000:
        return value
    return ""
