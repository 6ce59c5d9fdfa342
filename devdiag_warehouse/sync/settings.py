"""Where the sync reads from and writes to, and how: one resolution, from flags, environment and devdiag.yaml."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

from ..config import (
    DevdiagError,
    libpq_dsn,
    load_config,
    warehouse,
)

# --------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------

@dataclass
class Settings:
    sqlite_path: str
    dsn: str
    source: str | None
    hash_targets: bool
    keep_evidence_keys: tuple[str, ...] | None  # None: read settings.keep_evidence_keys
    batch_rows: int
    busy_timeout: float
    dry_run: bool
    quiet: bool
    progress: bool
    from_start: bool
    fold_workers: int = 2


def sqlite_path_from_store(store: str) -> str | None:
    """``sqlite:///rel.db`` -> ``rel.db``; ``sqlite:////abs.db`` -> ``/abs.db``; else None."""
    if not isinstance(store, str) or not store.startswith("sqlite:"):
        return None
    rest = store[len("sqlite:"):]
    if rest.startswith("///"):
        return rest[3:] or None
    if rest.startswith("//"):
        return rest[2:] or None
    return rest or None


def resolve_settings(args: argparse.Namespace) -> Settings:
    config = load_config(args.config)
    learn = config.get("learn") or {}
    if not isinstance(learn, dict):
        raise DevdiagError("devdiag.yaml: learn must be a mapping")
    sync_cfg = learn.get("sync") or {}
    privacy = learn.get("privacy") or {}
    store = learn.get("store")

    sqlite_path = args.sqlite or os.environ.get("SQLITE_PATH") or sqlite_path_from_store(store)
    if not sqlite_path:
        raise DevdiagError("no SQLite store given: set SQLITE_PATH, pass --sqlite, "
                           "or set learn.store: sqlite:///path in devdiag.yaml")

    # The one resolution order, with PG_DSN as the sync's alias after DEVDIAG_DSN;
    # the local cluster only when one exists (the sync never creates a warehouse).
    dsn = warehouse(args.dsn, aliases=("PG_DSN",), config=args.config, announce=not args.quiet).dsn

    keep = privacy.get("keep_evidence_keys")
    if keep is not None:
        if not isinstance(keep, list) or not all(isinstance(k, str) for k in keep):
            raise DevdiagError("devdiag.yaml: learn.privacy.keep_evidence_keys must be a list of strings")
        keep = tuple(keep)
    hash_targets = privacy.get("hash_targets", True)
    if not isinstance(hash_targets, bool):
        raise DevdiagError("devdiag.yaml: learn.privacy.hash_targets must be true or false")

    if args.batch_rows < 1:
        raise DevdiagError("--batch-rows must be at least 1")
    if args.fold_workers < 1:
        raise DevdiagError("--fold-workers must be at least 1")
    progress = args.progress if args.progress is not None else (sys.stderr.isatty() and not args.quiet)
    return Settings(
        sqlite_path=sqlite_path,
        dsn=libpq_dsn(dsn),
        source=args.source or os.environ.get("SYNC_SOURCE") or sync_cfg.get("source") or None,
        hash_targets=hash_targets,
        keep_evidence_keys=keep,
        batch_rows=args.batch_rows,
        busy_timeout=args.busy_timeout,
        dry_run=args.dry_run,
        quiet=args.quiet,
        progress=progress,
        from_start=args.from_start,
        fold_workers=args.fold_workers,
    )
