"""Secrets never reach the page, the logs or an error message, in any page state."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import gel
import pytest
from streamlit.testing.v1 import AppTest

from ecc.fake.client import server_error
from tests.apptest_support import FakeFactory, console, run_query, texts

PASSWORD = "Pa55-w0rd-XYZZY"
SECRET_KEY = "nbwt1_secret_key_QWERTY"
DSN = f"gel://admin:{PASSWORD}@db.example.com:5656/main"
SECRETS = (PASSWORD, SECRET_KEY)

pytestmark = pytest.mark.usefixtures("clean_driver_env")


def walk(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from walk(child)


def page_dump(at: AppTest) -> str:
    """Everything the page would send to a browser: every element's protobuf, as text."""
    return "\n".join(str(getattr(n, "proto", "")) for n in walk(at._tree))


def assert_no_secret(at: AppTest, caplog: pytest.LogCaptureFixture) -> None:
    dump = page_dump(at) + texts(at)
    logs = "\n".join(r.getMessage() for r in caplog.records)
    for secret in SECRETS:
        assert secret not in dump, "a secret reached the page"
        assert secret not in logs, "a secret reached the logs"


@pytest.fixture(autouse=True)
def capture_everything(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


def leaky_answers() -> dict[str, Any]:
    """Errors whose text contains the secrets, as a careless server or proxy might send."""
    return {
        "select leak": server_error(
            gel.errors.InvalidReferenceError,
            f"bad reference near {PASSWORD}",
            query="select leak",
            span=(7, 11),
            hint=f"hint {SECRET_KEY}",
            details=f"details {PASSWORD}",
        ),
        "select boom": RuntimeError(f"internal failure with {DSN}"),
    }


def test_the_dsn_password_is_redacted_in_the_connection_summary(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with console(FakeFactory(), dsn=DSN, secret_key=SECRET_KEY, show_connection="full") as at:
        at.run()
        assert not at.exception
        assert "db.example.com" in page_dump(at)
        assert_no_secret(at, caplog)


@pytest.mark.parametrize("query", ["select leak", "select boom", "selec 1", "select Movie"])
def test_results_and_error_paths_never_show_a_secret(
    query: str, caplog: pytest.LogCaptureFixture
) -> None:
    with console(FakeFactory(responder=leaky_answers()), dsn=DSN, secret_key=SECRET_KEY) as at:
        at.run()
        run_query(at, query)
        assert not at.exception
        assert_no_secret(at, caplog)


def test_argument_errors_and_history_never_show_a_secret(caplog: pytest.LogCaptureFixture) -> None:
    with console(FakeFactory(responder=leaky_answers()), dsn=DSN, secret_key=SECRET_KEY) as at:
        at.run()
        run_query(at, "select <str>$0", args="'unterminated")
        run_query(at, "select leak", args="")
        at.toggle(key="show_history").set_value(True).run()
        at.toggle(key="show_resources").set_value(True).run()
        assert at.toggle(key="show_history").label == "History (1) · 1 kept in this browser"
        assert at.dataframe  # the history table is drawn, and scanned below
        assert_no_secret(at, caplog)


def test_a_failing_connection_test_never_shows_a_secret(caplog: pytest.LogCaptureFixture) -> None:
    refused = gel.errors.ClientConnectionFailedTemporarilyError(
        f"[Errno 111] Connect call failed for {DSN}"
    )
    with console(FakeFactory(connect_error=refused), dsn=DSN, secret_key=SECRET_KEY) as at:
        at.run()
        at.button(key="test_connection").click().run()
        assert not at.exception
        assert "ClientConnectionFailedTemporarilyError" in texts(at)
        assert_no_secret(at, caplog)


def test_a_query_on_a_refused_connection_never_shows_a_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    refused = gel.errors.AuthenticationError(f"authentication failed for {PASSWORD}")
    with console(FakeFactory(connect_error=refused), dsn=DSN, secret_key=SECRET_KEY) as at:
        at.run()
        run_query(at, "select 1")
        assert "AuthenticationError" in texts(at)
        assert_no_secret(at, caplog)


def test_a_bad_setting_message_never_shows_a_secret(caplog: pytest.LogCaptureFixture) -> None:
    with console(
        FakeFactory(), dsn=DSN, password=PASSWORD, secret_key=SECRET_KEY, port="not-a-port"
    ) as at:
        at.run()
        assert at.error
        assert_no_secret(at, caplog)
