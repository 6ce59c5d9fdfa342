"""What every part of the sync shares: exit codes, the row errors, and the limits of a row."""

from __future__ import annotations

import re

from ..config import (
    DevdiagError,
)

EXIT_OK, EXIT_REJECTED, EXIT_CONFIG, EXIT_BUSY, EXIT_BUG = 0, 1, 2, 3, 70

DEFAULT_KEEP_EVIDENCE_KEYS = ("csp", "xfo", "framework", "server", "routes")
PRESETS = frozenset(("chat", "embed", "app", "full"))
#: epoch seconds PostgreSQL and the views handle sanely: 1900-01-01 .. 9999-12-31
TS_MIN, TS_MAX = -2_208_988_800, 253_402_300_799
#: distinct values remembered per column cache before it is cleared (bounded memory)
CACHE_MAX = 50_000

#: devdiag.row_limit names; the values come from the warehouse, the one definition of the limits
ROW_LIMITS = ("tenant", "problem_code", "fix_code", "env_fp", "evidence")
#: minutes a run may lie in the future (clock skew) unless settings.max_future_minutes says otherwise
DEFAULT_MAX_FUTURE_MINUTES = 5
#: checks the warehouse enforces in a trigger; a refusal naming one is about the row
ROW_TRIGGER_CHECKS = ("diag_run_ts_not_in_future",)

RUN_COLUMNS = ("id", "ts", "tenant", "target_hash", "env_fp", "problems", "evidence", "preset")
FIX_COLUMNS = ("id", "ts", "tenant", "problem_code", "fix_code", "confidence", "support", "env_fp", "notes")
#: a digest is whole bytes: 32 to 128 hex digits, an even number (the tables' check says the same)
HEX_DIGEST = re.compile(r"(?:[0-9a-f]{2}){16,64}")
# COPY text format: backslash, tab, newline and carriage return must be escaped.
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class BusyError(DevdiagError):
    """Nothing was synced because something else holds a lock; retry later."""


class Reject(Exception):
    """A row that cannot land; the message is the reason stored in sync_reject."""


class Refused:
    """A cached verdict on a value: why rows holding it are rejected."""

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason
