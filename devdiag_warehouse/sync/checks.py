"""Checking rows before they land: shapes, limits and privacy, in cheap Python cached per distinct value."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import datetime, timezone

from .base import (
    CACHE_MAX,
    COPY_ESCAPES,
    HEX_DIGEST,
    PRESETS,
    TS_MAX,
    TS_MIN,
    Refused,
    Reject,
)
from .store import describe

# --------------------------------------------------------------------------
# Row checks and privacy (cheap Python, cached per distinct value)
# --------------------------------------------------------------------------

def _refuse_constant(name: str):
    raise Reject(f"not valid JSON for PostgreSQL ({name})")


def parse_json(text, column: str):
    if text is None:
        raise Reject(f"{column} is NULL")
    if not isinstance(text, str):
        raise Reject(f"{column} is not text")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except Reject as exc:
        raise Reject(f"{column} is {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise Reject(f"{column} is not valid JSON ({exc})") from None


def has_nul(value) -> bool:
    """True if a decoded JSON value holds U+0000 anywhere (PostgreSQL's jsonb cannot)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    if isinstance(value, dict):
        return any("\x00" in k or has_nul(v) for k, v in value.items())
    return False


def copy_text(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(COPY_ESCAPES)
    return value


def plain_text(value, column: str, required: bool) -> str:
    """A text column as a COPY field (``\\N`` for NULL)."""
    if value is None:
        if required:
            raise Reject(f"{column} is NULL")
        return "\\N"
    if not isinstance(value, str):
        raise Reject(f"{column} is not text ({type(value).__name__})")
    if "\x00" in value:
        raise Reject(f"{column} contains a NUL character (\\u0000)")
    if required and value == "":
        raise Reject(f"{column} is empty")
    return copy_text(value)


def epoch(value, column: str = "ts") -> str:
    if value.__class__ is int:
        if TS_MIN <= value <= TS_MAX:
            return str(value)
        raise Reject(f"{column} {value} is out of range")
    if value is None:
        raise Reject(f"{column} is NULL")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Reject(f"{column} is not a finite number")
        if TS_MIN <= value <= TS_MAX:
            return repr(value)
        raise Reject(f"{column} {value} is out of range")
    raise Reject(f"{column} is not a number ({type(value).__name__})")


class Privacy:
    """Target hashing and evidence filtering, as DevDiag's privacy settings say."""

    def __init__(self, hash_targets: bool, keep_evidence_keys):
        self.hash_targets = hash_targets
        self.keep = frozenset(keep_evidence_keys)
        self.keep_order = tuple(keep_evidence_keys)

    def target(self, value) -> str:
        if value is None:
            raise Reject("target_hash is NULL")
        if not isinstance(value, str):
            raise Reject(f"target_hash is not text ({type(value).__name__})")
        if value == "":
            raise Reject("target_hash is empty")
        lowered = value.lower()
        if HEX_DIGEST.fullmatch(lowered):
            return lowered
        if not self.hash_targets:
            raise Reject("target_hash is not a hex digest and learn.privacy.hash_targets is off")
        return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()

    def evidence(self, obj: dict) -> dict:
        return {k: obj[k] for k in self.keep_order if k in obj}

    def raw_row(self, columns: tuple[str, ...], row: tuple) -> str:
        """The SQLite row as JSON for sync_reject, with the privacy rules applied."""
        out = {}
        for col, value in zip(columns, row):
            if col == "target_hash" and isinstance(value, str) and value and not HEX_DIGEST.fullmatch(value.lower()):
                out[col] = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
                out["target_hash_note"] = "not a hex digest: SHA-256 of the stored value"
            elif col == "evidence" and value is not None:
                out[col] = self.withheld_or_filtered(value)
            else:
                out[col] = describe(value)
        return json.dumps(out, ensure_ascii=True, default=str)

    def withheld_or_filtered(self, value):
        if isinstance(value, str):
            try:
                obj = json.loads(value)
            except (ValueError, RecursionError):
                obj = None
            if isinstance(obj, dict):
                return self.evidence(obj)
            raw = value.encode("utf-8", "surrogatepass")
        else:
            raw = value if isinstance(value, bytes) else str(value).encode()
        return {"withheld": "not a JSON object, so its keys cannot be filtered",
                "length": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}


class RunChecker:
    """Turns SQLite diag_run rows into COPY lines or reject reasons.

    Every column goes through a cache keyed by the raw value, so repeated
    values (tenants, targets, problem lists, evidence) are parsed once.
    """

    def __init__(self, privacy: Privacy, limits: dict | None = None, ts_max: float = TS_MAX):
        self.privacy = privacy
        self.limits = limits or {}
        self.ts_max = ts_max
        self.tenants: dict = {}
        self.targets: dict = {}
        self.envs: dict = {None: "\\N"}
        self.problems: dict = {}
        self.evidence: dict = {}
        self.tenant_runs: dict[str, int] = {}  # good runs checked, per tenant

    def _cached(self, cache: dict, value, fn):
        try:
            hit = cache[value]
        except KeyError:
            try:
                hit = fn(value)
            except Reject as exc:
                # Keep the reason, not the exception: a re-raised exception
                # grows a traceback holding every batch it passed through.
                hit = Refused(str(exc))
            if len(cache) >= CACHE_MAX:
                cache.clear()
            cache[value] = hit
        if hit.__class__ is Refused:
            raise Reject(hit.reason)
        return hit

    def _problems(self, text) -> str:
        value = parse_json(text, "problems")
        if not isinstance(value, list):
            raise Reject(f"problems is not a JSON array ({type(value).__name__})")
        for code in value:
            if not isinstance(code, str):
                raise Reject("problems holds a value that is not a string")
            if code == "":
                raise Reject("problems holds an empty string")
            if "\x00" in code:
                raise Reject("problems holds a \\u0000 character")
            over_limit("problem code", code, self.limits.get("problem_code"))
        return copy_text(text)

    def _evidence(self, text) -> str:
        if text is None:
            return "{}"  # evidence is optional context: a missing object is an empty one
        value = parse_json(text, "evidence")
        if not isinstance(value, dict):
            raise Reject(f"evidence is not a JSON object ({type(value).__name__})")
        if "\\u0000" in text and has_nul(value):
            raise Reject("evidence holds a \\u0000 character")
        if value.keys() <= self.privacy.keep:
            kept_value, kept = value, text
        else:
            kept_value = self.privacy.evidence(value)
            try:
                kept = json.dumps(kept_value, ensure_ascii=True, allow_nan=False)
            except ValueError as exc:
                raise Reject(f"evidence holds a value PostgreSQL cannot store ({exc})") from None
        limit = self.limits.get("evidence")
        if limit is not None and len(kept) > limit // 6:
            # As the warehouse measures it: the stored JSON printed back as text.
            over_limit("evidence", json.dumps(kept_value, ensure_ascii=False), limit)
        return copy_text(kept)

    def _tenant(self, value) -> str:
        field = tenant_field(value)
        over_limit("tenant", value, self.limits.get("tenant"))
        return field

    def _env(self, value) -> str:
        field = env_field(value)
        if value is not None:
            over_limit("env_fp", value, self.limits.get("env_fp"))
        return field

    def _preset(self, value) -> str:
        if value is None:
            return "\\N"
        if value in PRESETS:
            return value
        raise Reject(f"unknown preset {describe(value)!r}")

    def check(self, rows: list[tuple], good_ids: list, lines: list, rejects: list, days: set | None = None) -> None:
        """Checks rows: the good ones go to ``good_ids`` and ``lines`` (COPY text) and their UTC days
        (days since 1970-01-01) to ``days``; the others to ``rejects`` with the reason."""
        cached = self._cached
        tenants, targets, envs, problems, evidence = (self.tenants, self.targets, self.envs,
                                                      self.problems, self.evidence)
        target_fn = self.privacy.target
        problems_fn, evidence_fn, preset_fn = self._problems, self._evidence, self._preset
        tenant_fn, env_fn, ts_max = self._tenant, self._env, self.ts_max
        per_tenant = self.tenant_runs
        for row in rows:
            sid, ts, tenant, target, env, prob, evid, preset = row
            try:
                line = "\t".join((
                    str(sid),
                    epoch(ts),
                    cached(tenants, tenant, tenant_fn),
                    cached(targets, target, target_fn),
                    cached(envs, env, env_fn),
                    cached(problems, prob, problems_fn),
                    cached(evidence, evid, evidence_fn),
                    preset if preset in PRESETS else preset_fn(preset),
                ))
                if ts > ts_max:
                    raise Reject(f"ts {datetime.fromtimestamp(ts, timezone.utc).isoformat()} is in the future, past "
                                 "the clock skew the warehouse allows (settings.max_future_minutes)")
            except Reject as exc:
                rejects.append((sid, row, str(exc)))
                continue
            good_ids.append(sid)
            lines.append(line)
            per_tenant[tenant] = per_tenant.get(tenant, 0) + 1
            if days is not None:
                days.add(ts // 86400)


def tenant_field(value) -> str:
    return plain_text(value, "tenant", required=True)


def env_field(value) -> str:
    return plain_text(value, "env_fp", required=False)


def over_limit(what: str, value, limit: int | None) -> None:
    """Reject text longer than the warehouse's limit (bytes of UTF-8, as its checks count)."""
    if limit is not None and isinstance(value, str) and len(value) * 4 > limit:
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > limit:
            raise Reject(f"{what} is {size} bytes, over the warehouse's limit of {limit} (devdiag.row_limit)")


def check_fix_row(row: tuple, limits: dict | None = None) -> tuple:
    """A SQLite fix_outcome row as a staging tuple, or Reject."""
    sid, ts, tenant, problem, fix, confidence, support, env, notes = row
    limits = limits or {}
    epoch(ts)
    for col, value in (("tenant", tenant), ("problem_code", problem), ("fix_code", fix)):
        plain_text(value, col, required=True)
        over_limit(col, value, limits.get(col))
    plain_text(env, "env_fp", required=False)
    over_limit("env_fp", env, limits.get("env_fp"))
    plain_text(notes, "notes", required=False)
    if confidence is None:
        raise Reject("confidence is NULL")
    if not isinstance(confidence, (int, float)) or isinstance(confidence, bool):
        raise Reject(f"confidence is not a number ({describe(confidence)!r})")
    if not math.isfinite(confidence):
        raise Reject("confidence is not a finite number")
    if not 0 <= confidence <= 1:
        raise Reject(f"confidence {confidence} is outside [0, 1]")
    if support is None:
        raise Reject("support is NULL")
    if support.__class__ is not int:
        raise Reject(f"support is not an integer ({describe(support)!r})")
    if support < 0:
        raise Reject(f"support {support} is negative")
    return (sid, ts, tenant, problem, fix, float(confidence), support, env, notes)
