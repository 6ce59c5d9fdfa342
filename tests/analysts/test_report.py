"""make report renders the four dashboards, with the right numbers, as one self-contained HTML page."""

from __future__ import annotations

import base64
import io
import json
import random
from datetime import date, datetime, timedelta, timezone
from html.parser import HTMLParser

import psycopg
import pytest
from PIL import Image

from devdiag_warehouse import report, sample_data

CHARTS = ["problem_overview", "fix_effectiveness", "ttr", "tenant_health"]


class Page(HTMLParser):
    """What a reader of the page sees: headline numbers, charts, tables, and every outside reference."""

    def __init__(self, text: str):
        super().__init__()
        self.kpis: dict[str, str] = {}
        self.charts: dict[str, bytes] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self.external: list[str] = []
        self.tags: set[str] = set()
        self._table = None
        self._cell = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        for key in ("src", "href"):
            if key in a and not a[key].startswith("data:"):
                self.external.append(a[key])
        if "data-kpi" in a:
            self.kpis[a["data-kpi"]] = a["data-value"]
        if tag == "img":
            prefix = "data:image/png;base64,"
            assert a["src"].startswith(prefix)
            self.charts[a["data-chart"]] = base64.b64decode(a["src"][len(prefix):], validate=True)
        if tag == "table":
            self._table = self.tables.setdefault(a["data-table"], [])
        if tag == "tr" and self._table is not None:
            self._table.append([])
        if tag == "td":
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag == "td":
            self._table[-1].append(self._cell)
            self._cell = None
        if tag == "table":
            self._table = None


def render(tmp_path, dsn: str, *args: str) -> Page:
    out = tmp_path / "report.html"
    assert report.main(["--dsn", dsn, "--out", str(out), *args]) == 0
    return Page(out.read_text(encoding="utf-8"))


def rows(page: Page, name: str) -> list[list[str]]:
    return [r for r in page.tables[name] if r]  # the header row has no <td>


WINDOW = ("--from", "2025-03-01", "--to", "2025-03-06")


def test_report_for_one_tenant_shows_the_dashboards_headline_numbers(pg, scenario_db, tmp_path):
    """For acme over 03-01..03-06 the headline numbers are the hand-worked ones of the scenario."""
    page = render(tmp_path, pg.dsn(scenario_db), "--tenant", "acme", *WINDOW)
    assert page.kpis == {
        "runs": "7", "problem_runs": "4", "pct_problem_runs": "57.1", "problems_reported": "3",
        "episodes_resolved": "3", "avg_ttr_days": "1.33", "median_ttr_days": "1.0", "open_problems": "1",
        "recurrences": "1", "fix_success_rate": "175.0",
    }
    assert rows(page, "fix_effectiveness") == [
        ["CSP_FRAME_ANCESTORS", "csp.add_frame_ancestors", "4", "0.85", "High"],
        ["XFO_DENY", "xfo.sameorigin_to_csp", "2", "0.4", "Low"],
        ["XFO_DENY", "xfo.remove_header", "1", "0.6", "Medium"],
    ]
    assert rows(page, "problem_overview") == [
        ["CSP_FRAME_ANCESTORS", "3", "3"], ["OVERLAY_BLOCKING", "1", "1"], ["XFO_DENY", "1", "1"]]
    assert rows(page, "ttr") == [["0", "1"], ["1", "1"], ["3", "1"]]
    assert rows(page, "tenant_health") == [["acme", "7", "4", "3", "3", "1.33", "1", "175"]]


def test_report_for_every_tenant_adds_up_across_tenants(pg, scenario_db, tmp_path):
    """Without --tenant every tenant counts; the fix success rate is total successes over total problem runs."""
    page = render(tmp_path, pg.dsn(scenario_db), *WINDOW)
    assert page.kpis == {
        "runs": "9", "problem_runs": "5", "pct_problem_runs": "55.6", "problems_reported": "4",
        "episodes_resolved": "4", "avg_ttr_days": "1.25", "median_ttr_days": "1.0", "open_problems": "1",
        "recurrences": "1", "fix_success_rate": "160.0",
    }
    assert [r[0] for r in rows(page, "tenant_health")] == ["acme", "globex"]


def test_report_has_four_real_charts(pg, scenario_db, tmp_path):
    """Each dashboard is a decodable PNG of a readable size with actual drawing on it."""
    page = render(tmp_path, pg.dsn(scenario_db), *WINDOW)
    assert list(page.charts) == CHARTS
    for name, blob in page.charts.items():
        assert blob.startswith(b"\x89PNG\r\n\x1a\n"), name
        img = Image.open(io.BytesIO(blob))
        img.verify()
        img = Image.open(io.BytesIO(blob)).convert("RGB")
        assert img.width >= 600 and img.height >= 200, (name, img.size)
        colours = img.getcolors(maxcolors=1_000_000)
        assert len(colours) > 50, name  # lines, bars, text: not a blank canvas
        non_white = sum(n for n, c in colours if c != (255, 255, 255))
        assert non_white > 0.02 * img.width * img.height, name


def test_report_is_self_contained(pg, scenario_db, tmp_path):
    """The page loads nothing from anywhere: no external src or href, no scripts, no stylesheets."""
    page = render(tmp_path, pg.dsn(scenario_db), "--tenant", "acme", *WINDOW)
    assert page.external == []
    assert not page.tags & {"script", "link", "iframe"}


def test_report_of_an_empty_window_still_renders_every_dashboard(pg, scenario_db, tmp_path):
    """A window without runs gives zeros, empty values where nothing can be computed, and four charts."""
    page = render(tmp_path, pg.dsn(scenario_db), "--from", "2024-01-01", "--to", "2024-01-31")
    assert list(page.charts) == CHARTS
    assert page.kpis["runs"] == "0" and page.kpis["episodes_resolved"] == "0"
    assert page.kpis["avg_ttr_days"] == "" and page.kpis["pct_problem_runs"] == ""
    assert page.kpis["fix_success_rate"] == "160.0"  # all-time, not windowed


def test_report_counts_agree_with_a_plain_python_count_of_generated_runs(pg, fresh_db, tmp_path, history_loader):
    """On generated history, runs, runs with problems and problems reported match a count in Python."""
    now = int(datetime(2025, 6, 30, 18, tzinfo=timezone.utc).timestamp())
    gen = sample_data.Generated()
    generated = list(sample_data.generate(3_000, 4, 40, seed=11, now=now, out=gen))
    dsn = pg.dsn(fresh_db)
    with psycopg.connect(dsn) as conn:
        history_loader(conn, generated, gen)
    rng = random.Random(5)
    tenant = rng.choice(sorted({r[1] for r in generated}))
    d_from, d_to = date(2025, 6, 1), date(2025, 6, 20)
    mine = [r for r in generated if r[1] == tenant
            and d_from <= datetime.fromtimestamp(r[0], timezone.utc).date() <= d_to]
    page = render(tmp_path, dsn, "--tenant", tenant, "--from", str(d_from), "--to", str(d_to))
    assert page.kpis["runs"] == str(len(mine))
    assert page.kpis["problem_runs"] == str(sum(1 for r in mine if json.loads(r[4])))
    assert page.kpis["problems_reported"] == str(len({c for r in mine for c in json.loads(r[4])}))


@pytest.mark.parametrize("days, d_from, d_to, expected", [
    (30, None, None, (date(2025, 2, 9), date(2025, 3, 10))),
    (7, None, None, (date(2025, 3, 4), date(2025, 3, 10))),
    (30, date(2025, 3, 1), None, (date(2025, 3, 1), date(2025, 3, 10))),
    (5, None, date(2025, 3, 3), (date(2025, 2, 27), date(2025, 3, 3))),
    (30, date(2025, 1, 1), date(2025, 1, 31), (date(2025, 1, 1), date(2025, 1, 31))),
])
def test_window_is_a_range_of_utc_days_with_both_ends_included(days, d_from, d_to, expected):
    """--days N means the last N UTC days up to today; --from alone runs to today; --to alone goes back N days."""
    assert report.window(days, d_from, d_to, today=date(2025, 3, 10)) == expected


def test_window_refuses_from_after_to():
    """A window that ends before it starts is an operator error, not an empty page."""
    with pytest.raises(report.DevdiagError, match="after"):
        report.window(30, date(2025, 3, 2), date(2025, 3, 1), today=date(2025, 3, 10))


def fetched(dsn: str, tenant: str | None, d_from: date, d_to: date) -> report.Data:
    """What the page is drawn from, read as make report reads it."""
    with psycopg.connect(dsn) as conn:
        return report.fetch(conn, tenant, d_from, d_to)


def test_fix_success_rate_is_a_percentage_in_the_tile_and_the_table(pg, scenario_db, tmp_path):
    """acme's 7 successes over 4 runs with problems read 175 %, labelled as a percentage, in both places."""
    out = tmp_path / "report.html"
    assert report.main(["--dsn", pg.dsn(scenario_db), "--out", str(out), "--tenant", "acme", *WINDOW]) == 0
    text = out.read_text(encoding="utf-8")
    page = Page(text)
    assert page.kpis["fix_success_rate"] == "175.0"
    assert "Fix success rate (%)" in text and "fix success rate (%)" in text
    assert rows(page, "tenant_health")[0][-1] == "175"


def test_ttr_tile_and_ttr_chart_use_the_same_unit(pg, scenario_db):
    """The median TTR tile is in whole UTC days, the chart's unit, and equals the chart's median line."""
    data = fetched(pg.dsn(scenario_db), "acme", date(2025, 3, 1), date(2025, 3, 6))
    tile = {key: (label, value) for key, label, value, _note in report.headline(data)}
    assert "median_ttr_hours" not in tile
    label, value = tile["median_ttr_days"]
    assert "(days)" in label and value == 1.0
    fig = report.figure_ttr(data)
    ax = fig.axes[0]
    assert "days" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"median: {value:g} day"]
    report._plt().close(fig)


def test_fix_bars_of_different_problems_have_different_colours_named_in_the_legend(pg, scenario_db):
    """Bars of one problem share a colour, bars of different problems differ, and the legend names each problem."""
    from matplotlib.colors import to_hex

    data = fetched(pg.dsn(scenario_db), None, date(2025, 3, 1), date(2025, 3, 6))
    fig = report.figure_fix_effectiveness(data)
    ax = fig.axes[0]
    bars = [to_hex(p.get_facecolor()) for p in ax.patches]
    problems = [r[0] for r in data.fixes[::-1]]
    assert len(set(problems)) == 3
    colour_of = dict(zip(problems, bars))
    assert len(set(colour_of.values())) == len(colour_of)
    assert all(colour_of[p] == c for p, c in zip(problems, bars))
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == sorted(colour_of)
    report._plt().close(fig)


def test_problem_colours_stay_distinct_beyond_ten_problems():
    """Up to 20 problems (more than the report's top 15 fixes can name) get 20 different colours."""
    colours = report.problem_colours([f"P{i}" for i in range(20)])
    assert len(set(colours.values())) == 20


def overlapping_tick_labels(fig, ax) -> list[tuple[str, str]]:
    """Pairs of neighbouring x tick labels whose drawn boxes overlap."""
    fig.canvas.draw()
    labels = [t for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
    boxes = [(t.get_text(), t.get_window_extent()) for t in labels]
    return [(a, b) for (a, ba), (b, bb) in zip(boxes, boxes[1:]) if ba.overlaps(bb)]


@pytest.mark.parametrize("days", [30, 120])
def test_date_ticks_of_the_daily_charts_are_few_and_do_not_overlap(pg, fresh_db, history_loader, days):
    """Over a month or four, the daily charts show at most 8 date ticks, none overlapping its neighbour."""
    now = int(datetime(2025, 6, 30, 18, tzinfo=timezone.utc).timestamp())
    gen = sample_data.Generated()
    dsn = pg.dsn(fresh_db)
    with psycopg.connect(dsn) as conn:
        history_loader(conn, sample_data.generate(1_500, 2, days, seed=2, now=now, out=gen), gen)
    d_to = date(2025, 6, 30)
    data = fetched(dsn, None, d_to - timedelta(days=days - 1), d_to)
    for make in (report.figure_problem_overview, report.figure_tenant_health):
        fig = make(data)
        ax = fig.axes[0]
        fig.canvas.draw()
        ticks = [t for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
        assert 3 <= len(ticks) <= 8, (make.__name__, [t.get_text() for t in ticks])
        assert overlapping_tick_labels(fig, ax) == [], make.__name__
        report._plt().close(fig)


def test_todays_partial_day_is_labelled_on_the_page_and_the_daily_charts(pg, fresh_db, tmp_path):
    """A window that ends today says today's counts are partial, and both daily charts shade and label it."""
    dsn = pg.dsn(fresh_db)
    now = datetime.now(timezone.utc)
    with psycopg.connect(dsn) as conn:
        conn.execute("INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems) VALUES "
                     "(%s, 'acme', %s, '[\"ROUTE_404\"]'), (%s, 'acme', %s, '[]')",
                     (now - timedelta(days=2), "d" * 64, now - timedelta(minutes=1), "d" * 64))
        # make report reads the views in its own session: fold the runs before the commit.
        conn.execute("CALL devdiag.refresh_rollups()")
    out = tmp_path / "report.html"
    assert report.main(["--dsn", dsn, "--out", str(out), "--days", "7"]) == 0
    text = out.read_text(encoding="utf-8")
    today = now.date()
    assert f'data-partial-day="{today}"' in text and "partial" in text
    data = fetched(dsn, None, today - timedelta(days=6), today)
    assert data.partial_day == today
    for make in (report.figure_problem_overview, report.figure_tenant_health):
        fig = make(data)
        legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert [x for x in legend if x.startswith("today, partial")], (make.__name__, legend)
        report._plt().close(fig)
    # a window in the past has no partial day
    past = fetched(dsn, None, today - timedelta(days=9), today - timedelta(days=1))
    assert past.partial_day is None
    assert "data-partial-day" not in report.render(past)


def test_a_tenant_without_any_data_is_named_on_the_page_and_the_exit_status_is_non_zero(pg, scenario_db, tmp_path):
    """A mistyped tenant gives a page saying there is no data for it (listing the tenants the login reads) and exit 1."""
    out = tmp_path / "report.html"
    assert report.main(["--dsn", pg.dsn(scenario_db), "--out", str(out), "--tenant", "acmee", *WINDOW]) == 1
    text = out.read_text(encoding="utf-8")
    assert 'data-warning="unknown-tenant"' in text
    assert "No data for tenant <b>acmee</b>" in text and "acme, globex" in text


def test_a_known_tenant_with_an_empty_window_is_not_reported_as_unknown(pg, scenario_db, tmp_path):
    """A tenant with data, only outside the window, gives an empty page without the warning, and exit 0."""
    out = tmp_path / "report.html"
    args = ["--dsn", pg.dsn(scenario_db), "--out", str(out), "--tenant", "acme", "--from", "2024-01-01",
            "--to", "2024-01-31"]
    assert report.main(args) == 0
    assert "data-warning" not in out.read_text(encoding="utf-8")
