"""Console settings: read once from secrets/env by the page, frozen, handed down.

Sources, highest first:
1. ``[connections.gel]`` in ``.streamlit/secrets.toml`` (or the Cloud UI's secrets);
2. the ``GEL_*`` / ``EDGEDB_*`` environment the driver understands (the driver reads those
   itself when no connection argument is given, so we only *detect* them here).

Invariant: secret values (password, secret_key, the DSN's password) live in ``Secret`` wrappers
whose ``repr``/``str`` never show the value; only ``reveal()`` hands the raw string to the driver.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

CONNECTION_KEYS = (
    "dsn",
    "instance",
    "secret_key",
    "host",
    "port",
    "user",
    "password",
    "branch",
    "database",
    "tls_ca",
    "tls_ca_file",
    "tls_security",
)
SECRET_KEYS = frozenset({"password", "secret_key", "dsn"})
# Keys ``ConnectionSettings.identity`` hashes secrets with: new in every process.
_IDENTITY_KEY = secrets.token_bytes(32)

# Environment variables that make the driver connect without any argument (GEL_* first).
DRIVER_ENV_PREFIXES = ("GEL_", "EDGEDB_")
DRIVER_ENV_NAMES = ("DSN", "INSTANCE", "HOST", "PORT", "CREDENTIALS_FILE")


class Secret:
    """A string that never shows itself in repr/str/logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


def _split_dsn(dsn: str) -> tuple[str, str, str | None, str]:
    """(scheme, user, password, host part) of ``scheme://user:password@host...``.

    Not ``urlsplit``: a password may hold unencoded ``#``, ``/`` or ``?``, which would move
    part of it into the fragment or path. A host never holds ``@``, so the userinfo ends at
    the last one (when a query value holds an ``@``, more is treated as secret, never less).
    """
    scheme, sep, body = dsn.partition("://")
    if not sep:
        return "", "", None, dsn
    userinfo, at, hostpart = body.rpartition("@")
    if not at:
        return scheme, "", None, body
    user, colon, password = userinfo.partition(":")
    return scheme, user, password if colon else None, hostpart


def _secret_query_values(hostpart: str) -> list[str]:
    query = hostpart.partition("?")[2]
    return [kv.split("=", 1)[1] for kv in query.split("&")
            if "=" in kv and _is_secret_query_key(kv)]


def redact_dsn(dsn: str) -> str:
    """The DSN with its password and any secret query parameter replaced by ***."""
    scheme, user, password, hostpart = _split_dsn(dsn)
    if not scheme:
        return "<not a DSN>"
    for value in _secret_query_values(hostpart):
        if value:
            hostpart = hostpart.replace(f"={value}", "=***")
    userinfo = f"{user}:***@" if password is not None else (f"{user}@" if user else "")
    return f"{scheme}://{userinfo}{hostpart}"


def _is_secret_query_key(kv: str) -> bool:
    key = kv.split("=", 1)[0].lower()
    return "password" in key or "secret" in key


@dataclass(frozen=True)
class ConnectionSettings:
    """What the driver needs to connect. Secrets are wrapped; see ``Secret``."""

    dsn: Secret | None = None
    instance: str | None = None
    secret_key: Secret | None = None
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: Secret | None = None
    branch: str | None = None
    tls_ca: str | None = None
    tls_ca_file: str | None = None
    tls_security: str | None = None
    from_environment: bool = False  # nothing in secrets; the driver reads GEL_*/EDGEDB_*
    # Secrets the driver reads from the environment: kept only to scrub them from outputs.
    environment_secrets: tuple[Secret, ...] = ()

    @property
    def configured(self) -> bool:
        return self.from_environment or any(
            getattr(self, name) for name in ("dsn", "instance", "host", "port")
        )

    def driver_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``gel.create_async_client`` (secrets revealed here only)."""
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in ("from_environment", "environment_secrets") or value is None:
                continue
            if f.name == "instance":
                # The driver takes an instance name through its dsn parameter.
                kwargs.setdefault("dsn", value)
                continue
            kwargs[f.name] = value.reveal() if isinstance(value, Secret) else value
        return kwargs

    def summary(self) -> dict[str, str]:
        """A display-safe description: never contains a secret."""
        out: dict[str, str] = {}
        if self.dsn:
            out["dsn"] = redact_dsn(self.dsn.reveal())
        for name in ("instance", "host", "port", "user", "branch", "tls_security", "tls_ca_file"):
            value = getattr(self, name)
            if value is not None:
                out[name] = str(value)
        if self.tls_ca:
            out["tls_ca"] = "(inline certificate)"
        if self.password:
            out["password"] = "***"
        if self.secret_key:
            out["secret_key"] = "***"
        if self.from_environment:
            out["source"] = "GEL_*/EDGEDB_* environment"
        return out

    def identity(self) -> str:
        """Who connects where: the same text for two settings exactly when they reach the same
        server and branch as the same user with the same credentials. The server, branch and
        user are kept as ``summary()`` says them; the secrets only as a keyed hash (HMAC with a
        key drawn per process), so the text can be a cache key and never reveals a secret."""
        secret_part = "\0".join(s.reveal() for s in (self.password, self.secret_key, self.dsn,
                                                      *self.environment_secrets) if s)
        digest = hmac.new(_IDENTITY_KEY, secret_part.encode(), hashlib.sha256).hexdigest()
        return repr(sorted(self.summary().items())) + f"|secrets:{digest}"

    def address(self) -> str | None:
        """``host:port`` of the server when the settings say it (from host/port, or the DSN's
        host part, which never holds its userinfo); None for an instance name or the
        environment. The driver's defaults fill a missing host or port."""
        if self.host or self.port:
            host = self.host or "localhost"
            host = f"[{host}]" if ":" in host else host
            return f"{host}:{self.port or 5656}"
        if not self.dsn:
            return None
        scheme, _, _, hostpart = _split_dsn(self.dsn.reveal())
        where = hostpart.split("/", 1)[0].split("?", 1)[0]
        if not scheme or not where:
            return None
        return where if where.rpartition(":")[2].isdigit() and not where.endswith("]") \
            else f"{where}:5656"

    def summary_shown(self, mode: ShowConnection) -> dict[str, str]:
        """What the page may say about the server: ``full`` = ``summary()``, ``host`` = the
        host (or instance name) alone, ``none`` = nothing. Never a secret in any mode."""
        if mode == "full":
            return self.summary()
        if mode == "none":
            return {}
        if self.instance:
            return {"instance": self.instance}
        address = self.address()
        if address is None:
            return {}
        return {"host": address.rpartition(":")[0].removeprefix("[").removesuffix("]")}

    def secret_values(self) -> tuple[str, ...]:
        """Every raw secret string, so outputs can be scanned and scrubbed."""
        values: list[str] = []
        for secret in (self.password, self.secret_key, *self.environment_secrets):
            if secret:
                values.append(secret.reveal())
        dsns = [s.reveal() for s in (self.dsn, *self.environment_secrets) if s]
        for raw in dsns:
            if "://" in raw:
                values.extend(_dsn_secrets(raw))
        return tuple(v for v in values if len(v) >= 3)


def _dsn_secrets(dsn: str) -> list[str]:
    """The password and secret query parameters inside a DSN."""
    _, _, password, hostpart = _split_dsn(dsn)
    return [v for v in [password, *_secret_query_values(hostpart)] if v]


ShowConnection = Literal["full", "host", "none"]
FixedGlobalValue = str | int | float | bool
# Names a global may never have in the console's settings: the server's config settings (the
# console never changes config, least of all one that widens access), in their 5.8 spelling
# (recorded: ../shared/gel-transcripts/, the driver's "acceptable" list).
CONFIG_NAMES = frozenset({
    "apply_access_policies", "allow_user_specified_id", "allow_bare_ddl", "allow_dml_in_functions",
    "query_execution_timeout", "session_idle_transaction_timeout", "query_cache_mode",
    "cors_allow_origins", "auto_rebuild_query_cache", "auto_rebuild_query_cache_timeout",
    "__internal_testmode", "__internal_no_apply_query_rewrites", "__internal_query_reflschema",
})
_GLOBAL_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)*")
# A branch name as the settings accept it (and as stored history names one): 1 to 63
# printable characters.
BRANCH_NAME_RE = re.compile(r"[^\x00-\x1f\x7f]{1,63}")


def qualified_global_name(name: str, key: str) -> str:
    """``name`` as the schema names it (``tenant`` -> ``default::tenant``). Raises
    ``SettingsError`` for a name that is not a global's, or that names a config setting or a
    standard module's global (the console never sets those)."""
    text = name.strip()
    if not _GLOBAL_NAME_RE.fullmatch(text):
        raise SettingsError(f"[connections.gel] {key}: {text!r} is not a global's name; write "
                            "it as module::name (default::current_user) or name.")
    qualified = text if "::" in text else f"default::{text}"
    module, _, short = qualified.rpartition("::")
    if short in CONFIG_NAMES or module.split("::")[0] in ("cfg", "sys", "std", "schema"):
        raise SettingsError(
            f"[connections.gel] {key}: {text!r} is a server setting or a standard module's "
            "global, not one of your schema's globals. The console never changes server "
            "configuration (apply_access_policies and the like): set it on the server.")
    return qualified
SHOW_CONNECTION_MODES: tuple[ShowConnection, ...] = ("full", "host", "none")


@dataclass(frozen=True)
class ConsoleSettings:
    """Everything the console needs, read once per rerun by the page."""

    connection: ConnectionSettings = field(default_factory=ConnectionSettings)
    connect_wait_s: float = 5.0  # driver's wait_until_available: a wrong host fails fast
    connect_timeout_s: float = 5.0
    query_timeout_s: float = 60.0
    row_limit: int = 100  # rows rendered per result
    max_kept_rows: int = 100_000  # rows a session keeps per result (downloads use these)
    max_kept_results: int = 20  # results a session keeps in memory; older runs keep metadata
    # Estimated data size a session keeps per result (bytes); a larger result keeps only its
    # metadata. 20 MB: what max_kept_rows rows of a few short columns come to (~200 B a row),
    # so the row bound still decides for ordinary results and this one stops the single
    # huge row (array_agg, a long string) the row bound cannot.
    max_kept_bytes: int = 20_000_000
    history_size: int = 100
    idle_threshold_s: float = 300.0
    max_running: int = 8  # concurrent queries per session; more queue
    # Sessions the process serves at once: each holds a loop thread and a client pool of at
    # most max_running + 1 connections. A new session past it gets a "try again" message.
    max_sessions: int = 100
    # How long a page run streams results into the page as queries finish; what still runs
    # after it is picked up by a polling fragment (0: poll from the start).
    stream_window_s: float = 30.0
    max_batch: int = 20  # queries per submission
    max_queued: int = 40  # queries a session may have waiting for a free slot; more are refused
    max_query_chars: int = 100_000
    max_args_chars: int = 65_536
    # The data explorer: objects per page (``explorer_rows_per_page`` bounds it by
    # max_kept_rows), and how long its count may take on the server before the page says
    # "not counted" (a 10M-object count is a scan).
    explorer_page_size: int = 50
    explorer_count_budget_s: float = 5.0
    read_only: bool = True
    fake_client: bool = False  # test-only: wire in ecc.fake.client.FakeClient
    allowed_emails: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    # What the sidebar says about the server; None = by sign-in (see ``shown_connection``).
    show_connection: ShowConnection | None = None
    # Branches (ecc/branches/policy.py). ``pinned_branch``: every session runs there and users
    # see it but cannot change it (it replaces the connection's branch). ``allowed_branches``:
    # the branches users may pick ("*": every branch the server lists). Neither: the session
    # stays on the connection's branch.
    pinned_branch: str | None = None
    allowed_branches: tuple[str, ...] = ()
    # Clients a session keeps for branches other than its default one, least recently used
    # closed first: each is a pool of at most max_running + 1 connections.
    max_branch_clients: int = 2
    # Globals (ecc/branches/policy.py). ``fixed_globals``: (qualified name, value) the operator
    # applies to every session, never editable. ``user_globals``: qualified names users may
    # set. Default: none (globals can decide what access policies let through).
    fixed_globals: tuple[tuple[str, FixedGlobalValue], ...] = ()
    user_globals: tuple[str, ...] = ()
    # The branch this session's page runs on (the picker's, checked by the policy): None for
    # the connection's own. Set by the page per session, never read from secrets; the
    # process-wide caches keyed by the connection (descriptions, schema models) include it.
    session_branch: str | None = None

    # The analyst's memory (ecc/library): history and saved queries kept in the browser's
    # localStorage (per origin, per signed-in user), bounded by entries and by characters of
    # stored JSON (localStorage quotas are ~5 million characters per origin, shared by both).
    browser_memory: bool = True
    browser_history_size: int = 1_000
    browser_history_chars: int = 2_000_000
    saved_queries_size: int = 500
    saved_queries_chars: int = 1_000_000
    # A folder of .edgeql files (relative to the app's directory, or absolute) listed read-only
    # as the team's query library; None: no library.
    team_library: str | None = None

    @property
    def explorer_rows_per_page(self) -> int:
        """A page is a result the session keeps: never more rows than max_kept_rows."""
        return min(self.explorer_page_size, self.max_kept_rows)

    @property
    def secret_values(self) -> tuple[str, ...]:
        return self.connection.secret_values()

    def shown_connection(self, sign_in_required: bool) -> ShowConnection:
        """A public console does not advertise its database: by default nothing about the
        server without sign-in, the host with it."""
        if self.show_connection is not None:
            return self.show_connection
        return "host" if sign_in_required else "none"

    def page_wait_s(self, work: PageWork) -> float:
        """The one bound on how long the page waits for a call on the session's loop that
        is not a user's query (those have ``query_timeout_s``): a connection from the pool
        (``connect_wait_s``), a new connection where the call may open one
        (``connect_timeout_s``), then the work itself."""
        if work == "describe":  # on the pool's spare connection (max_running + 1)
            return self.connect_wait_s + DESCRIBE_WORK_S
        if work == "probe":  # Test connection: ``select 1``
            return self.connect_wait_s + self.connect_timeout_s + PROBE_WORK_S
        return self.connect_wait_s + self.connect_timeout_s + \
            min(self.query_timeout_s, SCHEMA_WORK_MAX_S)


PageWork = Literal["describe", "probe", "schema"]  # what the page waits for (page_wait_s)
DESCRIBE_WORK_S = 3.0  # a query's description (typed inputs, Run in typed mode)
PROBE_WORK_S = 2.0  # Test connection's ``select 1``
SCHEMA_WORK_MAX_S = 30.0  # a schema read: the query timeout, at most this


class SettingsError(ValueError):
    """A setting has the wrong type or value. The message names the key and the fix."""


_INT_SETTINGS = {
    "row_limit": (1, 10_000),
    "max_kept_rows": (1, 5_000_000),
    "max_kept_results": (1, 1000),
    "max_kept_bytes": (1_000, 2_000_000_000),
    "max_sessions": (1, 100_000),
    "history_size": (1, 10_000),
    "max_running": (1, 256),
    "max_batch": (1, 100),
    "max_queued": (1, 10_000),
    "max_query_chars": (10, 10_000_000),
    "max_args_chars": (10, 10_000_000),
    "max_branch_clients": (1, 16),
    "explorer_page_size": (1, 1000),
    "browser_history_size": (0, 10_000),
    "browser_history_chars": (1_000, 4_000_000),
    "saved_queries_size": (0, 5_000),
    "saved_queries_chars": (1_000, 4_000_000),
}
_FLOAT_SETTINGS = {
    "connect_wait_s": (0.0, 300.0),
    "connect_timeout_s": (0.1, 300.0),
    "query_timeout_s": (0.1, 86_400.0),
    "idle_threshold_s": (1.0, 86_400.0),
    "stream_window_s": (0.0, 3600.0),
    "explorer_count_budget_s": (0.1, 3600.0),
}
_BOOL_SETTINGS = ("read_only", "fake_client", "browser_memory")
_LIST_SETTINGS = ("allowed_emails", "allowed_domains")
_BRANCH_AND_GLOBAL_SETTINGS = ("pinned_branch", "allowed_branches", "fixed_globals",
                               "user_globals")
_STR_SETTINGS = ("team_library",)
# Both kinds of browser memory share one origin's localStorage (about 5 million characters in
# Chromium and Firefox); together they stay under it, with room for the origin's other keys.
BROWSER_MEMORY_MAX_CHARS = 4_000_000
KNOWN_KEYS = frozenset(
    (*CONNECTION_KEYS, *_INT_SETTINGS, *_FLOAT_SETTINGS, *_BOOL_SETTINGS, *_LIST_SETTINGS,
     *_STR_SETTINGS, *_BRANCH_AND_GLOBAL_SETTINGS, "show_connection")
)


def load_settings(
    section: Mapping[str, Any] | None, environ: Mapping[str, str]
) -> ConsoleSettings:
    """Build settings from the ``[connections.gel]`` section and the process environment.

    Raises ``SettingsError`` naming the offending key; unknown keys are errors too, so a typo
    like ``quey_timeout_s`` does not silently fall back to a default.
    """
    section = dict(section or {})
    unknown = sorted(set(section) - KNOWN_KEYS)
    if unknown:
        raise SettingsError(
            f"Unknown setting(s) in [connections.gel]: {', '.join(unknown)}. "
            f"Known settings: {', '.join(sorted(KNOWN_KEYS))}."
        )
    console: dict[str, Any] = {}
    for key, (lo, hi) in _INT_SETTINGS.items():
        if key in section:
            console[key] = _number(key, section[key], int, lo, hi)
    for key, (flo, fhi) in _FLOAT_SETTINGS.items():
        if key in section:
            console[key] = _number(key, section[key], float, flo, fhi)
    for key in _BOOL_SETTINGS:
        if key in section:
            if not isinstance(section[key], bool):
                raise SettingsError(f"[connections.gel] {key} must be true or false.")
            console[key] = section[key]
    for key in _LIST_SETTINGS:
        if key in section:
            value = section[key]
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise SettingsError(f"[connections.gel] {key} must be a list of strings.")
            console[key] = tuple(v.strip().lower() for v in value if v.strip())
    for key in _STR_SETTINGS:
        if key in section and section[key] not in (None, ""):
            if not isinstance(section[key], str):
                raise SettingsError(f"[connections.gel] {key} must be a string (a folder).")
            console[key] = section[key]
    if "show_connection" in section:
        if section["show_connection"] not in SHOW_CONNECTION_MODES:
            raise SettingsError(
                '[connections.gel] show_connection must be "full", "host" or "none" (what the '
                "sidebar shows about the server: everything but secrets, the host, nothing)."
            )
        console["show_connection"] = section["show_connection"]
    console.update(_branches_and_globals(section))
    if "max_queued" not in console:  # by default a full submission can always wait
        console["max_queued"] = max(ConsoleSettings.max_queued,
                                    console.get("max_batch", ConsoleSettings.max_batch))
    connection = _connection(section, environ)
    if console.get("pinned_branch"):
        # Every session runs on the pinned branch: it is the connection's branch.
        connection = dataclasses.replace(connection, branch=console["pinned_branch"])
    settings = ConsoleSettings(connection=connection, **console)
    if settings.max_queued < settings.max_batch:
        raise SettingsError(
            f"[connections.gel] max_queued ({settings.max_queued}) must be at least max_batch "
            f"({settings.max_batch}): otherwise a full submission could never be queued."
        )
    memory_chars = settings.browser_history_chars + settings.saved_queries_chars
    if memory_chars > BROWSER_MEMORY_MAX_CHARS:
        raise SettingsError(
            f"[connections.gel] browser_history_chars + saved_queries_chars is "
            f"{memory_chars:,}; together they must stay at most {BROWSER_MEMORY_MAX_CHARS:,} "
            "characters (a browser keeps about 5 million per site)."
        )
    return settings


def _branch_name(key: str, value: Any) -> str:
    if not isinstance(value, str) or not BRANCH_NAME_RE.fullmatch(value.strip()):
        raise SettingsError(f"[connections.gel] {key}: branch names are strings of 1 to 63 "
                            "printable characters.")
    return value.strip()


def _string_list(key: str, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise SettingsError(f"[connections.gel] {key} must be a list of strings.")
    return [v for v in value if v.strip()]


def _branches_and_globals(section: Mapping[str, Any]) -> dict[str, Any]:
    """The branch and globals settings, checked (see ``ConsoleSettings``)."""
    out: dict[str, Any] = {}
    if section.get("pinned_branch") not in (None, ""):
        out["pinned_branch"] = _branch_name("pinned_branch", section["pinned_branch"])
    if "allowed_branches" in section:
        names = _string_list("allowed_branches", section["allowed_branches"])
        out["allowed_branches"] = tuple(dict.fromkeys(
            "*" if n.strip() == "*" else _branch_name("allowed_branches", n) for n in names))
    if out.get("pinned_branch") and out.get("allowed_branches"):
        raise SettingsError("[connections.gel] pinned_branch and allowed_branches exclude each "
                            "other: a pinned branch cannot be changed. Keep one of them.")
    fixed: dict[str, FixedGlobalValue] = {}
    raw_fixed = section.get("fixed_globals", {})
    if not isinstance(raw_fixed, Mapping):
        raise SettingsError('[connections.gel] fixed_globals must be a table: fixed_globals = '
                            '{ "default::tenant" = "acme" }.')
    for name, value in raw_fixed.items():
        qualified = qualified_global_name(str(name), "fixed_globals")
        if not isinstance(value, str | int | float | bool):
            raise SettingsError(f"[connections.gel] fixed_globals: {qualified} must be a "
                                "string, number or true/false (written as it would be typed "
                                "into the global's input).")
        fixed[qualified] = value
    if fixed:
        out["fixed_globals"] = tuple(sorted(fixed.items()))
    if "user_globals" in section:
        user = tuple(dict.fromkeys(
            qualified_global_name(n, "user_globals")
            for n in _string_list("user_globals", section["user_globals"])))
        both = sorted(set(user) & set(fixed))
        if both:
            raise SettingsError(f"[connections.gel] {', '.join(both)} is both fixed "
                                "(fixed_globals) and settable by users (user_globals): a fixed "
                                "global is never editable. Keep it in one of them.")
        out["user_globals"] = user
    return out


def _number(key: str, value: Any, kind: type, lo: float, hi: float) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SettingsError(
            f"[connections.gel] {key} must be a number, got {type(value).__name__}."
        )
    if kind is int and not isinstance(value, int):
        raise SettingsError(f"[connections.gel] {key} must be a whole number.")
    if not lo <= value <= hi:
        raise SettingsError(f"[connections.gel] {key} must be between {lo} and {hi}.")
    return kind(value)


def _connection(section: Mapping[str, Any], environ: Mapping[str, str]) -> ConnectionSettings:
    values: dict[str, Any] = {}
    for key in CONNECTION_KEYS:
        if key not in section or section[key] in (None, ""):
            continue
        value = section[key]
        if key == "port":
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise SettingsError("[connections.gel] port must be a number like 5656.")
            try:
                value = int(value)
            except ValueError:
                raise SettingsError("[connections.gel] port must be a number like 5656.") from None
            if not 1 <= value <= 65535:
                raise SettingsError("[connections.gel] port must be between 1 and 65535.")
        elif not isinstance(value, str):
            raise SettingsError(f"[connections.gel] {key} must be a string.")
        if key == "database":
            key = "branch"  # EdgeDB < 5 called branches databases; the driver accepts branch.
        values[key] = Secret(value) if key in SECRET_KEYS else value
    env_secrets = tuple(
        Secret(environ[prefix + name])
        for prefix in DRIVER_ENV_PREFIXES
        for name in ("PASSWORD", "SECRET_KEY", "DSN")
        if environ.get(prefix + name)
    )
    if not values:
        from_env = any(
            environ.get(prefix + name)
            for prefix in DRIVER_ENV_PREFIXES
            for name in DRIVER_ENV_NAMES
        )
        return ConnectionSettings(from_environment=from_env, environment_secrets=env_secrets)
    return ConnectionSettings(**values, environment_secrets=env_secrets)
