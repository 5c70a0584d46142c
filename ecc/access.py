"""Who may use the console when sign-in (``[auth]``, OpenID Connect) is configured."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AccessDecision:
    allowed: bool
    reason: str


def access_decision(
    logged_in: bool,
    email: str | None,
    allowed_emails: tuple[str, ...],
    allowed_domains: tuple[str, ...],
) -> AccessDecision:
    """Signed-in users pass when no allow-list is set, or when their address or its domain is
    on it. Comparison is case-insensitive; a domain entry matches that exact domain only."""
    if not logged_in:
        return AccessDecision(False, "Sign in to use this console.")
    if not allowed_emails and not allowed_domains:
        return AccessDecision(True, "Any signed-in user may use this console.")
    address = (email or "").strip().lower()
    domain = address.rpartition("@")[2] if "@" in address else ""
    emails = {e.strip().lower() for e in allowed_emails}
    domains = {d.strip().lower().lstrip("@") for d in allowed_domains}
    if (address and address in emails) or (domain and domain in domains):
        return AccessDecision(True, "Your e-mail is on the allow-list.")
    return AccessDecision(
        False,
        f"{email or 'Your account'} is not allowed to use this console. Ask an administrator "
        "to add it to allowed_emails or allowed_domains in [connections.gel].",
    )
