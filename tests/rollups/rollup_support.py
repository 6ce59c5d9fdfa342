"""What the rollup tests share: the contract views and their raw-data references, and how to compare them."""

from __future__ import annotations

# Contract view -> its raw-data reference (same columns).
PAIRS = {
    "v_problem_counts": "v_ref_problem_counts",
    "v_fix_success": "v_ref_fix_success",
    "v_fix_ranking": "v_ref_fix_ranking",
    "v_env_diversity": "v_ref_env_diversity",
    "v_ttr_episodes": "v_ref_ttr_episodes",
    "v_ttr_days": "v_ref_ttr_days",
    "v_open_problems": "v_ref_open_problems",
    "v_tenant_health": "v_ref_tenant_health",
    "v_ttr_histogram": "v_ref_ttr_histogram",
    "v_episode_days": "v_ref_episode_days",
    "v_tenant_daily": "v_ref_tenant_daily",
    "v_problem_episodes": "v_ref_problem_episodes",
}


def mismatches(conn) -> dict[str, tuple[list, list]]:
    """Rows only in the rollup-backed view and rows only in its reference, per view that differs."""
    out = {}
    for view, ref in PAIRS.items():
        only_view = conn.execute(
            f"SELECT * FROM devdiag.{view} EXCEPT ALL SELECT * FROM devdiag.{ref}").fetchall()  # noqa: S608
        only_ref = conn.execute(
            f"SELECT * FROM devdiag.{ref} EXCEPT ALL SELECT * FROM devdiag.{view}").fetchall()  # noqa: S608
        if only_view or only_ref:
            out[view] = (only_view[:5], only_ref[:5])
    return out
