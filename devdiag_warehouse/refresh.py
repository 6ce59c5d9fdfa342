"""Folding the rollups on several connections at once, one set of tenants each.

A refresh is one server process: ``CALL devdiag.refresh_rollups()`` folds every
tenant in turn. A long one (a backfill, the last runs of a long sync) splits
across connections by tenant: each folds a set of tenants
(``refresh_rollups(p_tenants => ...)``), the sets disjoint, so they lock
disjoint keys and neither wait for nor deadlock with each other; the
all-tenant refresh after them folds what is left (other tenants' runs, purged
days) and moves the watermark.
"""

from __future__ import annotations

import threading

REFRESH_SET = ("CALL devdiag.refresh_rollups(p_tenants => %(tenants)s, "
               "p_lock_wait => make_interval(secs => %(lock_wait_s)s))")
PENDING_RUNS = "SELECT tenant, runs FROM devdiag.rollup_pending_estimate()"


def split_tenants(runs: dict[str, int], sets: int) -> list[list[str]]:
    """Tenants in at most ``sets`` sets of about equal runs: the largest first, each into the lightest set."""
    loads: list[list] = [[0, []] for _ in range(max(1, sets))]
    for tenant, n in sorted(runs.items(), key=lambda kv: (-kv[1], kv[0])):
        lightest = min(loads, key=lambda load: load[0])
        lightest[0] += n
        lightest[1].append(tenant)
    return [sorted(tenants) for _, tenants in loads if tenants]


def fold_side_by_side(dsn: str, tenant_sets: list[list[str]], lock_wait_s: float) -> tuple[int, list[BaseException]]:
    """Fold each set of tenants on a connection of its own, all at once; the sets must be disjoint.

    Returns the runs the folds that ended folded, and what failed. A fold that
    failed left nothing behind (it is one transaction); the all-tenant refresh
    after it folds those runs.
    """
    import psycopg

    errors: list[BaseException] = []
    folded: list[int] = []

    def fold(tenants: list[str]) -> None:
        try:
            with psycopg.connect(dsn, application_name="devdiag-refresh-set", autocommit=True) as conn:
                conn.execute("SET lock_timeout = '60s'")
                n = conn.execute(REFRESH_SET, {"tenants": tenants, "lock_wait_s": lock_wait_s}).fetchone()[0]
                folded.append(n or 0)  # (None: writers held the run tables; the all-tenant refresh folds them)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, whose all-tenant refresh redoes it
            errors.append(exc)

    threads = [threading.Thread(target=fold, args=(tenants,), name="rollup-fold", daemon=True)
               for tenants in tenant_sets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(folded), errors


def refresh_side_by_side(conn, dsn: str, workers: int, lock_wait_s: float) -> tuple[int | None, list[BaseException]]:
    """The runs to fold estimated per tenant (a sample of pages, not a read of the range), folded in
    ``workers`` sets at once, then the all-tenant refresh on ``conn``: (runs folded in all, or None when
    writers held the run tables; the set folds that failed)."""
    # the sync's closing refresh (imported here: the sync package imports this module)
    from .sync.land import REFRESH_ROLLUPS

    sets = split_tenants(dict(conn.execute(PENDING_RUNS).fetchall()), workers)
    errors: list[BaseException] = []
    folded = 0
    if len(sets) > 1:
        folded, errors = fold_side_by_side(dsn, sets, lock_wait_s)
    rest = conn.execute(REFRESH_ROLLUPS, {"lock_wait_s": lock_wait_s}).fetchone()[0]
    return (None if rest is None else folded + rest), errors
