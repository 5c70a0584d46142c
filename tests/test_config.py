"""Settings: read once from [connections.gel] and the environment, secrets never shown."""

from __future__ import annotations

import math

import pytest

from ecc.settings.config import (
    ConnectionSettings,
    ConsoleSettings,
    Secret,
    SettingsError,
    load_settings,
    redact_dsn,
)

PASSWORD = "hunter2-pass"
SECRET_KEY = "nbwt1_secret-key-value"
DSN_PASSWORD = "dsn-pa55word"
DSN = f"gel://admin:{DSN_PASSWORD}@db.example.com:5656/main?tls_security=strict"


# --- connection sources ---------------------------------------------------------------------
def test_dsn_goes_to_the_driver_as_given() -> None:
    settings = load_settings({"dsn": DSN}, {})
    assert settings.connection.driver_kwargs() == {"dsn": DSN}
    assert settings.connection.configured
    assert not settings.connection.from_environment


def test_instance_and_secret_key_reach_the_driver_as_dsn_and_secret_key() -> None:
    settings = load_settings({"instance": "org/inst", "secret_key": SECRET_KEY}, {})
    assert settings.connection.driver_kwargs() == {"dsn": "org/inst", "secret_key": SECRET_KEY}


def test_host_port_user_password_branch_reach_the_driver() -> None:
    section = {
        "host": "db.local",
        "port": 5656,
        "user": "admin",
        "password": PASSWORD,
        "branch": "main",
        "tls_security": "insecure",
    }
    kwargs = load_settings(section, {}).connection.driver_kwargs()
    assert kwargs == {**section}


def test_port_given_as_text_becomes_a_number() -> None:
    assert load_settings({"host": "h", "port": "5656"}, {}).connection.port == 5656


def test_database_is_the_old_name_of_branch() -> None:
    connection = load_settings({"host": "h", "database": "legacy"}, {}).connection
    assert connection.branch == "legacy"
    assert connection.driver_kwargs() == {"host": "h", "branch": "legacy"}
    assert "database" not in connection.driver_kwargs()


def test_empty_values_are_ignored() -> None:
    connection = load_settings({"dsn": "", "host": "h", "user": None}, {}).connection
    assert connection.driver_kwargs() == {"host": "h"}


# --- environment fallback -------------------------------------------------------------------
@pytest.mark.parametrize(
    "environ",
    [
        {"GEL_DSN": DSN},
        {"GEL_INSTANCE": "org/inst"},
        {"EDGEDB_HOST": "db.local"},
        {"EDGEDB_PORT": "5656"},
        {"GEL_CREDENTIALS_FILE": "/etc/creds.json"},
    ],
    ids=lambda env: next(iter(env)),
)
def test_driver_environment_is_detected_when_the_section_has_no_connection(environ) -> None:
    connection = load_settings({"read_only": True}, environ).connection
    assert connection.from_environment
    assert connection.configured
    assert connection.driver_kwargs() == {}  # the driver reads the environment itself


def test_nothing_configured_without_section_or_environment() -> None:
    connection = load_settings(None, {"PATH": "/usr/bin", "GEL_PASSWORD": PASSWORD}).connection
    assert not connection.from_environment
    assert not connection.configured


def test_section_connection_wins_over_environment() -> None:
    connection = load_settings({"host": "from-secrets"}, {"GEL_DSN": DSN}).connection
    assert not connection.from_environment
    assert connection.driver_kwargs() == {"host": "from-secrets"}


def test_defaults_without_any_setting() -> None:
    assert load_settings(None, {}) == ConsoleSettings()


# --- console settings and their validation --------------------------------------------------
def test_console_settings_are_read_and_converted() -> None:
    settings = load_settings(
        {
            "row_limit": 50,
            "query_timeout_s": 30,
            "read_only": False,
            "max_running": 2,
            "allowed_emails": [" Alice@Example.com ", ""],
            "allowed_domains": "Example.org",
        },
        {},
    )
    assert settings.row_limit == 50
    assert settings.query_timeout_s == 30.0 and isinstance(settings.query_timeout_s, float)
    assert settings.read_only is False
    assert settings.max_running == 2
    assert settings.allowed_emails == ("alice@example.com",)
    assert settings.allowed_domains == ("example.org",)


def test_unknown_key_is_an_error_naming_it() -> None:
    with pytest.raises(SettingsError, match="quey_timeout_s"):
        load_settings({"quey_timeout_s": 5}, {})


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("row_limit", "10", "row_limit must be a number"),
        ("row_limit", True, "row_limit must be a number"),
        ("row_limit", 5.5, "row_limit must be a whole number"),
        ("query_timeout_s", "60", "query_timeout_s must be a number"),
        ("read_only", "yes", "read_only must be true or false"),
        ("fake_client", 1, "fake_client must be true or false"),
        ("allowed_emails", [1, 2], "allowed_emails must be a list of strings"),
        ("allowed_domains", {"a": 1}, "allowed_domains must be a list of strings"),
        ("port", "abc", "port must be a number"),
        ("port", True, "port must be a number"),
        ("port", 56.5, "port must be a number"),
        ("host", 123, "host must be a string"),
        ("password", 1234, "password must be a string"),
    ],
)
def test_wrong_type_is_an_error_naming_the_key(key, value, expected) -> None:
    with pytest.raises(SettingsError, match=expected):
        load_settings({key: value}, {})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("row_limit", 0),
        ("max_running", 1000),
        ("max_batch", -1),
        ("history_size", 10**9),
        ("query_timeout_s", 0),
        ("idle_threshold_s", 0.5),
        ("connect_wait_s", -1.0),
        ("query_timeout_s", math.inf),
        ("query_timeout_s", math.nan),
        ("port", 0),
        ("port", 70000),
        ("port", "-1"),
        ("max_sessions", 0),
        ("max_kept_bytes", 999),
    ],
)
def test_out_of_range_number_is_an_error_naming_the_key(key, value) -> None:
    with pytest.raises(SettingsError, match=key):
        load_settings({key: value}, {})


def test_range_bounds_are_inclusive() -> None:
    settings = load_settings({"row_limit": 1, "max_batch": 100, "connect_wait_s": 0}, {})
    assert (settings.row_limit, settings.max_batch, settings.connect_wait_s) == (1, 100, 0.0)


def test_process_and_byte_limits_are_read_with_their_defaults() -> None:
    assert (ConsoleSettings().max_sessions, ConsoleSettings().max_kept_bytes) == (100, 20_000_000)
    settings = load_settings({"max_sessions": 3, "max_kept_bytes": 5_000_000}, {})
    assert (settings.max_sessions, settings.max_kept_bytes) == (3, 5_000_000)


def test_max_queued_defaults_to_at_least_one_full_submission() -> None:
    assert load_settings({}, {}).max_queued == 40
    assert load_settings({"max_batch": 100}, {}).max_queued == 100
    with pytest.raises(SettingsError, match="max_queued"):
        load_settings({"max_batch": 50, "max_queued": 10}, {})


# --- secrets --------------------------------------------------------------------------------
def all_secrets_settings() -> ConsoleSettings:
    return load_settings(
        {"dsn": DSN, "password": PASSWORD, "secret_key": SECRET_KEY, "user": "admin"}, {}
    )


def test_driver_kwargs_reveal_the_secrets() -> None:
    kwargs = all_secrets_settings().connection.driver_kwargs()
    assert kwargs["password"] == PASSWORD
    assert kwargs["secret_key"] == SECRET_KEY
    assert kwargs["dsn"] == DSN


def test_repr_never_shows_a_secret() -> None:
    settings = all_secrets_settings()
    for text in (repr(settings), str(settings), repr(settings.connection)):
        for secret in (PASSWORD, SECRET_KEY, DSN_PASSWORD):
            assert secret not in text


def test_summary_never_shows_a_secret_but_says_one_is_set() -> None:
    summary = all_secrets_settings().connection.summary()
    text = repr(summary)
    for secret in (PASSWORD, SECRET_KEY, DSN_PASSWORD):
        assert secret not in text
    assert summary["password"] == "***"
    assert summary["secret_key"] == "***"
    assert summary["dsn"] == "gel://admin:***@db.example.com:5656/main?tls_security=strict"
    assert summary["user"] == "admin"


def test_summary_says_when_the_environment_is_used() -> None:
    summary = load_settings(None, {"GEL_DSN": DSN}).connection.summary()
    assert summary == {"source": "GEL_*/EDGEDB_* environment"}


def test_secret_hides_itself_everywhere_but_reveal() -> None:
    secret = Secret(PASSWORD)
    assert PASSWORD not in f"{secret} {secret!r} {[secret]}"
    assert secret.reveal() == PASSWORD
    assert secret == Secret(PASSWORD)
    assert secret != PASSWORD


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        ("gel://admin:pw@host:5656/main", "gel://admin:***@host:5656/main"),
        ("edgedb://user@host/db", "edgedb://user@host/db"),
        (
            "gel://host?secret_key=abc&tls_security=strict",
            "gel://host?secret_key=***&tls_security=strict",
        ),
        ("gel://u:p@ss@host", "gel://u:***@host"),
        ("gel://host?password=x", "gel://host?password=***"),
        ("gel://[::1", "gel://[::1"),  # malformed but holds no secret: shown as is
    ],
)
def test_redact_dsn(dsn, expected) -> None:
    assert redact_dsn(dsn) == expected


def test_secret_values_lists_section_secrets() -> None:
    values = all_secrets_settings().secret_values
    assert PASSWORD in values
    assert SECRET_KEY in values
    assert DSN_PASSWORD in values


def test_secret_values_include_the_drivers_environment_secrets() -> None:
    environ = {
        "GEL_PASSWORD": "env-password",
        "EDGEDB_SECRET_KEY": "env-secret-key",
        "GEL_DSN": "gel://u:env-dsn-pw@h/main?secret_key=env-dsn-key",
        "GEL_HOST": "not-a-secret-host",
    }
    values = load_settings(None, environ).secret_values
    for secret in ("env-password", "env-secret-key", "env-dsn-pw", "env-dsn-key"):
        assert secret in values
    assert "not-a-secret-host" not in values


def test_secret_values_include_environment_secrets_when_the_section_connects() -> None:
    values = load_settings({"host": "h"}, {"EDGEDB_PASSWORD": "env-password"}).secret_values
    assert values == ("env-password",)


def test_secret_values_skip_strings_too_short_to_scrub() -> None:
    assert load_settings({"host": "h", "password": "ab"}, {}).secret_values == ()


def test_secret_values_survive_an_unparsable_dsn() -> None:
    settings = load_settings({"dsn": "gel://admin:pw-in-bad-dsn@[::1"}, {})
    assert any("pw-in-bad-dsn" in value for value in settings.secret_values)


def test_connection_settings_default_to_nothing_configured() -> None:
    assert ConnectionSettings().driver_kwargs() == {}
    assert ConnectionSettings().summary() == {}
    assert ConnectionSettings().secret_values() == ()


def test_a_password_with_unencoded_url_characters_is_redacted_whole() -> None:
    from ecc.settings.config import redact_dsn

    password = "pa#ss/w?d"
    dsn = f"gel://admin:{password}@db.example.com:5656/main?secret_key=abc123"
    redacted = redact_dsn(dsn)
    assert redacted == "gel://admin:***@db.example.com:5656/main?secret_key=***"
    settings = load_settings({"dsn": dsn}, {})
    assert password in settings.secret_values
    assert "abc123" in settings.secret_values


# --- identity: what may share the describe cache -----------------------------------------------
def _identity(section: dict[str, object], environ: dict[str, str] | None = None) -> str:
    return load_settings(section, environ or {}).connection.identity()


BASE = {"host": "db.example.com", "port": 5656, "user": "admin", "password": PASSWORD,
        "branch": "main"}


def test_identity_is_stable_for_the_same_settings() -> None:
    assert _identity(BASE) == _identity(dict(BASE))


@pytest.mark.parametrize(("key", "value"), [
    ("password", "another-password"), ("user", "reader"), ("branch", "staging"),
    ("host", "db2.example.com"), ("port", 5757), ("secret_key", SECRET_KEY),
])
def test_identity_differs_with_any_credential_user_branch_or_server(key: str, value: object
                                                                    ) -> None:
    assert _identity({**BASE, key: value}) != _identity(BASE)


def test_identity_differs_with_the_dsn_password_and_the_environment_secrets() -> None:
    other_dsn = DSN.replace(DSN_PASSWORD, "other-dsn-password")
    assert _identity({"dsn": DSN}) != _identity({"dsn": other_dsn})
    assert _identity({}, {"GEL_DSN": DSN}) != _identity({}, {"GEL_DSN": other_dsn})
    assert _identity({}, {"GEL_DSN": DSN, "GEL_PASSWORD": "a-password"}) != \
        _identity({}, {"GEL_DSN": DSN, "GEL_PASSWORD": "b-password"})


def test_identity_never_shows_a_secret() -> None:
    text = all_secrets_settings().connection.identity()
    for secret in (PASSWORD, SECRET_KEY, DSN_PASSWORD):
        assert secret not in text
    assert "admin" in text and "db.example.com" in text  # who and where, in clear


def test_the_page_waits_for_its_own_calls_by_one_bound_per_kind_of_work() -> None:
    settings = ConsoleSettings(connect_wait_s=4.0, connect_timeout_s=6.0, query_timeout_s=90.0)
    assert settings.page_wait_s("describe") == 4.0 + 3.0  # the pool's spare connection
    assert settings.page_wait_s("probe") == 4.0 + 6.0 + 2.0
    assert settings.page_wait_s("schema") == 4.0 + 6.0 + 30.0  # the query timeout, capped
    assert ConsoleSettings(query_timeout_s=10.0).page_wait_s("schema") == 5.0 + 5.0 + 10.0
