"""The project's commands as an operator runs them: the console scripts of the installed package."""

from __future__ import annotations

import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def command(name: str) -> list[str]:
    """argv prefix of ``devdiag-<name>`` (``sync``, ``backup``, ``checks`` ...)."""
    path = BIN / f"devdiag-{name}"
    assert path.exists(), f"{path} is missing: install the package (make venv)"
    return [str(path)]


def error_lines(stderr: str) -> list[str]:
    """stderr without the line every command starts with (``warehouse: ... (from ...)``)."""
    return [ln for ln in stderr.strip().splitlines() if ln.strip() and not ln.startswith("warehouse: ")]
