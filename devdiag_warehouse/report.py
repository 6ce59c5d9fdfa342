"""make report: the four dashboards of docs/TABLEAU.md, without Tableau.

Reads the same views Tableau reads (docs/TABLEAU.md) and writes one
self-contained HTML page -- charts are matplotlib PNGs inlined as base64, no
external files or links -- with the headline numbers:

1. Problem overview       v_problem_counts, v_tenant_daily
2. Fix effectiveness      v_fix_success (learned state: cumulative, not windowed)
3. Time to remediation    v_ttr_days (episodes resolved in the window)
4. Tenant health          devdiag.tenant_health_window() (as sql/queries/340),
                          v_tenant_daily, v_problem_episodes

The window is a range of UTC days, both ends included: ``--days N`` (the last
N days up to today, default 30) or ``--from``/``--to``.  ``--tenant`` narrows
to one tenant; without it every tenant the login may read is shown (row-level
security decides which, not this script).  A window that ends today marks
today as partial; a --tenant the login reads nothing of gets a page saying
so, and exit status 1.

    report.py --tenant acme --days 30 --out acme.html
    report.py --from 2025-03-01 --to 2025-03-31 --dsn postgresql://...
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from .config import (
    ROOT,
    DevdiagError,
    add_dsn_option,
    connect,
    main_guard,
    redact,
    resolve_dsn,
)

DEFAULT_OUT = ROOT / ".devdiag" / "report.html"
TOP_PROBLEMS = 6
TOP_FIXES = 15
TTR_TABLE_DAYS = 14  # the TTR table lists 0 .. 13 days one by one, the long tail as one row

# Every query takes %(tenant)s (NULL: every tenant the login may read) and the
# window %(d_from)s .. %(d_to)s (UTC dates, both included).
TENANT = "(%(tenant)s::text IS NULL OR {alias}.tenant = %(tenant)s)"
WINDOW_END = "((%(d_to)s::date + 1)::timestamp AT TIME ZONE 'UTC')"

SQL_DAILY = f"""
SELECT td.day, sum(td.runs)::bigint, sum(td.problem_runs)::bigint
FROM devdiag.v_tenant_daily AS td
WHERE td.day BETWEEN %(d_from)s AND %(d_to)s AND {TENANT.format(alias="td")}
GROUP BY td.day ORDER BY td.day
"""

SQL_PROBLEMS = f"""
SELECT pc.day, pc.problem_code, sum(pc.runs)::bigint
FROM devdiag.v_problem_counts AS pc
WHERE pc.day BETWEEN %(d_from)s AND %(d_to)s AND {TENANT.format(alias="pc")}
GROUP BY pc.day, pc.problem_code ORDER BY pc.day, pc.problem_code
"""

# Across tenants, the mean confidence is the mean over every (tenant, environment)
# pair, as v_fix_success computes it within one tenant.
SQL_FIXES = f"""
SELECT fs.problem_code, fs.fix_code, sum(fs.successes)::bigint,
       (sum(fs.avg_confidence * fs.environments) / sum(fs.environments))::double precision,
       max(fs.last_success)
FROM devdiag.v_fix_success AS fs
WHERE {TENANT.format(alias="fs")}
GROUP BY fs.problem_code, fs.fix_code
ORDER BY 3 DESC, 4 DESC, 1, 2
"""

SQL_TTR = f"""
SELECT t.ttr_days, t.ttr_hours::double precision, t.problem_code
FROM devdiag.v_ttr_days AS t
WHERE t.first_zero_day BETWEEN %(d_from)s AND %(d_to)s AND {TENANT.format(alias="t")}
"""

SQL_EPISODES = f"""
SELECT e.tenant, e.problem_code,
       e.started_at < {WINDOW_END} AND (e.resolved_at IS NULL OR e.resolved_at >= {WINDOW_END}) AS open_at_end,
       e.first_seen_day BETWEEN %(d_from)s AND %(d_to)s AND e.episode_no > 1 AS recurrence_in_window
FROM devdiag.v_problem_episodes AS e
WHERE {TENANT.format(alias="e")}
  AND (e.started_at < {WINDOW_END} AND (e.resolved_at IS NULL OR e.resolved_at >= {WINDOW_END})
       OR e.first_seen_day BETWEEN %(d_from)s AND %(d_to)s)
"""

# devdiag.tenant_health_window defines the dashboard; sql/queries/340 reads it too.
SQL_HEALTH = f"""
SELECT w.tenant, w.runs, w.problem_runs, w.problems_reported, w.episodes_resolved, w.avg_ttr_days,
       w.open_problems_at_end, w.fix_success_rate_all_time, w.successes_all_time, w.problem_runs_all_time
FROM devdiag.tenant_health_window(%(d_from)s, %(d_to)s) AS w
WHERE {TENANT.format(alias="w")}
ORDER BY w.runs DESC, w.tenant
"""


@dataclass
class Data:
    tenant: str | None
    d_from: date
    d_to: date
    daily: list[tuple] = field(default_factory=list)      # (day, runs, problem_runs)
    problems: list[tuple] = field(default_factory=list)   # (day, problem_code, runs)
    fixes: list[tuple] = field(default_factory=list)      # (problem, fix, successes, avg_conf, last)
    ttr: list[tuple] = field(default_factory=list)        # (ttr_days, ttr_hours, problem)
    episodes: list[tuple] = field(default_factory=list)   # (tenant, problem, open_at_end, recurrence)
    health: list[tuple] = field(default_factory=list)     # see SQL_HEALTH
    readable: list[str] = field(default_factory=list)     # v_my_tenants, read when --tenant shows nothing
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def partial_day(self) -> date | None:
        """Today (UTC) when the window includes it: its runs are still coming in."""
        today = self.now.astimezone(timezone.utc).date()
        return today if self.d_from <= today <= self.d_to else None

    @property
    def unknown_tenant(self) -> bool:
        """--tenant names a tenant of which this login reads no run and no fix, ever (a typo, or not granted)."""
        return self.tenant is not None and not self.health


def fetch(conn, tenant: str | None, d_from: date, d_to: date) -> Data:
    """Read everything the page shows, in one snapshot."""
    params = {"tenant": tenant, "d_from": d_from, "d_to": d_to}
    data = Data(tenant, d_from, d_to)
    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    data.daily = conn.execute(SQL_DAILY, params).fetchall()
    data.problems = conn.execute(SQL_PROBLEMS, params).fetchall()
    data.fixes = conn.execute(SQL_FIXES, params).fetchall()
    data.ttr = conn.execute(SQL_TTR, params).fetchall()
    data.episodes = conn.execute(SQL_EPISODES, params).fetchall()
    data.health = conn.execute(SQL_HEALTH, params).fetchall()
    data.now = conn.execute("SELECT now()").fetchone()[0]
    if data.unknown_tenant:
        data.readable = [r[0] for r in conn.execute("SELECT tenant FROM devdiag.v_my_tenants ORDER BY tenant")]
    conn.rollback()
    return data


def median(values: list[float]) -> float | None:
    """The median as percentile_cont(0.5) computes it (mean of the middle two)."""
    if not values:
        return None
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def headline(data: Data) -> list[tuple[str, str, float | None, str]]:
    """The headline numbers: (key, label, value, note)."""
    runs = sum(r[1] for r in data.daily)
    problem_runs = sum(r[2] for r in data.daily)
    successes = sum(h[8] for h in data.health)
    all_problem_runs = sum(h[9] for h in data.health)
    ttr_days = [t[0] for t in data.ttr]
    return [
        ("runs", "Runs", runs, "in the window"),
        ("problem_runs", "Runs with problems", problem_runs, "reported at least one problem"),
        ("pct_problem_runs", "Share with problems (%)",
         round(100 * problem_runs / runs, 1) if runs else None, "of the runs in the window"),
        ("problems_reported", "Problems reported", len({p[1] for p in data.problems}), "distinct codes"),
        ("episodes_resolved", "Episodes resolved", len(data.ttr), "remediated in the window"),
        ("avg_ttr_days", "Avg TTR (days)",
         round(sum(ttr_days) / len(ttr_days), 2) if ttr_days else None, "whole UTC days, resolved in the window"),
        ("median_ttr_days", "Median TTR (days)",
         None if not ttr_days else round(median([float(d) for d in ttr_days]), 1),
         "whole UTC days, as the TTR chart's dashed line"),
        ("open_problems", "Active problems",
         len({(e[1]) for e in data.episodes if e[2]}), "distinct codes open at the window's end"),
        ("recurrences", "Recurrences", sum(1 for e in data.episodes if e[3]),
         "episodes that came back on a target, started in the window"),
        ("fix_success_rate", "Fix success rate (%)",
         round(100 * successes / all_problem_runs, 1) if all_problem_runs else None,
         "successes / runs with problems, all time (v_tenant_health); above 100 when runs had several fixes"),
    ]


# --------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------

def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
                         "axes.titleweight": "bold", "figure.dpi": 100})
    return plt


def png(fig) -> str:
    """A figure as a base64 PNG (and close it)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
    _plt().close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _empty(ax, what: str) -> None:
    ax.text(0.5, 0.5, f"no {what} in this window", ha="center", va="center", transform=ax.transAxes,
            color="#777", fontsize=11)
    ax.set_xticks([])
    ax.set_yticks([])


def _days(d_from: date, d_to: date) -> list[date]:
    return [d_from + timedelta(days=i) for i in range((d_to - d_from).days + 1)]


def _date_axis(ax) -> None:
    """A few readable date ticks whatever the window's length (one per day crowds a month)."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def partial_day_label(data: Data) -> str:
    return f"today, partial (to {data.now.astimezone(timezone.utc):%H:%M} UTC)"


def _mark_partial_day(ax, data: Data) -> None:
    """Shade today's UTC day, whose runs are still coming in, and name it in the legend."""
    from matplotlib.dates import date2num

    if data.partial_day is None:
        return
    mid = date2num(data.partial_day)
    ax.axvspan(mid - 0.5, mid + 0.5, color="#bbbbbb", alpha=0.35, linewidth=0, label=partial_day_label(data))


def chart_problem_overview(data: Data) -> str:
    return png(figure_problem_overview(data))


def figure_problem_overview(data: Data):
    plt = _plt()
    from matplotlib.ticker import MaxNLocator
    fig, ax = plt.subplots(figsize=(10, 3.8))
    totals: dict[str, int] = {}
    for _day, code, n in data.problems:
        totals[code] = totals.get(code, 0) + n
    if not totals:
        _empty(ax, "problem reports")
    else:
        top = sorted(totals, key=lambda c: (-totals[c], c))[:TOP_PROBLEMS]
        days = _days(data.d_from, data.d_to)
        series = {c: dict.fromkeys(days, 0) for c in top}
        other = dict.fromkeys(days, 0)
        for day, code, n in data.problems:
            (series[code] if code in series else other)[day] += n
        for code in top:
            ax.plot(days, list(series[code].values()), marker="o", markersize=2.5, linewidth=1.6, label=code)
        if any(other.values()):
            ax.plot(days, list(other.values()), color="#999", linestyle="--", linewidth=1.2, label="other")
        ax.set_ylabel("runs reporting the problem")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        _mark_partial_day(ax, data)
        _date_axis(ax)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        ax.set_ylim(bottom=0)
    ax.set_title("Problem overview: runs per UTC day and problem")
    return fig


def confidence_tier(conf: float) -> str:
    """Tableau's Confidence Tier calculated field."""
    return "High" if conf >= 0.8 else "Medium" if conf >= 0.6 else "Low"


def chart_fix_effectiveness(data: Data) -> str:
    return png(figure_fix_effectiveness(data))


def problem_colours(problems: list[str]) -> dict[str, str]:
    """One distinct colour per problem, in order of first appearance (tab10, then tab20's lighter shades)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    palette = [to_hex(c) for c in colormaps["tab10"].colors] + [to_hex(c) for c in colormaps["tab20"].colors[1::2]]
    order = list(dict.fromkeys(problems))
    return {p: palette[i % len(palette)] for i, p in enumerate(order)}


def figure_fix_effectiveness(data: Data):
    plt = _plt()
    from matplotlib.patches import Patch

    rows = data.fixes[:TOP_FIXES]
    fig, ax = plt.subplots(figsize=(10, max(2.6, 0.32 * len(rows) + 1.2)))
    if not rows:
        _empty(ax, "learned fixes")
    else:
        # The fixes of one problem share a colour, so neighbouring bars of
        # different problems are told apart; confidence and tier are written on each bar.
        colours = problem_colours([r[0] for r in rows])
        labels = [f"{p} · {f}" for p, f, *_ in rows][::-1]
        values = [r[2] for r in rows][::-1]
        ax.barh(labels, values, color=[colours[r[0]] for r in rows][::-1])
        for y, r in enumerate(rows[::-1]):
            ax.text(r[2], y, f" {r[2]}  ({r[3]:.3f}, {confidence_tier(r[3])})", va="center", fontsize=8)
        ax.set_xlabel("successes (sum of support)")
        ax.set_xlim(0, max(values) * 1.3)
        ax.legend(handles=[Patch(color=c, label=p) for p, c in colours.items()], title="problem",
                  loc="lower right", frameon=False, fontsize=8)
    ax.set_title("Fix effectiveness: successes per fix, one colour per problem (cumulative)")
    return fig


def chart_ttr(data: Data) -> str:
    return png(figure_ttr(data))


def figure_ttr(data: Data):
    plt = _plt()
    from matplotlib.ticker import MaxNLocator
    fig, ax = plt.subplots(figsize=(10, 3.4))
    if not data.ttr:
        _empty(ax, "resolved episodes")
    else:
        days = [t[0] for t in data.ttr]
        top = max(days)
        counts = [days.count(d) for d in range(top + 1)]
        ax.bar(range(top + 1), counts, color="#4c78a8", width=0.8)
        ax.set_xlabel("time to remediation (whole UTC days)")
        ax.set_ylabel("episodes")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xticks(range(0, top + 1, max(1, (top + 1) // 15)))
        med = median([float(d) for d in days])
        unit = "day" if med == 1 else "days"
        ax.axvline(med, color="#e45756", linestyle="--", linewidth=1.2, label=f"median: {med:g} {unit}")
        ax.legend(frameon=False)
    ax.set_title("Time to remediation: episodes resolved in the window")
    return fig


def chart_tenant_health(data: Data) -> str:
    return png(figure_tenant_health(data))


def figure_tenant_health(data: Data):
    plt = _plt()
    several = len(data.health) > 1
    fig, axes = plt.subplots(1, 2 if several else 1, figsize=(10, 3.6),
                             gridspec_kw={"width_ratios": [2, 1]} if several else None, squeeze=False)
    ax = axes[0][0]
    if not data.daily:
        _empty(ax, "runs")
    else:
        days = [d[0] for d in data.daily]
        clean = [d[1] - d[2] for d in data.daily]
        bad = [d[2] for d in data.daily]
        ax.bar(days, clean, color="#9ecae9", label="runs without problems")
        ax.bar(days, bad, bottom=clean, color="#e45756", label="runs with problems")
        ax.set_ylabel("runs per UTC day")
        _mark_partial_day(ax, data)
        _date_axis(ax)
        ax.legend(frameon=False, loc="upper left")
    ax.set_title("Tenant health: daily runs")
    if several:
        ax2 = axes[0][1]
        names = [h[0] for h in data.health][::-1]
        ax2.barh(names, [h[1] for h in data.health][::-1], color="#9ecae9", label="runs")
        ax2.barh(names, [h[2] for h in data.health][::-1], color="#e45756", label="with problems")
        ax2.set_title("Runs per tenant")
        ax2.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1100px;color:#222}
h1{margin-bottom:4px} .sub{color:#666;margin-top:0}
.kpis{display:flex;flex-wrap:wrap;gap:10px;margin:16px 0 8px}
.kpi{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:150px;background:#fafafa}
.kpi .v{font-size:22px;font-weight:600} .kpi .l{font-size:12px;color:#444} .kpi .n{font-size:11px;color:#888}
section{margin-top:28px;border-top:1px solid #eee;padding-top:8px}
img{max-width:100%;height:auto}
table{border-collapse:collapse;font-size:12px;margin-top:8px}
th,td{border-bottom:1px solid #eee;padding:3px 8px;text-align:right} th:first-child,td:first-child{text-align:left}
.note{font-size:12px;color:#666}
.warning{border:1px solid #d73027;background:#fdecea;padding:8px 12px;border-radius:6px}
.partial{font-size:12px;color:#444;background:#f2f2f2;padding:4px 8px;border-radius:4px}
"""


def fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(headers: list[str], rows: list[list], name: str) -> str:
    out = [f'<table data-table="{name}"><tr>' + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr>"]
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{html.escape(fmt(v))}</td>" for v in r) + "</tr>")
    return "\n".join(out) + "</table>"


def render(data: Data, generated_at: datetime | None = None) -> str:
    generated_at = generated_at or data.now
    who = f"tenant <b>{html.escape(data.tenant)}</b>" if data.tenant else "every tenant this login may read"
    kpis = "\n".join(
        f'<div class="kpi" data-kpi="{key}" data-value="{"" if value is None else value}">'
        f'<div class="v">{html.escape(fmt(value))}</div><div class="l">{html.escape(label)}</div>'
        f'<div class="n">{html.escape(note)}</div></div>'
        for key, label, value, note in headline(data))

    totals: dict[str, int] = {}
    days_seen: dict[str, set] = {}
    for day, code, n in data.problems:
        totals[code] = totals.get(code, 0) + n
        days_seen.setdefault(code, set()).add(day)
    problem_rows = [[c, totals[c], len(days_seen[c])] for c in sorted(totals, key=lambda c: (-totals[c], c))]
    fix_rows = [[p, f, s, round(c, 3), confidence_tier(c)] for p, f, s, c, _last in data.fixes[:TOP_FIXES]]
    ttr_days = [t[0] for t in data.ttr]
    ttr_rows: list[list] = [[str(d), ttr_days.count(d)] for d in sorted(set(ttr_days)) if d < TTR_TABLE_DAYS]
    if any(d >= TTR_TABLE_DAYS for d in ttr_days):
        ttr_rows.append([f"{TTR_TABLE_DAYS} or more", sum(1 for d in ttr_days if d >= TTR_TABLE_DAYS)])
    health_rows = [[h[0], h[1], h[2], h[3], h[4], None if h[5] is None else round(h[5], 2), h[6],
                    None if h[7] is None else round(100 * h[7], 1)] for h in data.health]
    notices = []
    if data.unknown_tenant:
        readable = ", ".join(html.escape(t) for t in data.readable[:20]) or "none"
        more = f" and {len(data.readable) - 20} more" if len(data.readable) > 20 else ""
        notices.append(
            f'<p class="warning" data-warning="unknown-tenant">No data for tenant <b>{html.escape(data.tenant)}</b>: '
            f"this login reads no run and no fix of it, in any window. Check the name; the tenants this login "
            f"reads: {readable}{more}.</p>")
    if data.partial_day is not None:
        notices.append(
            f'<p class="partial" data-partial-day="{data.partial_day}">Today ({data.partial_day}, UTC) is still '
            f"in progress: its runs are counted up to {data.now.astimezone(timezone.utc):%H:%M} UTC, so it is "
            "shaded and labelled as partial on the daily charts; the headline numbers include it.</p>")

    def section(key: str, title: str, chart: str, note: str, tbl: str) -> str:
        return (f'<section id="{key}"><h2>{html.escape(title)}</h2>'
                f'<p class="note">{note}</p>'
                f'<img data-chart="{key}" alt="{html.escape(title)}" src="data:image/png;base64,{chart}">'
                f"{tbl}</section>")

    body = [
        section("problem_overview", "1. Problem overview", chart_problem_overview(data),
                "Runs per UTC day that reported each problem (a run listing a code twice counts once); "
                f"top {TOP_PROBLEMS} problems, the rest as <i>other</i>. Source: <code>v_problem_counts</code>.",
                table(["problem", "runs", "days reported"], problem_rows, "problem_overview")),
        section("fix_effectiveness", "2. Fix effectiveness", chart_fix_effectiveness(data),
                "Learned fixes by successes (sum of support), one colour per problem; each bar gives the mean "
                "confidence and its tier (High &ge; 0.8, Medium &ge; 0.6, Low below). Cumulative learned state: the window does not apply. "
                "Source: <code>v_fix_success</code>.",
                table(["problem", "fix", "successes", "avg confidence", "tier"], fix_rows, "fix_effectiveness")),
        section("ttr", "3. Time to remediation", chart_ttr(data),
                "Episodes resolved in the window by whole UTC days from the run that first reported the problem "
                "to the first later run of the same preset (or full) without it. Source: <code>v_ttr_days</code>.",
                table(["TTR days", "episodes"], ttr_rows, "ttr")),
        section("tenant_health", "4. Tenant health", chart_tenant_health(data),
                "Per tenant over the window; active problems are those open at the window's end; the fix "
                "success rate is all-time, as <code>v_tenant_health</code> defines it.",
                table(["tenant", "runs", "with problems", "problems reported", "episodes resolved",
                       "avg TTR days", "active problems", "fix success rate (%)"], health_rows, "tenant_health")),
    ]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>DevDiag dashboards {data.d_from} to {data.d_to}</title>
<style>{CSS}</style></head>
<body>
<h1>DevDiag dashboards</h1>
<p class="sub">{who} &middot; UTC days {data.d_from} to {data.d_to} (both included) &middot;
generated {generated_at:%Y-%m-%d %H:%M} UTC</p>
{"".join(notices)}
<div class="kpis">
{kpis}
</div>
{"".join(body)}
</body></html>
"""


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def window(days: int, d_from: date | None, d_to: date | None, today: date | None = None) -> tuple[date, date]:
    """Resolve --days/--from/--to into an inclusive range of UTC days."""
    today = today or datetime.now(timezone.utc).date()
    if days < 1:
        raise DevdiagError("--days must be at least 1")
    d_to = d_to or (today if d_from is None else max(today, d_from))
    d_from = d_from or d_to - timedelta(days=days - 1)
    if d_from > d_to:
        raise DevdiagError(f"--from {d_from} is after --to {d_to}")
    return d_from, d_to


@main_guard
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tenant", help="one tenant (default: every tenant the login may read)")
    ap.add_argument("--days", type=int, default=30, help="the last N UTC days up to today (default 30)")
    ap.add_argument("--from", dest="d_from", type=parse_day, help="first UTC day (YYYY-MM-DD)")
    ap.add_argument("--to", dest="d_to", type=parse_day, help="last UTC day, included (default: today)")
    add_dsn_option(ap)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"HTML file to write (default {DEFAULT_OUT})")
    args = ap.parse_args(argv)
    d_from, d_to = window(args.days, args.d_from, args.d_to)
    dsn = resolve_dsn(args.dsn)
    import psycopg

    with connect(dsn) as conn:
        try:
            data = fetch(conn, args.tenant or None, d_from, d_to)
        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn,
                psycopg.errors.UndefinedFunction) as exc:
            raise DevdiagError(f"the warehouse at {redact(dsn)} lacks what the report reads "
                               f"({str(exc).splitlines()[0]}): run `make migrate` against it") from None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(data), encoding="utf-8")
    print(f"wrote {args.out} ({data.tenant or 'all tenants'}, {d_from} to {d_to})")
    if data.unknown_tenant:
        # the page says so too; a script or make target must not take it for a report
        print(f"error: no data for tenant {args.tenant!r}: this login ({redact(dsn)}) reads no run and no fix "
              f"of it; it reads: {', '.join(data.readable) or 'no tenant'}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
