"""One configuration: where the warehouse and the SQLite source are.

The warehouse, for every command, is the first of:

1. ``--dsn`` on the command line;
2. ``DEVDIAG_DSN`` in the environment (``PG_DSN`` is the sync's alias, read
   only by the sync and only when ``DEVDIAG_DSN`` is unset);
3. ``warehouse.dsn`` in ``devdiag.yaml`` (or the file named by ``DEVDIAG_CONFIG``);
4. the project-local PostgreSQL under ``.devdiag/``: created only by commands
   that build the warehouse (``make migrate``, ``make db-up``); commands that
   only read use it when it exists and refuse otherwise.

The SQLite learning store is DevDiag's own key, ``learn.store:
sqlite:///path`` (or ``SQLITE_PATH`` / ``--sqlite``); it never names the
warehouse.

A DSN may be any form libpq accepts: a ``postgresql://`` or ``postgres://``
URI (``postgresql+psycopg://`` is accepted too), or ``key=value`` pairs.  It is
parsed once, with libpq's own parser, into connection parameters; every
message shows it with the password masked, whatever form it came in.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlencode


def _project_root() -> Path:
    """The checkout holding migrations/ and sql/: beside the package, else the working directory."""
    here = Path(__file__).resolve().parent.parent
    if (here / "migrations").is_dir() or not (Path.cwd() / "migrations").is_dir():
        return here
    return Path.cwd()


ROOT = _project_root()
#: where the project-local PostgreSQL is remembered (DEVDIAG_STATE_DIR: another place, e.g. for tests)
STATE_DIR = Path(os.environ.get("DEVDIAG_STATE_DIR") or ROOT / ".devdiag")

#: schemes accepted for a warehouse URI; the SQLAlchemy/yoyo spellings map to libpq's
_SCHEMES = {
    "postgresql": "postgresql", "postgres": "postgresql",
    "postgresql+psycopg": "postgresql", "postgres+psycopg": "postgresql",
}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
MASK = "***"


class DevdiagError(Exception):
    """An error with a message meant for the operator, printed without a traceback."""


# --------------------------------------------------------------------------
# DSN parsing and masking
# --------------------------------------------------------------------------

def _fix_userinfo(rest: str) -> str:
    """Percent-encode the user and password of a URI body, splitting at the last ``@``.

    libpq splits at the first ``@``, so a password holding a raw ``@`` would
    be cut and its tail read as the host (and printed as such).
    """
    head, sep, query = rest.partition("?")
    at = head.rfind("@")
    if at < 0:
        return rest
    userinfo, hostpart = head[:at], head[at + 1:]
    user, colon, password = userinfo.partition(":")
    fixed = quote(unquote(user), safe="")
    if colon:
        fixed += ":" + quote(unquote(password), safe="")
    return f"{fixed}@{hostpart}{sep}{query}"


def _quote_keep_slash(value, safe="", encoding=None, errors=None) -> str:
    """Percent-encode a query value but keep '/', so socket directories stay readable."""
    return quote(value, safe="/", encoding=encoding, errors=errors)


def parse_dsn(text: str, origin: str = "the DSN") -> dict[str, str]:
    """Connection parameters of a DSN in any form libpq accepts; one clear line otherwise."""
    from psycopg.conninfo import conninfo_to_dict

    text = (text or "").strip()
    if not text:
        raise DevdiagError(f"{origin} is empty")
    m = _SCHEME.match(text)
    if m:
        scheme = m.group(1).lower()
        if scheme not in _SCHEMES:
            raise DevdiagError(
                f"{origin} is not a PostgreSQL DSN: scheme {scheme!r} "
                "(expected postgresql://..., postgresql+psycopg://... or key=value pairs)")
        text = "postgresql://" + _fix_userinfo(text[m.end():])
    elif "=" not in text:
        raise DevdiagError(
            f"{origin} is not a PostgreSQL DSN (expected postgresql://..., "
            "postgresql+psycopg://... or key=value pairs)")
    try:
        params = conninfo_to_dict(text)
    except Exception:  # libpq's message quotes the string, password included
        raise DevdiagError(
            f"{origin} cannot be parsed by libpq (expected postgresql://... or key=value pairs)"
        ) from None
    return {k: str(v) for k, v in params.items() if v is not None}


def conninfo(params: dict[str, str]) -> str:
    """libpq ``key=value`` form of connection parameters (what psycopg, psql and pg_dump take)."""
    from psycopg.conninfo import make_conninfo

    return make_conninfo(**params)


def libpq_dsn(dsn: str, origin: str = "the DSN") -> str:
    """Normalise any accepted DSN to libpq's ``key=value`` form; ``origin`` names it in errors."""
    return conninfo(parse_dsn(dsn, origin))


def psql_uri(dsn: str) -> str:
    """A ``postgresql://`` URI of a DSN, the form psql, pg_dump and Tableau users paste."""
    params = dict(parse_dsn(dsn))
    user = params.pop("user", None)
    password = params.pop("password", None)
    host = params.pop("host", None)
    port = params.pop("port", None)
    dbname = params.pop("dbname", "")
    auth = ""
    if user:
        auth = quote(user, safe="")
        if password:
            auth += ":" + quote(password, safe="")
        auth += "@"
    netloc = ""
    if host and not host.startswith("/"):
        netloc = host + (f":{port}" if port else "")
    else:
        if host:
            params["host"] = host
        if port:
            params["port"] = port
    query = ("?" + urlencode(params, quote_via=_quote_keep_slash)) if params else ""
    return f"postgresql://{auth}{netloc}/{quote(dbname, safe='')}{query}"


def yoyo_url(dsn: str, **extra: str) -> str:
    """The URL yoyo needs for psycopg 3: every parameter in the query string.

    yoyo passes query parameters to ``psycopg.connect`` unchanged, so a socket
    directory, a password with any character and options such as ``sslmode``
    all reach libpq as they were parsed.
    """
    params = dict(parse_dsn(dsn))
    dbname = params.pop("dbname", "")
    params.update(extra)
    return f"postgresql+psycopg:///{quote(dbname, safe='')}?{urlencode(params, quote_via=_quote_keep_slash)}"


def redact(dsn: str) -> str:
    """A DSN as it may be printed: parsed, with any password masked; never the raw text."""
    try:
        params = parse_dsn(dsn)
    except DevdiagError:
        return "<a DSN that cannot be parsed>"
    if "password" in params:
        params["password"] = MASK
    return conninfo(params)


def mask_secrets(message: str, dsn: str | None) -> str:
    """Remove the DSN's password from a message (a driver's error text may quote it)."""
    if not dsn:
        return message
    try:
        password = parse_dsn(dsn).get("password")
    except DevdiagError:
        return message.replace(dsn, "<a DSN that cannot be parsed>")
    message = message.replace(dsn, redact(dsn))
    if password:
        for form in {password, quote(password, safe="")}:
            message = message.replace(form, MASK)
    return message


# --------------------------------------------------------------------------
# The configuration file and the resolution order
# --------------------------------------------------------------------------

def config_path(path: str | None = None) -> str:
    return path or os.environ.get("DEVDIAG_CONFIG") or str(ROOT / "devdiag.yaml")


def load_config(path: str | None = None) -> dict:
    """Read ``devdiag.yaml`` (or ``DEVDIAG_CONFIG``); an absent file is an empty config."""
    path = config_path(path)
    if not os.path.exists(path):
        return {}
    import yaml

    with open(path, encoding="utf-8") as fh:
        try:
            data = yaml.safe_load(fh) or {}
        except yaml.YAMLError as exc:
            raise DevdiagError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise DevdiagError(f"{path}: expected a mapping at the top level")
    learn = data.get("learn") or {}
    if isinstance(learn, dict):
        store = learn.get("store")
        if isinstance(store, str) and _SCHEME.match(store) and not store.startswith("sqlite:"):
            raise DevdiagError(
                f"{path}: learn.store names DevDiag's SQLite store (sqlite:///path); "
                "put the warehouse in warehouse.dsn")
        if isinstance(learn.get("sync"), dict) and "pg_dsn" in learn["sync"]:
            raise DevdiagError(f"{path}: learn.sync.pg_dsn is no longer read; put the warehouse in warehouse.dsn")
    return data


@dataclass(frozen=True)
class Warehouse:
    """Where a command is pointed: the DSN (libpq form) and where it came from."""

    dsn: str
    origin: str

    def describe(self) -> str:
        return f"warehouse: {redact(self.dsn)} (from {self.origin})"


def configured_warehouse(cli: str | None = None, *, aliases: tuple[str, ...] = (),
                         config: str | None = None) -> Warehouse | None:
    """The warehouse the operator configured, or None when the local cluster applies."""
    candidates: list[tuple[str | None, str]] = [(cli, "--dsn"), (os.environ.get("DEVDIAG_DSN"), "DEVDIAG_DSN")]
    candidates += [(os.environ.get(name), name) for name in aliases]
    for value, origin in candidates:
        if value:
            return Warehouse(libpq_dsn(value, origin), origin)
    cfg = load_config(config)
    section = cfg.get("warehouse") or {}
    if not isinstance(section, dict):
        raise DevdiagError(f"{config_path(config)}: warehouse must be a mapping with a dsn key")
    value = section.get("dsn")
    if value:
        origin = f"{Path(config_path(config)).name} warehouse.dsn"
        if not isinstance(value, str):
            raise DevdiagError(f"{origin} must be a string")
        return Warehouse(libpq_dsn(value, origin), origin)
    return None


def warehouse(cli: str | None = None, *, create_local: bool = False, aliases: tuple[str, ...] = (),
              config: str | None = None, announce: bool = True) -> Warehouse:
    """Resolve the warehouse once, in the one order every command uses.

    ``create_local``: with nothing configured, initialise the project-local
    cluster if there is none (commands that build the warehouse); otherwise
    an absent local cluster is an error, never silently a new empty one.
    """
    found = configured_warehouse(cli, aliases=aliases, config=config)
    if found is None:
        from .localdb import LocalCluster

        if not create_local and not LocalCluster.exists():
            raise DevdiagError(
                "no warehouse configured (--dsn, DEVDIAG_DSN or warehouse.dsn in devdiag.yaml) "
                "and no local PostgreSQL yet: run `make migrate` (or `make db-up`) first")
        found = Warehouse(libpq_dsn(LocalCluster.default().ensure_running()), "the local PostgreSQL in .devdiag/")
    if announce:
        print(found.describe(), file=sys.stderr, flush=True)
    return found


def resolve_dsn(cli: str | None = None, *, create_local: bool = False, announce: bool = True) -> str:
    """The warehouse DSN (libpq form); see :func:`warehouse`."""
    return warehouse(cli, create_local=create_local, announce=announce).dsn


def add_dsn_option(parser, what: str = "the warehouse") -> None:
    """The ``--dsn`` option every command shares."""
    parser.add_argument(
        "--dsn", help=f"{what} (default: DEVDIAG_DSN, then warehouse.dsn in devdiag.yaml, "
                      "then the local PostgreSQL); any libpq form")


def connect(dsn: str, **kwargs):
    """Connect with psycopg 3, turning connection failures into one clear line."""
    import psycopg

    try:
        return psycopg.connect(libpq_dsn(dsn), **kwargs)
    except psycopg.OperationalError as exc:
        text = str(exc).strip()
        first = text.splitlines()[0] if text else repr(exc)
        raise DevdiagError(
            f"cannot connect to the warehouse ({redact(dsn)}): {mask_secrets(first, dsn)}") from None


def main_guard(fn):
    """Run ``fn`` and turn DevdiagError into one line on stderr and exit status 2.

    The undecorated function stays reachable as ``main.__wrapped__`` for tests.
    """

    @functools.wraps(fn)
    def wrapper(*a, **kw):
        try:
            return fn(*a, **kw)
        except DevdiagError as exc:
            print(f"error: {exc}", file=sys.stderr)
            sys.exit(2)
    return wrapper

