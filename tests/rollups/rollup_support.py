"""What the rollup tests share: the contract views and their raw-data references, and how to compare them."""

from __future__ import annotations

from devdiag_warehouse.bench import REFERENCE

# Contract view -> its raw-data reference (same columns): the map make bench uses.
PAIRS = REFERENCE


def mismatches(conn, refresh: bool = True, tenant: str | None = None) -> dict[str, tuple[list, list]]:
    """Rows only in the rollup-backed view and rows only in its reference, per view that differs
    (of one tenant's rows when given).

    The views are exact as of the last refresh: by default the rollups are refreshed first."""
    if refresh:
        conn.execute("CALL devdiag.refresh_rollups()")
    out = {}
    where = "WHERE tenant = %(tenant)s" if tenant is not None else ""
    for view, ref in PAIRS.items():
        only_view = conn.execute(
            f"SELECT * FROM devdiag.{view} {where} EXCEPT ALL SELECT * FROM devdiag_ref.{ref} {where}",  # noqa: S608
            {"tenant": tenant}).fetchall()
        only_ref = conn.execute(
            f"SELECT * FROM devdiag_ref.{ref} {where} EXCEPT ALL SELECT * FROM devdiag.{view} {where}",  # noqa: S608
            {"tenant": tenant}).fetchall()
        if only_view or only_ref:
            out[view] = (only_view[:5], only_ref[:5])
    return out
