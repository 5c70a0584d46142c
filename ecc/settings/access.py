"""Who may use the console when sign-in (``[auth]``, OpenID Connect) is configured.

Fails closed: an allow-list without sign-in is a settings error (nobody's address could be
checked, so everyone would get in), and an address counts for the allow-list only when the
identity provider says it is verified (``email_verified`` true). Anyone can create an account
at many providers with any address they like, unverified.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecc.settings.config import ConsoleSettings, SettingsError


@dataclass(frozen=True)
class AccessDecision:
    allowed: bool
    reason: str  # plain text that may hold the provider's e-mail claim: escape it for Markdown


def require_sign_in_for_allow_list(settings: ConsoleSettings, *, auth_configured: bool) -> None:
    """Raise ``SettingsError`` when an allow-list is set but sign-in (``[auth]``) is not."""
    if auth_configured:
        return
    keys = [k for k in ("allowed_emails", "allowed_domains") if getattr(settings, k)]
    if not keys:
        return
    raise SettingsError(
        f"{' and '.join(keys)} {'is' if len(keys) == 1 else 'are'} set in [connections.gel], "
        "but sign-in is not configured (there is no [auth] section in the secrets), so no "
        "address can be checked and everyone who reaches the page would get in. Add an [auth] "
        "section (OpenID Connect sign-in; see .streamlit/secrets.toml.example) to require "
        f"sign-in, or remove {' and '.join(keys)} to open the console to anyone who can reach it."
    )


def email_is_verified(claim: object) -> bool:
    """The OpenID Connect ``email_verified`` claim says yes: JSON ``true``, or the string
    ``"true"`` that some providers send. Absent (``None``), false or anything else is no."""
    if claim is True:
        return True
    return isinstance(claim, str) and claim.strip().lower() == "true"


def access_decision(
    logged_in: bool,
    email: str | None,
    allowed_emails: tuple[str, ...],
    allowed_domains: tuple[str, ...],
    *,
    email_verified: object,
) -> AccessDecision:
    """Signed-in users pass when no allow-list is set, or when their verified address or its
    domain is on it. Comparison is case-insensitive; a domain entry matches that exact domain
    only. ``email_verified`` is the provider's claim as given (see ``email_is_verified``)."""
    if not logged_in:
        return AccessDecision(False, "Sign in to use this console.")
    if not allowed_emails and not allowed_domains:
        return AccessDecision(True, "Any signed-in user may use this console.")
    address = (email or "").strip().lower()
    if not address:
        return AccessDecision(
            False,
            "Your identity provider did not give an e-mail address, so you cannot be checked "
            "against this console's allowed_emails or allowed_domains. Ask an administrator.",
        )
    if not email_is_verified(email_verified):
        state = "missing" if email_verified is None else "not true"
        return AccessDecision(
            False,
            f"Your identity provider does not confirm that {email} is verified (its "
            f"email_verified claim is {state}), and only verified addresses count for this "
            "console's allowed_emails or allowed_domains. Verify the address with your "
            "provider, or ask an administrator.",
        )
    domain = address.rpartition("@")[2] if "@" in address else ""
    emails = {e.strip().lower() for e in allowed_emails}
    domains = {d.strip().lower().lstrip("@") for d in allowed_domains}
    if address in emails or (domain and domain in domains):
        return AccessDecision(True, "Your e-mail is on the allow-list.")
    return AccessDecision(
        False,
        f"{email} is not allowed to use this console. Ask an administrator to add it to "
        "allowed_emails or allowed_domains in [connections.gel].",
    )
