"""Each contract view, on small seeds, returns exactly the rows of its reviewed golden file.

One case per file in tests/views/expected/ (``<view>__<scenario>.csv``);
the scenario (seeds, session TimeZone) comes from tests/views/scenarios.yaml.
The test never writes a golden file: ``make golden`` does, and its diff is reviewed.
"""

from __future__ import annotations

import pytest

from tests.views import golden_support as gs

FILES = sorted(gs.EXPECTED_DIR.glob("*.csv"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_view_rows_match_the_golden_file(db, path):
    """The view's rows for the scenario's seeds and TimeZone equal the golden file, header included."""
    view, name = gs.split_name(path)
    scenario = gs.scenarios()[name]
    assert view in scenario.views, f"{path.name}: scenario {name} does not list {view} (run make golden)"
    actual = gs.run_scenario(db, scenario, views=[view])[view]
    assert actual == gs.read_expected(path), scenario.about


def test_golden_files_are_exactly_the_scenarios_views():
    """Every (view, scenario) pair of scenarios.yaml has a golden file and no file is left over."""
    wanted = {gs.expected_path(v, s.name) for s in gs.scenarios().values() for v in s.views}
    assert set(FILES) == wanted


def test_every_contract_view_has_golden_files():
    """No contract view goes without at least one golden scenario."""
    covered = {gs.split_name(p)[0] for p in FILES}
    assert covered == set(gs.VIEW_QUERIES)


def test_every_seed_folder_is_used_by_a_scenario():
    """A seed folder no scenario loads would be untested data."""
    used = {seed for s in gs.scenarios().values() for seed in s.seeds}
    assert set(gs.seed_concerns()) == used


def test_golden_files_are_not_empty():
    """A file holding only a header would pin nothing; each scenario seeds rows for its views."""
    assert [p.name for p in FILES if len(gs.read_expected(p)) < 2] == []
