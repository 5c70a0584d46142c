"""What the page says about the server: ``show_connection`` and the server's address."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gel
import pytest
from streamlit.testing.v1 import AppTest

from ecc.settings.config import ConnectionSettings, Secret, SettingsError, load_settings
from tests.apptest_support import FakeFactory, console, run_query, shown, texts

PASSWORD = "Pa55-w0rd-SHOWN?"
DSN = f"gel://analyst:{PASSWORD}@db.example.com:5757/reports"
SERVER_WORDS = ("db.example.com", "5757", "analyst", "reports")
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "cookie-secret-for-tests",
    "client_id": "client-id",
    "client_secret": "client-secret-value",
    "server_metadata_url": "https://accounts.example.com/.well-known/openid-configuration",
}

pytestmark = pytest.mark.usefixtures("clean_driver_env")


# --- the setting -----------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["full", "host", "none"])
def test_each_mode_is_accepted(mode: str) -> None:
    assert load_settings({"show_connection": mode}, {}).show_connection == mode


@pytest.mark.parametrize("value", ["all", "Full", "", True, 1, ["host"]])
def test_another_value_is_a_settings_error_naming_the_choices(value: Any) -> None:
    with pytest.raises(SettingsError, match='show_connection must be "full", "host" or "none"'):
        load_settings({"show_connection": value}, {})


@pytest.mark.parametrize(("sign_in", "expected"), [(False, "none"), (True, "host")])
def test_the_default_follows_sign_in(sign_in: bool, expected: str) -> None:
    assert load_settings({}, {}).shown_connection(sign_in) == expected


@pytest.mark.parametrize("sign_in", [False, True])
def test_a_configured_mode_wins_over_the_default(sign_in: bool) -> None:
    assert load_settings({"show_connection": "full"}, {}).shown_connection(sign_in) == "full"


def test_host_mode_shows_the_host_alone() -> None:
    connection = load_settings({"dsn": DSN}, {}).connection
    assert connection.summary_shown("host") == {"host": "db.example.com"}
    assert connection.summary_shown("none") == {}
    full = connection.summary_shown("full")
    assert "analyst:***@db.example.com:5757/reports" in full["dsn"]
    assert PASSWORD not in str(full)


def test_host_mode_for_an_instance_names_the_instance() -> None:
    connection = ConnectionSettings(instance="org/inst", secret_key=Secret("k" * 12))
    assert connection.summary_shown("host") == {"instance": "org/inst"}


# --- the server's address, for connection errors ----------------------------------------------
@pytest.mark.parametrize(
    ("connection", "address"),
    [
        (ConnectionSettings(host="db", port=5700), "db:5700"),
        (ConnectionSettings(host="db"), "db:5656"),
        (ConnectionSettings(port=5700), "localhost:5700"),
        (ConnectionSettings(host="::1", port=5700), "[::1]:5700"),
        (ConnectionSettings(dsn=Secret(DSN)), "db.example.com:5757"),
        (ConnectionSettings(dsn=Secret("gel://u:p@ss@db.example.com")), "db.example.com:5656"),
        (ConnectionSettings(dsn=Secret("edgedb://[::1]:5701/main?x=1")), "[::1]:5701"),
        (ConnectionSettings(dsn=Secret("my-instance")), None),
        (ConnectionSettings(instance="org/inst"), None),
        (ConnectionSettings(from_environment=True), None),
    ],
)
def test_the_address_comes_from_host_and_port_or_the_dsn_host(
    connection: ConnectionSettings, address: str | None
) -> None:
    assert connection.address() == address


def test_the_address_never_holds_the_dsn_password() -> None:
    address = ConnectionSettings(dsn=Secret(DSN)).address() or ""
    assert PASSWORD not in address and "analyst" not in address


# --- the page --------------------------------------------------------------------------------
def sidebar_text(at: AppTest) -> str:
    """The sidebar's text as a reader sees it (escapes resolved)."""
    return shown("\n".join(str(el.value) for el in (*at.sidebar.markdown, *at.sidebar.caption)))


@pytest.fixture
def signed_in() -> Iterator[dict[str, Any]]:
    yield {"email": "ana@example.com", "is_logged_in": True}


def test_by_default_without_sign_in_the_page_says_nothing_about_the_server() -> None:
    with console(FakeFactory(), dsn=DSN) as at:
        at.run()
        assert not at.exception
        shown = sidebar_text(at)
        assert "**Connection**" in shown
        for word in SERVER_WORDS:
            assert word not in shown
        assert "Sign-in is not configured" in shown  # really the sign-in-off page


def test_by_default_with_sign_in_the_page_shows_the_host_only(signed_in: dict[str, Any]) -> None:
    with console(FakeFactory(), dsn=DSN) as at:
        at.secrets["auth"] = AUTH
        at.user = signed_in
        at.run()
        assert not at.exception
        shown = sidebar_text(at)
        assert "Signed in as ana@example.com." in shown  # really the sign-in-on page
        assert "host: `db.example.com`" in shown
        for word in ("5757", "analyst", "reports", PASSWORD):
            assert word not in shown


def test_full_shows_the_summary_but_never_a_secret() -> None:
    with console(FakeFactory(), dsn=DSN, show_connection="full") as at:
        at.run()
        assert not at.exception
        shown = sidebar_text(at)
        assert "gel://analyst:***@db.example.com:5757/reports" in shown
        assert PASSWORD not in shown


def test_none_hides_the_host_even_with_sign_in(signed_in: dict[str, Any]) -> None:
    with console(FakeFactory(), dsn=DSN, show_connection="none") as at:
        at.secrets["auth"] = AUTH
        at.user = signed_in
        at.run()
        assert not at.exception
        assert "Signed in as" in sidebar_text(at)
        assert "db.example.com" not in sidebar_text(at)


def test_a_wrong_value_shows_the_settings_error_in_the_page() -> None:
    with console(FakeFactory(), dsn=DSN, show_connection="everything") as at:
        at.run()
        assert not at.exception
        assert 'show_connection must be "full", "host" or "none"' in texts(at)


def test_the_drivers_lines_show_as_plain_text_details() -> None:
    refused = gel.errors.ClientConnectionFailedTemporarilyError(
        "[Errno 111] Connect call failed ('127.0.0.1', 5699)\n\tAfter 29 attempts in 3.0 sec"
        "\n\tIs the server running on host '127.0.0.1' and accepting \n\tTCP/IP connections "
        "on port 5699?"
    )
    with console(FakeFactory(connect_error=refused), dsn=DSN, show_connection="full") as at:
        at.run()
        at.button(key="test_connection").click().run()
        assert not at.exception
        assert "The server at 127.0.0.1:5699 did not answer within 3 s." in texts(at)
        details = [el.value for el in at.text]
        assert details == [
            "[Errno 111] Connect call failed ('127.0.0.1', 5699)\nAfter 29 attempts in 3.0 sec\n"
            "Is the server running on host '127.0.0.1' and accepting\n"
            "TCP/IP connections on port 5699?"
        ]


def test_a_server_that_does_not_answer_is_said_in_the_consoles_words() -> None:
    refused = gel.errors.ClientConnectionFailedTemporarilyError()
    with console(FakeFactory(connect_error=refused), host="db.example.com", port=5757,
                 connect_wait_s=3, show_connection="host") as at:
        at.run()
        at.button(key="test_connection").click().run()
        assert not at.exception
        assert ("The server at db.example.com:5757 did not answer within 3 s. Check that it "
                "runs and that the address is right.") in texts(at)


# --- descriptions are never shared across credentials -------------------------------------------
def test_two_passwords_for_the_same_server_get_two_describe_caches() -> None:
    import st_utils

    st_utils._describe_cache_for.clear()
    try:
        first = st_utils.describe_cache(load_settings({"dsn": DSN}, {}))
        same = st_utils.describe_cache(load_settings({"dsn": DSN}, {}))
        other = st_utils.describe_cache(load_settings({"dsn": DSN.replace(PASSWORD, "wrong")}, {}))
        other_user = st_utils.describe_cache(load_settings({"dsn": DSN, "user": "admin"}, {}))
        other_branch = st_utils.describe_cache(load_settings({"dsn": DSN, "branch": "main"}, {}))
        assert first is same
        assert len({id(first), id(other), id(other_user), id(other_branch)}) == 4
    finally:
        st_utils._describe_cache_for.clear()


# --- errors follow show_connection ----------------------------------------------------------------
REFUSED_TEXT = ("[Errno 111] Connect call failed ('db.example.com', 5757)\n\tAfter 29 attempts in "
                "3.0 sec\n\tIs the server running on host 'db.example.com' and accepting \n\t"
                "TCP/IP connections on port 5757?")
CONNECTION_FAMILY = [
    gel.errors.ClientConnectionFailedTemporarilyError(REFUSED_TEXT),
    gel.errors.ClientConnectionFailedTemporarilyError(),  # the settings say where
    gel.errors.ClientConnectionTimeoutError(
        f"connecting to {('db.example.com', 5757)} failed in 5 sec"),
]


def page_text(at: AppTest) -> str:
    """Every text of the page, the error's plain-text details included."""
    return texts(at) + "\n" + "\n".join(str(el.value) for el in at.text)


def _error_on_the_page(at: AppTest, how: str) -> None:
    at.run()
    if how == "test connection":
        at.button(key="test_connection").click().run()
    else:
        run_query(at, "select 1")
    assert not at.exception
    assert "ClientConnection" in page_text(at)


@pytest.mark.parametrize("how", ["test connection", "run"])
@pytest.mark.parametrize("error", CONNECTION_FAMILY, ids=lambda e: type(e).__name__)
def test_show_connection_none_keeps_the_server_out_of_every_error(how: str,
                                                                 error: Exception) -> None:
    with console(FakeFactory(connect_error=error), dsn=DSN, show_connection="none") as at:
        _error_on_the_page(at, how)
        text = page_text(at)
        assert "did not answer" in text  # the cause is still said
        for word in ("db.example.com", "5757"):
            assert word not in text, text


@pytest.mark.parametrize("how", ["test connection", "run"])
@pytest.mark.parametrize("mode", ["host", "full"])
def test_show_connection_host_or_full_lets_the_error_name_the_server(how: str,
                                                                     mode: str) -> None:
    refused = gel.errors.ClientConnectionFailedTemporarilyError(REFUSED_TEXT)
    with console(FakeFactory(connect_error=refused), dsn=DSN, show_connection=mode) as at:
        _error_on_the_page(at, how)
        assert "The server at db.example.com:5757 did not answer within 3 s." in page_text(at)
        assert "TCP/IP connections on port 5757?" in page_text(at)


def test_by_default_a_console_without_sign_in_hides_the_server_in_errors_too() -> None:
    refused = gel.errors.ClientConnectionFailedTemporarilyError(REFUSED_TEXT)
    with console(FakeFactory(connect_error=refused), dsn=DSN) as at:
        _error_on_the_page(at, "run")
        assert "db.example.com" not in page_text(at)
