"""The sync from start to exit: reading, checking and landing in batches, and the command line."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import queue
import socket
import sys
import threading
import time
import traceback

from ..config import (
    DevdiagError,
    add_dsn_option,
    mask_secrets,
)
from ..refresh import fold_side_by_side, split_tenants
from .base import EXIT_BUG, EXIT_BUSY, EXIT_CONFIG, EXIT_OK, EXIT_REJECTED, TS_MIN, BusyError
from .checks import Privacy, RunChecker
from .land import Batch, Counts, Refresher, Warehouse
from .settings import Settings, resolve_settings
from .store import Store, describe

# --------------------------------------------------------------------------
# The sync
# --------------------------------------------------------------------------

class Producer(threading.Thread):
    """Reads and checks the next batches while the warehouse lands the current one."""

    def __init__(self, store: Store, checker: RunChecker, after: int, batch_rows: int, depth: int = 2):
        super().__init__(name="sqlite-reader", daemon=True)
        self.store, self.checker, self.after, self.batch_rows = store, checker, after, batch_rows
        self.out: queue.Queue = queue.Queue(maxsize=depth)
        self.stop = threading.Event()

    def put(self, item) -> bool:
        while not self.stop.is_set():
            try:
                self.out.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def run(self) -> None:
        try:
            after = self.after
            while not self.stop.is_set():
                rows = self.store.runs_after(after, self.batch_rows)
                if not rows:
                    break
                batch = Batch(lo=rows[0][0], hi=rows[-1][0], n_rows=len(rows))
                lines: list[str] = []
                self.checker.check(rows, batch.good_ids, lines, batch.rejects, batch.days)
                if lines:
                    lines.append("")
                    batch.data = "\n".join(lines).encode("utf-8", "surrogatepass")
                after = batch.hi
                del rows, lines
                if not self.put(batch):
                    return
            self.put(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            self.put(exc)


#: a transaction the server rolled back for a deadlock or a serialization failure is tried again
RETRIES = 3


def retrying(wh: Warehouse, land):
    """Run one landing transaction, again after a deadlock (e.g. with a concurrent writer's triggers).

    The transaction was rolled back whole, and a batch or the fix outcome
    phase is built so that running it again is exact.
    """
    for attempt in range(RETRIES + 1):
        try:
            return land()
        except (wh.psycopg.errors.DeadlockDetected, wh.psycopg.errors.SerializationFailure,
                wh.psycopg.errors.TransactionRollback) as exc:
            if attempt == RETRIES:
                raise BusyError(f"the warehouse kept rolling the sync back ({exc.diag.message_primary}, "
                                f"{RETRIES + 1} attempts); try again later") from None
            time.sleep(0.2 * (attempt + 1))


def derive_source_name(store: Store) -> str | None:
    fp = store.fingerprint()
    if fp is not None:
        return "sqlite-" + fp[1][:16]
    row = store.one("SELECT id, ts, tenant, problem_code, fix_code, env_fp FROM fix_outcome ORDER BY id LIMIT 1")
    if row is None:
        return None
    digest = hashlib.sha256(json.dumps(["fix_outcome", *[describe(v) for v in row]]).encode()).hexdigest()
    return "sqlite-" + digest[:16]


def check_same_store(store: Store, source: dict, name: str) -> None:
    """Refuse a file that is not the store this source was synced from."""
    if source["fp_id"] is not None:
        now = store.run_digest_of(source["fp_id"])
        if now is not None and now != source["fp"]:
            raise DevdiagError(
                f"source '{name}' was synced from a different store before (its run {source['fp_id']} differs); "
                "give this file its own --source name")
    newest = store.one("SELECT max(id) FROM diag_run")[0]
    if newest is not None and newest < source["watermark"]:
        raise DevdiagError(
            f"source '{name}': the store's newest run id {newest} is below the watermark {source['watermark']}, "
            "so the file was replaced or truncated; sync it under a new --source name")


def progress_bar(total: int | None, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    try:
        sized = os.get_terminal_size(sys.stderr.fileno()).columns > 0
    except OSError:
        sized = False
    # A terminal that reports no size (some CI ptys) would get an empty bar.
    return tqdm(total=total, unit=" runs", unit_scale=True, file=sys.stderr, dynamic_ncols=sized,
                ncols=None if sized else 80, nrows=None if sized else 24, desc="sync", smoothing=0.1)


# How long the final refresh waits for other writers still in flight.
REFRESH_LOCK_WAIT_S = 30.0


def sync(cfg: Settings, out=sys.stdout) -> int:
    started = time.monotonic()
    store = Store(cfg.sqlite_path, cfg.busy_timeout)
    wh = Warehouse(cfg.dsn)
    refresher = None
    fold_errors: list[BaseException] = []
    try:
        wh.check_migrated()
        wh.session_setup()
        keep = cfg.keep_evidence_keys if cfg.keep_evidence_keys is not None else wh.keep_evidence_keys()
        privacy = Privacy(cfg.hash_targets, keep)
        name = cfg.source or derive_source_name(store)
        if name is None:
            print(f"sync {cfg.sqlite_path}: the store is empty, nothing to sync", file=out)
            return EXIT_OK
        path = os.path.abspath(cfg.sqlite_path)
        source = wh.source(name, f"{socket.gethostname()}:{path}", register=not cfg.dry_run)
        if source is None:  # dry run of a source never synced
            source = {"id": 0, "watermark": 0, "high_water": 0, "fp_id": None, "fp": None}
        elif not cfg.dry_run:
            wh.lock(source["id"])
            source = wh.source(name, path, register=False)  # re-read under the lock
        check_same_store(store, source, name)
        if source["fp_id"] is None:
            fp = store.fingerprint()
            if fp is not None:
                source["new_fp_id"], source["new_fp"] = fp
        after = 0 if cfg.from_start else source["watermark"]
        if not cfg.quiet:
            mode = "dry run: " if cfg.dry_run else ""
            print(f"{mode}sync source '{name}' ({cfg.sqlite_path}) into {wh.where()}: runs after id {after}",
                  file=out)
            out.flush()
        total = None
        if cfg.progress:
            total = store.one("SELECT count(*) FROM diag_run WHERE id > ?", (after,))[0]
        bar = progress_bar(total, cfg.progress)
        counts = Counts()
        checker = RunChecker(privacy, wh.row_limits(), wh.newest_allowed_ts())
        # From the second batch on, the batches already landed are folded beside the next one. A
        # partition is attached only while no fold runs, so the days' partitions are made first.
        refresher = None if cfg.dry_run else Refresher(cfg.dsn, REFRESH_LOCK_WAIT_S)
        days_ready: set = set()
        if refresher is not None:
            days_ready = store.run_days_after(after, TS_MIN, checker.ts_max)
            if days_ready:
                retrying(wh, lambda: wh.ensure_days(days_ready))
        producer = Producer(store, checker, after, cfg.batch_rows)
        producer.start()
        landed_before = False  # a batch landed earlier in this sync, not folded yet
        try:
            while True:
                item = producer.out.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                if cfg.dry_run:
                    counts.runs_read += item.n_rows
                    counts.runs_rejected += len(item.rejects)
                    counts.runs_landed += len(item.good_ids)
                else:
                    new_days = item.days - days_ready
                    if new_days:
                        # attaching a partition waits for readers of the run tables: none while it runs
                        if refresher.is_alive():
                            refresher.wait_idle()
                        retrying(wh, lambda: wh.ensure_days(new_days))
                        days_ready |= new_days
                    if landed_before:
                        if not refresher.is_alive() and refresher.error is None:
                            refresher.start()
                        refresher.nudge()
                    landed = counts.runs_landed
                    retrying(wh, lambda: wh.land_runs(item, source, privacy, counts))
                    landed_before = landed_before or counts.runs_landed > landed
                if bar is not None:
                    bar.update(item.n_rows)
            if refresher is not None and refresher.is_alive():
                refresher.nudge()  # the last batch, while the fix outcomes land
        finally:
            producer.stop.set()
            producer.join(timeout=5)
            if bar is not None:
                bar.close()
        retrying(wh, lambda: wh.land_fixes(store, source, privacy, counts, cfg.batch_rows,
                                           apply=not cfg.dry_run))
        if refresher is not None and refresher.is_alive():
            # The pass running ends (early when most of it is ahead); what is left is folded on one
            # connection per set of tenants at once (a pass of every tenant uses one server process).
            refresher.stop()
            sets = split_tenants(checker.tenant_runs, cfg.fold_workers)
            if len(sets) > 1:
                _, fold_errors = fold_side_by_side(cfg.dsn, sets, REFRESH_LOCK_WAIT_S)
        if not cfg.dry_run and retrying(wh, lambda: wh.refresh_rollups(REFRESH_LOCK_WAIT_S)) is None:
            print(f"sync source '{name}': the rollups were not refreshed (other writers held the run tables "
                  f"for {REFRESH_LOCK_WAIT_S:.0f} s); the minute job or CALL devdiag.refresh_rollups() folds them",
                  file=out)
    except wh.psycopg.errors.LockNotAvailable as exc:
        raise BusyError(f"a warehouse table stayed locked: {exc.diag.message_primary}") from None
    except wh.psycopg.errors.InsufficientPrivilege as exc:
        raise DevdiagError(f"the warehouse role lacks a privilege: {exc.diag.message_primary} "
                           "(the sync's login must be a member of devdiag_syncer)") from None
    except wh.psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if wh.conn.broken:
            raise DevdiagError(f"lost the warehouse connection: {first}") from None
        raise DevdiagError(f"the warehouse failed the sync: {first}") from None
    finally:
        if refresher is not None:
            refresher.abandon()
        wh.close()
        store.close()
    failed = ([refresher.error] if refresher is not None and refresher.error is not None else []) + fold_errors
    if failed and not cfg.quiet:
        why = (str(failed[0]).strip().splitlines() or [type(failed[0]).__name__])[0]
        print(f"sync source '{name}': a fold beside the landing failed ({mask_secrets(why, cfg.dsn)}); "
              "the closing refresh folded its runs", file=out)
    elapsed = time.monotonic() - started
    print(summary(cfg, name, counts, source, elapsed), file=out)
    if cfg.dry_run:
        return EXIT_REJECTED if counts.runs_rejected + counts.fixes_rejected else EXIT_OK
    return EXIT_REJECTED if counts.rejects_new else EXIT_OK


def summary(cfg: Settings, name: str, c: Counts, source: dict, elapsed: float) -> str:
    rate = c.runs_read / elapsed if elapsed > 0 else 0.0
    if cfg.dry_run:
        return (f"dry run of source '{name}': would copy {c.runs_landed} runs, reject {c.runs_rejected} runs; "
                f"fix outcomes: {c.fixes_read} read, {c.fixes_changed} would change, "
                f"{c.fixes_rejected} would be rejected; nothing written ({elapsed:.1f} s)")
    known = f" ({c.rejects_known} already known)" if c.rejects_known else ""
    return (f"sync source '{name}': runs {c.runs_read} read, {c.runs_landed} landed, "
            f"{c.runs_present} already present, {c.runs_rejected} rejected; "
            f"fix outcomes {c.fixes_read} read, {c.fixes_changed} changed, {c.fixes_rejected} rejected; "
            f"{c.rejects_new} new rejects{known}; watermark {source['watermark']}; "
            f"{elapsed:.1f} s, {rate:,.0f} runs/s")


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sqlite", help="the DevDiag SQLite store (default: SQLITE_PATH, learn.store)")
    add_dsn_option(ap)
    ap.add_argument("--source", help="name of this store in the warehouse (default: SYNC_SOURCE, "
                                     "learn.sync.source, derived from the store)")
    ap.add_argument("--config", help="devdiag.yaml to read (default: DEVDIAG_CONFIG, ./devdiag.yaml)")
    ap.add_argument("--batch-rows", type=int, default=50_000, help="runs per COPY batch and commit (default 50000)")
    ap.add_argument("--fold-workers", type=int, default=2,
                    help="connections that fold a long sync's last runs at once, one set of tenants each "
                         "(default 2; 1 folds them on one)")
    ap.add_argument("--busy-timeout", type=float, default=30.0,
                    help="seconds to wait for a SQLite file locked by a writer (default 30)")
    ap.add_argument("--quiet", action="store_true", help="print only the summary line (for cron)")
    ap.add_argument("--dry-run", action="store_true", help="report what would be copied; write nothing")
    ap.add_argument("--from-start", action="store_true",
                    help="re-read every run of the store; runs already in the warehouse are skipped")
    bar = ap.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="show a progress bar (default: on a terminal, unless --quiet)")
    bar.add_argument("--no-progress", dest="progress", action="store_false")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    try:
        args = parse_args(argv)
        return sync(resolve_settings(args))
    except BusyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except DevdiagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        print("error: interrupted; the last committed batch is kept, run again to continue", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001 - a bug: show where
        traceback.print_exc()
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
