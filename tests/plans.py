"""What a query's plan reads, from EXPLAIN (FORMAT JSON)."""

from __future__ import annotations


def planned_partitions(db, query: str) -> tuple[set[str], int]:
    """The run partitions a plan keeps, and how many more it planned and pruned only when the query started."""
    plan = db.execute("EXPLAIN (FORMAT JSON)\n" + query).fetchone()[0][0]["Plan"]
    shown, removed = set(), 0

    def walk(node):
        nonlocal removed
        if node.get("Relation Name", "").startswith("diag_run_"):
            shown.add(node["Relation Name"])
        removed += node.get("Subplans Removed", 0)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan)
    return shown, removed
