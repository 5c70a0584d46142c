"""The one error view model: every failure the console can meet becomes an ``ErrorView``.

Kinds, and where they come from::

    input        our own checks before anything is sent (argument language, parameters,
                 mixed positional/named, size limits, read-only refusal)
    query        gel.errors.QueryError family (syntax, reference, type, timeout on the server),
                 and CapabilityError (statements the driver refuses to send)
    execution    gel.errors.ExecutionError family (invalid values, constraints, transactions)
    result       the driver's result checks (NoDataError, ResultCardinalityMismatchError, ...)
    arguments    gel.errors.QueryArgumentError family (the driver refused the arguments)
    connection   ClientConnectionError family, AuthenticationError, UnknownDatabaseError,
                 and our own connect-wait expiry. A failed connect (refused, unreachable,
                 timed out, untrusted TLS) is said in the console's words first (which server,
                 how long, what to check); the driver's multi-line text goes to details
    timeout      the console's client-side bound expired, or the server's
                 query_execution_timeout (QueryTimeoutError)
    cancelled    the user cancelled the query
    capacity     the console is at a process-wide limit (max_sessions): try again later
    internal     anything else (a bug in the console): message only, never a traceback

Invariants: ``ErrorView`` never carries the server's internal context
(``get_server_context()``), and every text in it has the configured secrets scrubbed. With
``show_connection = "none"`` (``ServerPrivacy``) no text of a connection, timeout or internal
error names the server's host, port or socket.
The driver's private attributes (``_line``, ``_hint`` ...) are read here and nowhere else.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal, overload

import gel
import gel.errors

ErrorKind = Literal[
    "input",
    "query",
    "execution",
    "result",
    "arguments",
    "connection",
    "timeout",
    "cancelled",
    "capacity",
    "internal",
]


@dataclass(frozen=True)
class ErrorView:
    kind: ErrorKind
    title: str  # the error class or our own short name: "EdgeQLSyntaxError", "Invalid argument"
    message: str
    hint: str | None = None
    details: str | None = None
    line: int | None = None  # 1-based, in the query text
    column: int | None = None
    excerpt: str | None = None  # the failing line(s) with a caret
    retryable: bool = False
    subject: str | None = None  # what failed: a query name, a parameter, a setting

    def scrubbed(self, secrets: Iterable[str]) -> ErrorView:
        """The same view with every secret value replaced by ***."""
        secrets = [s for s in secrets if s]
        if not secrets:
            return self
        return self.rewritten(lambda text: scrub(text, secrets), keep_title=True)

    def texts(self) -> list[str]:
        """Every text of the view a reader sees (those not empty)."""
        return [text for name in _TEXT_FIELDS if (text := getattr(self, name))]

    def rewritten(self, change: Callable[[str], str], *, keep_title: bool = False) -> ErrorView:
        """The same view with ``change`` applied to each of its texts (not empty ones; not the
        title when ``keep_title``)."""
        changes: dict[str, Any] = {
            name: change(text)
            for name in _TEXT_FIELDS[1 if keep_title else 0:]
            if (text := getattr(self, name))
        }
        return replace(self, **changes)


# The texts of an ErrorView, the title first.
_TEXT_FIELDS = ("title", "message", "hint", "details", "excerpt", "subject")


class ConsoleInputError(ValueError):
    """Input the console refuses before sending anything. Carries its own view."""

    def __init__(self, view: ErrorView) -> None:
        super().__init__(view.message)
        self.view = view


def input_error(
    message: str,
    *,
    title: str = "Invalid input",
    subject: str | None = None,
    hint: str | None = None,
    excerpt: str | None = None,
    line: int | None = None,
    column: int | None = None,
) -> ConsoleInputError:
    return ConsoleInputError(
        ErrorView(
            kind="input",
            title=title,
            message=message,
            subject=subject,
            hint=hint,
            excerpt=excerpt,
            line=line,
            column=column,
        )
    )


@overload
def scrub(text: str, secrets: Iterable[str]) -> str: ...
@overload
def scrub(text: None, secrets: Iterable[str]) -> None: ...
@overload
def scrub(text: str | None, secrets: Iterable[str]) -> str | None: ...
def scrub(text: str | None, secrets: Iterable[str]) -> str | None:
    """``text`` with every secret replaced by ***."""
    if text is None:
        return None
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


# Order matters: the first matching class wins, so subclasses come before their bases.
_KIND_BY_CLASS: tuple[tuple[type[BaseException], ErrorKind], ...] = (
    (gel.errors.QueryTimeoutError, "timeout"),
    (gel.errors.UnknownDatabaseError, "connection"),
    (gel.errors.AuthenticationError, "connection"),
    (gel.errors.ClientConnectionError, "connection"),
    (gel.errors.AvailabilityError, "connection"),
    (gel.errors.QueryArgumentError, "arguments"),
    (gel.errors.NoDataError, "result"),
    (gel.errors.ResultCardinalityMismatchError, "result"),
    (gel.errors.InterfaceError, "result"),
    (gel.errors.QueryError, "query"),
    # The driver refuses session-config and transaction-control statements this way: the
    # query's fault, not the console's.
    (gel.errors.CapabilityError, "query"),
    (gel.errors.ExecutionError, "execution"),
    (gel.errors.EdgeDBError, "internal"),
)

_HINT_BY_KIND: dict[ErrorKind, str] = {
    "connection": (
        "Check host, port, user, password, branch and TLS settings in [connections.gel] "
        "(or GEL_DSN), then use 'Test connection' in the sidebar."
    ),
    "timeout": "Narrow the query (filter, limit) or raise query_timeout_s in [connections.gel].",
}


def error_view(exc: BaseException, *, query: str | None = None, subject: str | None = None,
               timeout_s: float | None = None, server: str | None = None,
               connect_wait_s: float | None = None) -> ErrorView:
    """Map any exception to its view. Unknown exceptions become ``internal``.

    ``server`` ("host:port" from the connection settings, never the DSN) and
    ``connect_wait_s`` word a failed connection when the driver's text does not say them."""
    if isinstance(exc, ConsoleInputError):
        return replace(exc.view, subject=exc.view.subject or subject)
    if isinstance(exc, asyncio.CancelledError):
        return ErrorView(kind="cancelled", title="Cancelled", message="The query was cancelled.",
                         subject=subject)
    if isinstance(exc, TimeoutError):
        bound = f" after {timeout_s:g} s" if timeout_s is not None else ""
        return ErrorView(
            kind="timeout",
            title="Timed out",
            message=f"The query did not finish{bound}; it was cancelled.",
            hint=_HINT_BY_KIND["timeout"],
            retryable=True,
            subject=subject,
        )
    if isinstance(exc, _CONNECT_FAILURES):
        return _connect_failure_view(exc, subject=subject, server=server,
                                     connect_wait_s=connect_wait_s)
    if isinstance(exc, gel.errors.EdgeDBError):
        return _gel_view(exc, query=query, subject=subject)
    return ErrorView(
        kind="internal",
        title=type(exc).__name__,
        message=str(exc) or type(exc).__name__,
        subject=subject,
    )


def _gel_view(exc: gel.errors.EdgeDBError, *, query: str | None, subject: str | None) -> ErrorView:
    kind: ErrorKind = "internal"
    for cls, mapped in _KIND_BY_CLASS:
        if isinstance(exc, cls):
            kind = mapped
            break
    message = str(exc.args[0]) if exc.args else type(exc).__name__
    line = _positive(getattr(exc, "_line", -1))
    column = _positive(getattr(exc, "_col", -1))
    start = _non_negative(getattr(exc, "_position_start", -1))
    end = _non_negative(getattr(exc, "_position_end", -1))
    hint = getattr(exc, "_hint", None) or _HINT_BY_KIND.get(kind)
    details = getattr(exc, "_details", None)
    excerpt = None
    if query is not None and start is not None:
        excerpt = caret_excerpt(query, start, end if end is not None else start + 1)
    return ErrorView(
        kind=kind,
        title=type(exc).__name__,
        message=message,
        hint=hint,
        details=details,
        line=line,
        column=column,
        excerpt=excerpt,
        retryable=exc.has_tag(gel.errors.SHOULD_RETRY),
        subject=subject,
    )


# Connecting failed: the server was never reached (refused, unreachable, timed out, TLS).
_CONNECT_FAILURES = (
    gel.errors.ClientConnectionFailedError,
    gel.errors.ClientConnectionTimeoutError,
)
# The driver's wording (gel/con_utils.py render_client_no_connection_error, base_client.py
# BaseConnection.connect): "... on host 'h' and accepting \n\tTCP/IP connections on port 5656?",
# "connections on Unix domain socket '/p'?", "connecting to ('h', 5656) failed in 5 sec".
_HOST_PORT = re.compile(r"on host '(?P<host>[^']*)' and accepting\s+TCP/IP connections on port "
                        r"(?P<port>\d+)")
_ADDR_TUPLE = re.compile(r"\('(?P<host>[^']*)', (?P<port>\d+)\)")
_UNIX_SOCKET = re.compile(r"Unix domain socket '(?P<path>[^']*)'")
_WAITED = re.compile(r"(?:After \d+ attempts in|failed in) (?P<s>\d+(?:\.\d+)?) sec")
_TLS = ("CERTIFICATE_VERIFY_FAILED", "[SSL", "certificate verify failed")


def host_port(host: str, port: int | str) -> str:
    """``host:port``, with an IPv6 address in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _where_from_text(text: str) -> str | None:
    if match := _HOST_PORT.search(text) or _ADDR_TUPLE.search(text):
        return host_port(match["host"], match["port"])
    if match := _UNIX_SOCKET.search(text):
        return f"unix socket {match['path']}"
    return None


def _connect_failure_view(exc: gel.errors.EdgeDBError, *, subject: str | None,
                          server: str | None, connect_wait_s: float | None) -> ErrorView:
    """A failed connection in the console's words first; the driver's text goes to details.

    The address the driver tried (its text) wins over the settings' (a DSN may be resolved
    differently); how long it waited likewise."""
    driver_text = str(exc.args[0]) if exc.args else ""
    where = _where_from_text(driver_text) or server
    at = f" at {where}" if where else ""
    waited = _WAITED.search(driver_text)
    seconds = float(waited["s"]) if waited else connect_wait_s
    if any(marker in driver_text for marker in _TLS):
        message = (f"The server{at} answered, but its TLS certificate was not trusted. Check "
                   "tls_security and tls_ca_file (or tls_ca) in [connections.gel].")
    else:
        # "within 0 s" says nothing: a first attempt refused at once is just "did not answer".
        within = f" within {seconds:g} s" if seconds is not None and seconds >= 0.05 else ""
        message = (f"The server{at} did not answer{within}. Check that it runs and that the "
                   "address is right.")
    details = "\n".join(line.strip() for line in driver_text.splitlines() if line.strip())
    return ErrorView(
        kind="connection",
        title=type(exc).__name__,
        message=message,
        hint=getattr(exc, "_hint", None) or _HINT_BY_KIND["connection"],
        details=details or None,
        retryable=exc.has_tag(gel.errors.SHOULD_RETRY),
        subject=subject,
    )


# --- show_connection = "none": errors say nothing about where the server is ------------------
HIDDEN = "***"
_HOST_IN_TEXT = (_HOST_PORT, _ADDR_TUPLE)
# Where a port stands once its host is hidden (the driver's and the console's wordings).
_PORT_AFTER_HIDDEN = (
    (re.compile(r"\('\*\*\*', \d+\)"), f"('{HIDDEN}')"),
    (re.compile(r"(?<=\*\*\*):\d+\b"), ""),
    (re.compile(r"\bport \d+"), f"port {HIDDEN}"),
)
_MAY_NAME_THE_SERVER: frozenset[ErrorKind] = frozenset({"connection", "timeout", "internal"})
_OUR_SERVER_AT = re.compile(r"The server at (?:unix socket )?\*\*\* ")


@dataclass(frozen=True)
class ServerPrivacy:
    """Whether errors may say where the server is (``show_connection``): ``full`` and
    ``host`` allow the host and port; ``none`` hides them from every text of the view.

    ``names``: the hosts, addresses and instance name the settings know; what the driver's
    own wording names (``host 'h' ... port p``, ``('h', p)``, a Unix socket) is found in the
    text itself."""

    hidden: bool = False
    names: tuple[str, ...] = ()

    def apply(self, view: ErrorView) -> ErrorView:
        # Only failures of the connection (or unknown ones) can name the server; a query's
        # own error names what the query names.
        if not self.hidden or view.kind not in _MAY_NAME_THE_SERVER:
            return view
        names = {n for n in self.names if n}
        for text in view.texts():
            names.update(_server_names_in(text))
        return view.rewritten(lambda text: _hide_names(text, names))


def _server_names_in(text: str) -> set[str]:
    names: set[str] = set()
    for pattern in _HOST_IN_TEXT:
        for match in pattern.finditer(text):
            names.add(match["host"])
    names.update(match["path"] for match in _UNIX_SOCKET.finditer(text))
    return names


def _hide_names(text: str, names: Iterable[str]) -> str:
    # Longest first: "db.example.com:5757" before "db.example.com".
    for name in sorted(names, key=len, reverse=True):
        bare = name.removeprefix("[").removesuffix("]")
        for form in dict.fromkeys((f"[{bare}]", name, bare)):  # bracketed IPv6 first
            text = re.sub(rf"(?<![\w.\-]){re.escape(form)}(?![\w\-])", HIDDEN, text)
    for pattern, replacement in _PORT_AFTER_HIDDEN:
        text = pattern.sub(replacement, text)
    return _OUR_SERVER_AT.sub("The server ", text)


def caret_excerpt(text: str, start: int, end: int) -> str:
    """The line holding ``start`` with carets under ``start..end`` (clipped to that line)."""
    start = max(0, min(start, len(text)))
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    if line_end == -1:
        line_end = len(text)
    line_no = text.count("\n", 0, start) + 1
    source = text[line_start:line_end]
    width = max(1, min(end, line_end) - start)
    gutter = f"{line_no} | "
    return f"{gutter}{source}\n{' ' * len(gutter)}{' ' * (start - line_start)}{'^' * width}"


def _positive(value: object) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


def _non_negative(value: object) -> int | None:
    return value if isinstance(value, int) and value >= 0 else None
