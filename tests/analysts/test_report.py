"""make report renders the four dashboards, with the right numbers, as one self-contained HTML page."""

from __future__ import annotations

import base64
import io
import json
import random
from datetime import date, datetime, timezone
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
        "episodes_resolved": "3", "avg_ttr_days": "1.33", "median_ttr_hours": "23.0", "open_problems": "1",
        "recurrences": "1", "fix_success_rate": "1.75",
    }
    assert rows(page, "fix_effectiveness") == [
        ["CSP_FRAME_ANCESTORS", "csp.add_frame_ancestors", "4", "0.85", "High"],
        ["XFO_DENY", "xfo.sameorigin_to_csp", "2", "0.4", "Low"],
        ["XFO_DENY", "xfo.remove_header", "1", "0.6", "Medium"],
    ]
    assert rows(page, "problem_overview") == [
        ["CSP_FRAME_ANCESTORS", "3", "3"], ["OVERLAY_BLOCKING", "1", "1"], ["XFO_DENY", "1", "1"]]
    assert rows(page, "ttr") == [["0", "1"], ["1", "1"], ["3", "1"]]
    assert rows(page, "tenant_health") == [["acme", "7", "4", "3", "3", "1.33", "1", "1.75"]]


def test_report_for_every_tenant_adds_up_across_tenants(pg, scenario_db, tmp_path):
    """Without --tenant every tenant counts; the fix success rate is total successes over total problem runs."""
    page = render(tmp_path, pg.dsn(scenario_db), *WINDOW)
    assert page.kpis == {
        "runs": "9", "problem_runs": "5", "pct_problem_runs": "55.6", "problems_reported": "4",
        "episodes_resolved": "4", "avg_ttr_days": "1.25", "median_ttr_hours": "17.5", "open_problems": "1",
        "recurrences": "1", "fix_success_rate": "1.6",
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
    assert page.kpis["fix_success_rate"] == "1.6"  # all-time, not windowed


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
