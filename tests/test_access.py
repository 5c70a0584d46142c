"""Sign-in: the allow-list decision, and the page's gate when [auth] is configured."""

from __future__ import annotations

import pytest

from ecc.access import access_decision
from tests.apptest_support import FakeFactory, console, texts

pytestmark = pytest.mark.usefixtures("clean_driver_env")


def test_nobody_passes_without_signing_in() -> None:
    assert not access_decision(False, None, (), ()).allowed


def test_any_signed_in_user_passes_when_there_is_no_allow_list() -> None:
    assert access_decision(True, "ana@example.com", (), ()).allowed


@pytest.mark.parametrize(
    ("email", "allowed"),
    [
        ("ana@example.com", True),
        ("ANA@Example.COM", True),
        ("bob@corp.example", True),
        ("bob@evil.example", False),
        ("bob@sub.corp.example", False),  # a domain entry matches that exact domain only
        (None, False),
    ],
)
def test_the_allow_list_decides_by_address_or_domain(email: str | None, allowed: bool) -> None:
    decision = access_decision(True, email, ("ana@example.com",), ("corp.example",))
    assert decision.allowed is allowed
    if not allowed:
        assert "allowed_emails" in decision.reason


def test_with_auth_configured_the_page_asks_to_sign_in_and_shows_no_console() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback",
                              "cookie_secret": "x" * 32, "client_id": "id",
                              "client_secret": "s",
                              "server_metadata_url": "https://idp.example/.well-known"}
        at.run()
        assert not at.exception
        assert "Sign in to use this console." in texts(at)
        assert [b.label for b in at.button] == ["Sign in"]
        assert not at.text_area
        assert factory.built == []


def test_without_auth_the_page_says_it_is_open_to_anyone() -> None:
    with console(FakeFactory()) as at:
        at.run()
        assert "anyone who can reach this page" in texts(at)
