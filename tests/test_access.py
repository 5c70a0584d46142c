"""Sign-in: the allow-list decision, and the page's gate when [auth] is configured."""

from __future__ import annotations

from typing import Any

import pytest

from ecc.display.safe_text import escape_markdown
from ecc.settings.access import access_decision, email_is_verified, require_sign_in_for_allow_list
from ecc.settings.config import ConsoleSettings, SettingsError
from tests.apptest_support import FakeFactory, console, editor_data, shown, texts
from tests.test_safe_text import unescape, unescaped_markup

pytestmark = pytest.mark.usefixtures("clean_driver_env")

AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
        "client_id": "id", "client_secret": "s",
        "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}
LISTS = {"allowed_emails": ["ana@example.com"], "allowed_domains": ["corp.example"]}


def decide(email: str | None, verified: object = True) -> Any:
    return access_decision(True, email, ("ana@example.com",), ("corp.example",),
                           email_verified=verified)


def test_nobody_passes_without_signing_in() -> None:
    assert not access_decision(False, None, (), (), email_verified=None).allowed


@pytest.mark.parametrize("verified", [True, False, None])
def test_any_signed_in_user_passes_when_there_is_no_allow_list(verified: object) -> None:
    assert access_decision(True, "ana@example.com", (), (), email_verified=verified).allowed


@pytest.mark.parametrize(
    ("email", "allowed"),
    [
        ("ana@example.com", True),
        ("ANA@Example.COM", True),
        (" ana@example.com ", True),
        ("bob@corp.example", True),
        ("bob@CORP.example", True),
        ("bob@evil.example", False),
        ("bob@sub.corp.example", False),  # a domain entry matches that exact domain only
        ("ana@example.com.evil.example", False),
        ("corp.example", False),  # no "@": not an address in the domain
    ],
)
def test_a_verified_address_passes_by_address_or_domain(email: str, allowed: bool) -> None:
    decision = decide(email)
    assert decision.allowed is allowed
    if not allowed:
        assert "allowed_emails" in decision.reason


@pytest.mark.parametrize("email", ["ana@example.com", "bob@corp.example"])
@pytest.mark.parametrize(
    ("verified", "state"), [(False, "not true"), ("false", "not true"), (None, "missing")]
)
def test_an_unverified_or_unconfirmed_address_never_counts(
    email: str, verified: object, state: str
) -> None:
    decision = decide(email, verified)
    assert not decision.allowed
    assert f"email_verified claim is {state}" in decision.reason
    assert email in decision.reason


def test_without_an_address_the_allow_list_refuses() -> None:
    for email in (None, "", "  "):
        decision = decide(email)
        assert not decision.allowed
        assert "did not give an e-mail address" in decision.reason


@pytest.mark.parametrize(
    ("claim", "verified"),
    [(True, True), ("true", True), ("TRUE", True), (False, False), ("false", False),
     (None, False), (1, False), ("yes", False), ("", False)],
)
def test_only_true_counts_as_verified(claim: object, verified: bool) -> None:
    assert email_is_verified(claim) is verified


@pytest.mark.parametrize(
    ("lists", "named"),
    [
        ({"allowed_emails": ("ana@example.com",)}, "allowed_emails is set"),
        ({"allowed_domains": ("example.com",)}, "allowed_domains is set"),
        (
            {"allowed_emails": ("ana@example.com",), "allowed_domains": ("example.com",)},
            "allowed_emails and allowed_domains are set",
        ),
    ],
)
def test_an_allow_list_without_sign_in_is_a_settings_error(
    lists: dict[str, tuple[str, ...]], named: str
) -> None:
    settings = ConsoleSettings(**lists)  # type: ignore[arg-type]
    with pytest.raises(SettingsError) as raised:
        require_sign_in_for_allow_list(settings, auth_configured=False)
    message = str(raised.value)
    assert named in message
    assert "Add an [auth] section" in message
    assert "or remove" in message
    require_sign_in_for_allow_list(settings, auth_configured=True)  # with sign-in: fine


def test_no_allow_list_needs_no_sign_in() -> None:
    require_sign_in_for_allow_list(ConsoleSettings(), auth_configured=False)


# --- the page -------------------------------------------------------------------------------
def test_with_auth_configured_the_page_asks_to_sign_in_and_shows_no_console() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.secrets["auth"] = AUTH
        at.run()
        assert not at.exception
        assert "Sign in to use this console." in unescape(texts(at))
        assert [b.label for b in at.button] == ["Sign in"]
        assert not at.text_area
        assert factory.built == []


def test_without_auth_the_page_says_it_is_open_to_anyone() -> None:
    with console(FakeFactory()) as at:
        at.run()
        assert "anyone who can reach this page" in texts(at)


@pytest.mark.parametrize("lists", [{"allowed_emails": ["ana@example.com"]},
                                   {"allowed_domains": ["example.com"]}])
def test_an_allow_list_without_auth_shows_a_settings_error_and_no_console(
    lists: dict[str, list[str]],
) -> None:
    factory = FakeFactory()
    with console(factory, **lists) as at:
        at.user = {"is_logged_in": True, "email": "ana@example.com", "email_verified": True}
        at.run()
        assert not at.exception
        problem = shown(at.error[0].value)
        assert "settings need fixing" in problem
        assert "sign-in is not configured" in problem
        assert "Add an [auth] section" in problem
        assert not at.text_area
        assert not at.button
        assert factory.built == []



def test_a_verified_listed_user_gets_the_console_and_a_sign_out_button() -> None:
    factory = FakeFactory()
    with console(factory, **LISTS) as at:
        at.secrets["auth"] = AUTH
        at.user = {"is_logged_in": True, "email": "bob@corp.example", "email_verified": True}
        at.run()
        assert not at.exception
        assert editor_data(at)  # the query editor is drawn
        assert "Sign out" in [b.label for b in at.button]
        assert "Signed in as bob@corp.example." in texts(at)
        assert escape_markdown("Signed in as bob@corp.example.") in [c.value for c in at.caption]


@pytest.mark.parametrize("claims", [{"email_verified": False}, {}],
                         ids=["unverified", "verification-absent"])
def test_a_listed_but_unconfirmed_address_is_refused(claims: dict[str, Any]) -> None:
    factory = FakeFactory()
    with console(factory, **LISTS) as at:
        at.secrets["auth"] = AUTH
        at.user = {"is_logged_in": True, "email": "ana@example.com", **claims}
        at.run()
        assert not at.exception
        reason = unescape(at.info[0].value)
        assert "ana@example.com" in reason
        assert "email_verified claim is" in reason
        assert [b.label for b in at.button] == ["Sign out"]
        assert not at.text_area
        assert factory.built == []


PAYLOAD = ("[Session expired: sign in again](https://evil.example/login) "
           "![px](https://evil.example/px.png) <img src=x onerror=alert(1)>\n# Heading\n"
           "| a | b |\n|---|---| *em* _em_ `code` :red[red] $x^2$ &amp; https://evil.example")


@pytest.mark.parametrize("verified", [True, False])
def test_the_providers_email_reaches_the_page_as_literal_text(verified: bool) -> None:
    with console(FakeFactory(), **LISTS) as at:
        at.secrets["auth"] = AUTH
        at.user = {"is_logged_in": True, "email": PAYLOAD + "@evil.example",
                   "email_verified": verified}
        at.run()
        assert not at.exception
        shown = at.info[0].value
        assert unescaped_markup(shown) is None, shown
        assert " ".join(PAYLOAD.split()) in unescape(shown)
        assert not at.text_area


def test_the_signed_in_caption_shows_a_listed_address_as_literal_text() -> None:
    email = "**ana**_x_[a](https://evil.example)@corp.example"
    with console(FakeFactory(), **LISTS) as at:
        at.secrets["auth"] = AUTH
        at.user = {"is_logged_in": True, "email": email, "email_verified": True}
        at.run()
        assert not at.exception
        caption = next(c.value for c in at.caption if "Signed in as" in unescape(c.value))
        assert unescaped_markup(caption) is None, caption
        assert unescape(caption) == f"Signed in as {email}."
