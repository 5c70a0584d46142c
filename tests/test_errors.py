"""The one error view model: every failure becomes an ``ErrorView`` with a kind and a title."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import re
from pathlib import Path
from typing import get_args

import gel
import gel.errors
import pytest
from gel.errors import _base as fields

from ecc.driver.errors import (
    ConsoleInputError,
    ErrorKind,
    ErrorView,
    ServerPrivacy,
    caret_excerpt,
    error_view,
    input_error,
)
from ecc.fake.client import server_error

TRANSCRIPTS = (
    Path(__file__).resolve().parents[2] / "shared" / "gel-transcripts" / "transcripts.json"
)
KINDS = set(get_args(ErrorKind))
CONNECT_FAILURES = (gel.errors.ClientConnectionFailedError, gel.errors.ClientConnectionTimeoutError)
ALL_GEL_ERRORS = sorted(
    (
        cls
        for cls in vars(gel.errors).values()
        if inspect.isclass(cls) and issubclass(cls, gel.errors.EdgeDBError)
    ),
    key=lambda cls: cls.__name__,
)


def transcript_behaviour(label: str) -> dict:
    return json.loads(TRANSCRIPTS.read_text())["behaviours"][label]


def recorded_error(label: str) -> gel.errors.EdgeDBError:
    """The error a real server's driver raised, rebuilt as the driver builds it (its class
    called with the rendered message)."""
    recorded = transcript_behaviour(label)["error"]
    err = getattr(gel.errors, recorded["class"])(recorded["message"])
    assert str(err) == recorded["str"]
    return err


def transcript_case(label: str) -> dict:
    cases = json.loads(TRANSCRIPTS.read_text())["cases"]
    return next(case for case in cases if case["label"] == label)


def text_fields(view: ErrorView) -> list[str]:
    return [v for v in dataclasses.asdict(view).values() if isinstance(v, str)]


# --- every driver error class ---------------------------------------------------------------
def test_the_driver_exports_many_error_classes() -> None:
    assert len(ALL_GEL_ERRORS) > 80  # the iteration below really covers the tree


@pytest.mark.parametrize("cls", ALL_GEL_ERRORS, ids=lambda cls: cls.__name__)
def test_every_gel_error_class_has_a_view(cls: type[gel.errors.EdgeDBError]) -> None:
    view = error_view(cls("something went wrong"))
    assert view.kind in KINDS
    assert view.title == cls.__name__
    if issubclass(cls, CONNECT_FAILURES):  # the console's words first, the driver's in details
        assert view.message.startswith("The server did not answer")
        assert view.details == "something went wrong"
    else:
        assert view.message == "something went wrong"


@pytest.mark.parametrize("cls", ALL_GEL_ERRORS, ids=lambda cls: cls.__name__)
def test_retryable_follows_the_should_retry_tag(cls: type[gel.errors.EdgeDBError]) -> None:
    err = cls("m")
    assert error_view(err).retryable is err.has_tag(gel.errors.SHOULD_RETRY)


@pytest.mark.parametrize(
    ("cls", "kind"),
    [
        (gel.errors.EdgeQLSyntaxError, "query"),
        (gel.errors.InvalidReferenceError, "query"),
        (gel.errors.QueryError, "query"),
        (gel.errors.QueryTimeoutError, "timeout"),
        (gel.errors.ClientConnectionFailedTemporarilyError, "connection"),
        (gel.errors.ClientConnectionFailedError, "connection"),
        (gel.errors.AuthenticationError, "connection"),
        (gel.errors.UnknownDatabaseError, "connection"),
        (gel.errors.NoDataError, "result"),
        (gel.errors.ResultCardinalityMismatchError, "result"),
        (gel.errors.InterfaceError, "result"),
        (gel.errors.QueryArgumentError, "arguments"),
        (gel.errors.MissingArgumentError, "arguments"),
        (gel.errors.InvalidArgumentError, "arguments"),
        (gel.errors.ConstraintViolationError, "execution"),
        (gel.errors.TransactionError, "execution"),
        (gel.errors.DivisionByZeroError, "execution"),
        (gel.errors.DisabledCapabilityError, "query"),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else value,
)
def test_important_errors_have_their_kind(cls, kind) -> None:
    assert error_view(cls("m")).kind == kind


@pytest.mark.parametrize(
    "cls",
    [
        gel.errors.ClientConnectionFailedTemporarilyError,
        gel.errors.TransactionConflictError,
        gel.errors.BackendUnavailableError,
    ],
    ids=lambda cls: cls.__name__,
)
def test_should_retry_errors_are_retryable(cls) -> None:
    assert error_view(cls("m")).retryable


def test_errors_without_the_tag_are_not_retryable() -> None:
    assert not error_view(gel.errors.EdgeQLSyntaxError("m")).retryable


def test_connection_errors_get_a_hint_saying_how_to_fix_them() -> None:
    view = error_view(gel.errors.AuthenticationError("authentication failed"))
    assert "[connections.gel]" in (view.hint or "")


# --- position, hint, details, excerpt -------------------------------------------------------
def test_position_hint_and_details_come_from_the_server_error() -> None:
    query = "select Movie {titel}"
    err = server_error(
        gel.errors.InvalidReferenceError,
        "object type 'default::Movie' has no link or property 'titel'",
        query=query,
        span=(14, 19),
        hint="did you mean 'title'?",
        details="a detail",
    )
    view = error_view(err, query=query, subject="Q1")
    assert (view.line, view.column) == (1, 15)
    assert view.hint == "did you mean 'title'?"
    assert view.details == "a detail"
    assert view.subject == "Q1"
    assert view.excerpt == "1 | select Movie {titel}\n                  ^^^^^"
    assert view.message == "object type 'default::Movie' has no link or property 'titel'"


def test_multi_line_position_matches_the_real_server() -> None:
    case = transcript_case("multi-line error position")
    recorded = case["error"]
    err = server_error(
        gel.errors.InvalidReferenceError,
        recorded["message"],
        query=case["query"],
        span=(recorded["_position_start"], recorded["_position_end"]),
    )
    for name in ("_line", "_col", "_position_start", "_position_end"):
        assert getattr(err, name) == recorded[name]
    assert (recorded["_line"], recorded["_col"]) == (3, 3)
    assert (recorded["_position_start"], recorded["_position_end"]) == (26, 30)
    # The driver renders the fake's error exactly as it rendered the server's.
    assert re.sub(r"\x1b\[[0-9;]*m", "", str(err)) == recorded["str"]
    view = error_view(err, query=case["query"])
    assert (view.line, view.column) == (3, 3)
    assert view.message == recorded["message"]
    assert view.excerpt == "3 |   nope\n      ^^^^"


def test_without_the_query_there_is_a_position_but_no_excerpt() -> None:
    err = server_error(gel.errors.EdgeQLSyntaxError, "Unexpected", query="selec 1", span=(0, 5))
    view = error_view(err)
    assert (view.line, view.column, view.excerpt) == (1, 1, None)


def test_error_without_position_has_none() -> None:
    view = error_view(gel.errors.DivisionByZeroError("division by zero"), query="select 1 // 0")
    assert (view.line, view.column, view.excerpt) == (None, None, None)


def test_caret_excerpt_clips_a_span_to_its_first_line() -> None:
    assert caret_excerpt("ab\ncdef\ng", 4, 9) == "2 | cdef\n     ^^^"


def test_caret_excerpt_at_the_end_of_the_text_shows_one_caret() -> None:
    assert caret_excerpt("select (", 8, 8) == "1 | select (\n            ^"


def test_the_server_context_never_appears() -> None:
    err = server_error(gel.errors.InternalServerError, "boom", query="select 1", span=(0, 6))
    err._attrs[fields.FIELD_SERVER_TRACEBACK] = b"Traceback: server-frame-secret"
    assert err.get_server_context() == "Traceback: server-frame-secret"
    view = error_view(err, query="select 1")
    assert all("server-frame-secret" not in text for text in text_fields(view))


# --- scrubbing ------------------------------------------------------------------------------
def test_scrubbed_removes_secrets_from_every_text_field() -> None:
    view = ErrorView(
        kind="connection",
        title="AuthenticationError",
        message="login as admin:s3cret-pw failed",
        hint="check s3cret-pw",
        details="dsn gel://admin:s3cret-pw@h and key sk-123456",
        excerpt="1 | s3cret-pw",
        subject="query with sk-123456",
    )
    scrubbed = view.scrubbed(["s3cret-pw", "sk-123456"])
    for text in text_fields(scrubbed):
        assert "s3cret-pw" not in text
        assert "sk-123456" not in text
    assert scrubbed.message == "login as admin:*** failed"
    assert scrubbed.kind == view.kind and scrubbed.title == view.title


def test_scrubbed_with_no_secrets_is_the_same_view() -> None:
    view = error_view(ValueError("x"))
    assert view.scrubbed([]) is view
    assert view.scrubbed([""]) is view


def test_driver_error_echoing_a_password_is_scrubbed() -> None:
    err = server_error(
        gel.errors.ClientConnectionFailedError,
        "cannot connect to gel://admin:pw-123@db",
        hint="pw-123 is wrong",
    )
    view = error_view(err).scrubbed(["pw-123"])
    assert all("pw-123" not in text for text in text_fields(view))


# --- non-driver exceptions ------------------------------------------------------------------
def test_cancelled_error_is_cancelled() -> None:
    view = error_view(asyncio.CancelledError(), subject="Q2")
    assert (view.kind, view.subject, view.retryable) == ("cancelled", "Q2", False)


def test_timeout_error_says_the_bound() -> None:
    view = error_view(TimeoutError(), timeout_s=2.5)
    assert view.kind == "timeout"
    assert "2.5 s" in view.message
    assert view.retryable
    assert "query_timeout_s" in (view.hint or "")


def test_timeout_error_without_a_bound_still_reads_well() -> None:
    assert error_view(TimeoutError()).message == "The query did not finish; it was cancelled."


def test_a_plain_exception_is_internal_with_its_message_only() -> None:
    try:
        raise ValueError("bad thing")
    except ValueError as exc:
        view = error_view(exc)
    assert (view.kind, view.title, view.message) == ("internal", "ValueError", "bad thing")
    assert all("Traceback" not in text for text in text_fields(view))


def test_an_exception_without_message_shows_its_class() -> None:
    assert error_view(RuntimeError()).message == "RuntimeError"


def test_console_input_error_carries_its_own_view() -> None:
    exc = input_error("Q1 is empty", hint="type a query")
    assert isinstance(exc, ConsoleInputError) and isinstance(exc, ValueError)
    view = error_view(exc, subject="Q1")
    assert (view.kind, view.message, view.hint, view.subject) == (
        "input",
        "Q1 is empty",
        "type a query",
        "Q1",
    )


def test_console_input_error_keeps_its_own_subject() -> None:
    view = error_view(input_error("bad", subject="Q3"), subject="Q1")
    assert view.subject == "Q3"


# --- a failed connection, in the console's words first ---------------------------------------
def test_a_refused_port_says_which_server_and_how_long_it_waited() -> None:
    view = error_view(recorded_error("refused port, wait_until_available=3"))
    assert view.kind == "connection"
    assert view.title == "ClientConnectionFailedTemporarilyError"
    assert view.message == (
        "The server at 127.0.0.1:5699 did not answer within 3 s. "
        "Check that it runs and that the address is right."
    )
    assert view.retryable


def test_the_drivers_multi_line_text_goes_to_details_one_line_each() -> None:
    view = error_view(recorded_error("refused port, wait_until_available=3"))
    assert view.details == (
        "[Errno 111] Connect call failed ('127.0.0.1', 5699)\n"
        "After 29 attempts in 3.0 sec\n"
        "Is the server running on host '127.0.0.1' and accepting\n"
        "TCP/IP connections on port 5699?"
    )
    assert "After 29 attempts" not in view.message


def test_the_drivers_address_wins_over_the_settings() -> None:
    err = recorded_error("refused port, wait_until_available=0")
    view = error_view(err, server="db.example.com:5656", connect_wait_s=5)
    assert "127.0.0.1:5699" in view.message and "db.example.com" not in view.message
    assert "within 0.2 s" in view.message  # what the driver really waited


def test_without_an_address_in_the_text_the_settings_say_it() -> None:
    err = gel.errors.ClientConnectionFailedTemporarilyError()  # as the protocol raises it
    view = error_view(err, server="db.example.com:5656", connect_wait_s=5)
    assert view.message == (
        "The server at db.example.com:5656 did not answer within 5 s. "
        "Check that it runs and that the address is right."
    )
    assert view.details is None


def test_a_connect_timeout_says_the_server_and_the_bound() -> None:
    # base_client.BaseConnection.connect: f"connecting to {addr} failed in {timeout} sec"
    err = gel.errors.ClientConnectionTimeoutError(f"connecting to {('::1', 5656)} failed in 5 sec")
    view = error_view(err)
    assert view.message.startswith("The server at [::1]:5656 did not answer within 5 s.")
    assert view.details == "connecting to ('::1', 5656) failed in 5 sec"


def test_a_unix_socket_is_named_as_such() -> None:
    err = gel.errors.ClientConnectionFailedTemporarilyError(
        "[Errno 2] No such file\n\tAfter 3 attempts in 1.0 sec\n\tIs the server running locally "
        "and accepting \n\tconnections on Unix domain socket '/run/gel/.s.EDGEDB.5656'?"
    )
    assert error_view(err).message.startswith(
        "The server at unix socket /run/gel/.s.EDGEDB.5656 did not answer within 1 s."
    )


def test_an_untrusted_certificate_is_not_called_a_server_that_did_not_answer() -> None:
    view = error_view(recorded_error("self-signed cert with default tls"))
    assert view.message == (
        "The server at 127.0.0.1:5656 answered, but its TLS certificate was not trusted. "
        "Check tls_security and tls_ca_file (or tls_ca) in [connections.gel]."
    )
    assert "CERTIFICATE_VERIFY_FAILED" in (view.details or "")


def test_other_connection_errors_keep_the_servers_message() -> None:
    for label in ("wrong password", "unknown branch"):
        recorded = transcript_behaviour(label)["error"]
        view = error_view(recorded_error(label))
        assert (view.kind, view.message) == ("connection", recorded["message"])


def test_a_password_in_the_drivers_connection_text_is_scrubbed() -> None:
    err = gel.errors.ClientConnectionFailedError(
        "cannot reach gel://admin:pw-123@db:5656\n\tAfter 2 attempts in 5.0 sec"
    )
    view = error_view(err, server="db:5656").scrubbed(["pw-123"])
    assert all("pw-123" not in text for text in text_fields(view))
    assert "After 2 attempts in 5.0 sec" in (view.details or "")


def test_the_real_driver_on_a_closed_port_gives_the_consoles_words() -> None:
    """No server needed: the real driver against a loopback port nobody listens on."""
    import socket

    with socket.socket() as probe:  # a free port, closed again before the driver tries it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    password = "s3cret-Pw-99"

    async def attempt() -> BaseException:
        client = gel.create_async_client(
            f"gel://admin:{password}@127.0.0.1:{port}/main",
            tls_security="insecure", wait_until_available=0, timeout=2,
        )
        try:
            await client.query_single("select 1")
        except gel.errors.EdgeDBError as exc:
            return exc
        finally:
            await asyncio.wait_for(client.aclose(), 2)
        raise AssertionError("a closed port answered")

    err = asyncio.run(attempt())
    assert isinstance(err, gel.errors.ClientConnectionFailedTemporarilyError)
    view = error_view(err, connect_wait_s=0)
    assert view.message.startswith(f"The server at 127.0.0.1:{port} did not answer")
    assert "Check that it runs and that the address is right." in view.message
    assert f"port {port}" in (view.details or "")
    assert all(password not in text for text in text_fields(view))


# --- show_connection: errors say where the server is only when allowed --------------------------
def _connection_family() -> list[tuple[BaseException, str | None, tuple[str, ...]]]:
    """(error, the settings' address, the words that name the server) for each way a
    connection fails: refused (recorded), timed out, untrusted TLS, Unix socket, no text."""
    return [
        (recorded_error("refused port, wait_until_available=3"), None, ("127.0.0.1", "5699")),
        (recorded_error("refused port, wait_until_available=0"), "db.example.com:5656",
         ("127.0.0.1", "5699", "db.example.com", "5656")),
        (recorded_error("self-signed cert with default tls"), None, ("127.0.0.1", "5656")),
        (gel.errors.ClientConnectionTimeoutError(
            f"connecting to {('db.example.com', 5757)} failed in 5 sec"), None,
         ("db.example.com", "5757")),
        (gel.errors.ClientConnectionTimeoutError(f"connecting to {('::1', 5656)} failed in 5 sec"),
         None, ("::1", "5656")),
        (gel.errors.ClientConnectionFailedTemporarilyError(
            "[Errno 2] No such file\n\tAfter 3 attempts in 1.0 sec\n\tIs the server running "
            "locally and accepting \n\tconnections on Unix domain socket '/run/gel/.s.EDGEDB.5656'?"
         ), None, ("/run/gel",)),
        (gel.errors.ClientConnectionFailedTemporarilyError(), "db.example.com:5757",
         ("db.example.com", "5757")),
        (gel.errors.ClientConnectionFailedError(
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, "
            "certificate is not valid for 'db.example.com'. (_ssl.c:1006)\n\tAfter 1 attempts in "
            "0.0 sec\n\tIs the server running on host 'db.example.com' and accepting \n\tTCP/IP "
            "connections on port 5757?"), None, ("db.example.com", "5757")),
        (recorded_error("wrong password"), "db.example.com:5757", ()),
    ]


def _settings_names(server: str | None) -> tuple[str, ...]:
    return (server, server.rpartition(":")[0]) if server else ()


@pytest.mark.parametrize(("err", "server", "words"), _connection_family())
def test_with_show_connection_none_no_error_text_names_the_server(
        err: BaseException, server: str | None, words: tuple[str, ...]) -> None:
    view = error_view(err, server=server, connect_wait_s=5)
    hidden = ServerPrivacy(hidden=True, names=_settings_names(server)).apply(view)
    text = "\n".join(text_fields(hidden))
    for word in words:
        assert word not in text, (word, hidden)
    assert (hidden.kind, hidden.title) == (view.kind, view.title)  # the cause is still said
    if view.kind == "connection" and words:
        assert hidden.message.startswith("The server ") and " at " not in hidden.message


@pytest.mark.parametrize(("err", "server", "words"), _connection_family())
def test_with_show_connection_host_or_full_the_error_is_as_it_was(
        err: BaseException, server: str | None, words: tuple[str, ...]) -> None:
    view = error_view(err, server=server, connect_wait_s=5)
    assert ServerPrivacy(hidden=False, names=_settings_names(server)).apply(view) == view
    text = "\n".join(text_fields(view))
    assert all(word in text for word in words[:2])


def test_hiding_the_server_keeps_the_rest_of_the_text() -> None:
    err = recorded_error("refused port, wait_until_available=3")
    view = ServerPrivacy(hidden=True).apply(error_view(err))
    assert view.message == ("The server did not answer within 3 s. Check that it runs and that "
                            "the address is right.")
    assert view.details == ("[Errno 111] Connect call failed ('***')\n"
                            "After 29 attempts in 3.0 sec\n"
                            "Is the server running on host '***' and accepting\n"
                            "TCP/IP connections on port ***?")


def test_hiding_the_server_leaves_a_query_error_alone() -> None:
    query = "select 5656 + db"
    err = server_error(gel.errors.InvalidReferenceError, "object type or alias 'default::db' "
                       "does not exist", query=query, span=(14, 16))
    view = error_view(err, query=query)
    assert ServerPrivacy(hidden=True, names=("db:5656", "db")).apply(view) == \
        dataclasses.replace(view, message="object type or alias 'default::db' does not exist")
