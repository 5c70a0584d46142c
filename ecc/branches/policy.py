"""The operator's policy for branches and globals, from the settings; the page asks it, and
the engine asks it again before anything is sent (the page is not the guard).

Branches: a pinned branch (or no ``allowed_branches``) keeps every session on the connection's
branch; ``allowed_branches`` names the others users may pick, ``"*"`` every branch the server
lists. The connection's branch is always allowed: sessions start there.

Globals: by default users may set none, because globals can decide what access policies let
through. ``fixed_globals`` are applied to every session and never editable; ``user_globals``
names the only globals a user may set. Server configuration (``apply_access_policies`` and
the like) is never a global and never set by the console (``ecc.settings.config``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ecc.branches.catalog import BranchCatalog
from ecc.driver.errors import input_error
from ecc.settings.config import ConsoleSettings, FixedGlobalValue

ANY_BRANCH = "*"


@dataclass(frozen=True)
class BranchPolicy:
    # The connection's branch (the pinned one when pinned); None: the server's default branch.
    default: str | None = None
    pinned: bool = False
    allowed: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: ConsoleSettings) -> BranchPolicy:
        return cls(default=settings.connection.branch, pinned=settings.pinned_branch is not None,
                   allowed=settings.allowed_branches)

    @property
    def changeable(self) -> bool:
        """Whether a user may pick another branch at all."""
        return not self.pinned and bool(self.allowed)

    def default_name(self, catalog: BranchCatalog | None) -> str | None:
        """The session's starting branch by name (the server's answer when settings name none)."""
        return self.default or (catalog.current if catalog is not None else None)

    def choices(self, catalog: BranchCatalog | None) -> tuple[str, ...]:
        """The branches the picker offers, the default first. ``"*"`` offers what the server
        lists; named ones are offered only when the server lists them (a catalog that could
        not be read lists only the current branch)."""
        start = self.default_name(catalog)
        first = (start,) if start else ()
        if not self.changeable or catalog is None:
            return first
        listed = catalog.names
        others = listed if ANY_BRANCH in self.allowed else tuple(
            n for n in self.allowed if n in listed)
        return first + tuple(n for n in others if n != start)

    def check(self, branch: str | None, catalog: BranchCatalog | None = None) -> str | None:
        """The branch a session may run on: None for the connection's own. Raises
        ``ConsoleInputError`` naming the branch and what the operator allows."""
        if branch is None or branch == self.default or (
                self.default is None and catalog is not None and branch == catalog.current):
            return None
        shown = branch if len(branch) <= 80 else branch[:80] + "…"
        if self.pinned:
            raise input_error(
                f"This console is pinned to branch {self.default!r}; branch {shown!r} cannot "
                "be used here.", title="Branch not allowed",
                hint="The operator pins the branch with pinned_branch in [connections.gel].")
        if not self.allowed:
            raise input_error(
                f"This console runs on its connection's branch only; branch {shown!r} is not "
                "allowed.", title="Branch not allowed",
                hint="An operator can allow branches with allowed_branches in "
                "[connections.gel].")
        if ANY_BRANCH not in self.allowed and branch not in self.allowed:
            raise input_error(
                f"Branch {shown!r} is not one of the branches this console allows: "
                + ", ".join(self.allowed) + ".", title="Branch not allowed")
        if catalog is not None and catalog.source != "current only" \
                and branch not in catalog.names:
            raise input_error(f"The server has no branch {shown!r}.", title="Unknown branch",
                              hint="Pick a branch from the list in the sidebar.")
        return branch

    def recorded(self, shown: str, catalog: BranchCatalog | None = None) -> str | None:
        """The branch to run a recorded run (or a saved query) on again, from the name the
        page showed for it ("": none recorded, the connection's): None for the connection's
        own. The operator's policy as it is now decides: raises ``ConsoleInputError`` naming
        the branch and why when it no longer allows it."""
        if not shown or shown == self.default_name(catalog):
            return None
        return self.check(shown, catalog)


@dataclass(frozen=True)
class GlobalsPolicy:
    fixed: tuple[tuple[str, FixedGlobalValue], ...] = ()
    user_settable: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: ConsoleSettings) -> GlobalsPolicy:
        return cls(fixed=settings.fixed_globals, user_settable=settings.user_globals)

    @property
    def fixed_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.fixed)

    def is_fixed(self, name: str) -> bool:
        return name in self.fixed_names

    def user_may_set(self, name: str) -> bool:
        return name in self.user_settable and not self.is_fixed(name)

    @property
    def active(self) -> bool:
        """Whether globals play any part (the page draws the globals panel)."""
        return bool(self.fixed or self.user_settable)
