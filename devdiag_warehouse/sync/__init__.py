"""Sync a DevDiag SQLite learning store into the warehouse.

    SQLITE_PATH=devdiag.db DEVDIAG_DSN=postgresql://... devdiag-sync [--quiet] [--dry-run]

Incremental: each source (one SQLite store) has a watermark in
``devdiag.sync_source``: the highest SQLite ``diag_run.id`` already processed.
Runs above it are read from one consistent snapshot of the store (a read
transaction on a read-only connection, so DevDiag keeps writing meanwhile),
checked and privacy-filtered in Python, COPYed into a temporary staging table
in batches of ``--batch-rows`` and moved into ``devdiag.diag_run`` by one
set-based INSERT per batch.  Each batch commits together with the watermark
that covers it, so a sync killed at any point resumes where the last commit
left off; the unique constraint on (source_id, source_run_id, tenant) makes a
run sent twice land once anyway.  Fix outcomes are compared with what the
source reported last time (``devdiag.fix_outcome_source``): only the growth
of the running support total is added to ``devdiag.fix_outcome``, in one
transaction.  Rows that cannot land go to ``devdiag.sync_reject`` with the
reason; the rest lands.

Configuration (first match wins):
  SQLite store   --sqlite, SQLITE_PATH, devdiag.yaml learn.store (sqlite:///path)
  warehouse      --dsn, DEVDIAG_DSN, PG_DSN (the sync's alias), devdiag.yaml
                 warehouse.dsn, else the project-local PostgreSQL if one exists
  source name    --source, SYNC_SOURCE, devdiag.yaml learn.sync.source, else
                 derived from the store's first run ("sqlite-<16 hex>")
  privacy        devdiag.yaml learn.privacy.hash_targets (default true) and
                 learn.privacy.keep_evidence_keys (default: the warehouse's
                 settings.keep_evidence_keys)
  config file    --config, DEVDIAG_CONFIG, ./devdiag.yaml of the project

Exit status:
  0  synced; no row was rejected
  1  synced; rows were rejected (listed in devdiag.sync_reject)
  2  nothing synced: configuration or connection problem (missing SQLite file,
     wrong DSN, unmigrated warehouse, store replaced under the same name, ...)
  3  nothing synced: busy (another sync of the same source is running, or the
     SQLite file or a warehouse table stayed locked); try again later
  70 internal error (a bug: the traceback is printed)
"""

from .cli import main, parse_args, sync
from .land import RUN_TABLES, caused_by_rows

__all__ = ["RUN_TABLES", "caused_by_rows", "main", "parse_args", "sync"]
