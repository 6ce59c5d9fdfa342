"""The README stays short and true: its targets table matches `make help`, its links resolve,
and no document carries lab-notebook wording. Pure Python, no database."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = sorted([README, *(ROOT / "docs").glob("*.md")])

#: the pattern the Makefile's `help` target greps for
HELP_LINE = re.compile(r"^([a-z0-9-]+):.*## ")
#: a row of the targets table: | `make target` | ... |
TABLE_ROW = re.compile(r"^\|\s*`make ([^`]+)`\s*\|")
#: [text](target) markdown links; images and reference links are not used here
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FORBIDDEN = ("issue 7", "issue #", "HELPERS", "/work/", "this machine", "the guide", "original guide")


def help_targets() -> list[str]:
    """Targets `make help` prints: Makefile lines matching ^[a-z0-9-]+:.*## (the help target's grep)."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    return [m.group(1) for ln in lines if (m := HELP_LINE.match(ln))]


def all_makefile_targets() -> set[str]:
    """Every rule name defined in the Makefile, with or without a help comment."""
    names = set()
    for ln in (ROOT / "Makefile").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.$()/-]+(?:\s+[A-Za-z0-9_.$()/-]+)*)\s*:(?!=)", ln)
        if m and not ln.startswith("\t"):
            names.update(m.group(1).split())
    return names


def readme_table_targets() -> list[str]:
    """Targets named in the first column of the README's "## Targets" table."""
    text = README.read_text()
    start = text.index("\n## Targets")
    end = text.find("\n## ", start + 1)
    section = text[start:end if end != -1 else None]
    return [m.group(1).strip() for ln in section.splitlines() if (m := TABLE_ROW.match(ln))]


def test_readme_is_at_most_220_lines():
    """README.md stays a short entry point of at most 220 lines; detail lives in docs/."""
    assert len(README.read_text().splitlines()) <= 220


def test_makefile_help_lists_targets():
    """The help parser finds the Makefile's documented targets, so the table checks below can fail."""
    targets = help_targets()
    assert "demo" in targets and "test" in targets and len(targets) >= 10


def test_every_target_make_help_lists_is_in_the_readme_targets_table():
    """Every target printed by `make help` has a row in the README's targets table."""
    missing = [t for t in help_targets() if t not in readme_table_targets()]
    assert not missing, f"make help targets missing from README's table: {missing}"


def test_every_target_in_the_readme_table_is_a_real_help_target():
    """Every target in the README's targets table is one `make help` prints, listed once."""
    table = readme_table_targets()
    listed = set(help_targets())
    not_rules = [t for t in table if t not in all_makefile_targets()]
    assert not not_rules, f"README's table names targets the Makefile does not define: {not_rules}"
    extra = [t for t in table if t not in listed]
    assert not extra, f"README's table names targets make help does not list: {extra}"
    assert len(table) == len(set(table)), "a target appears twice in README's table"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_to_an_existing_file(doc: Path):
    """Each relative link in README.md and docs/*.md names a file or folder that exists."""
    broken = []
    for target in LINK.findall(doc.read_text()):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # absolute URLs, mailto:, in-page anchors
        path = target.split("#", 1)[0]
        if not (doc.parent / path).exists():
            broken.append(target)
    assert not broken, f"{doc.name}: broken links {broken}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_doc_contains_lab_notebook_wording(doc: Path):
    """No document speaks of how the project was built: no issue numbers, working notes, machine paths or guide."""
    text = doc.read_text().lower()
    found = [s for s in FORBIDDEN if s.lower() in text]
    assert not found, f"{doc.name} contains {found}"
