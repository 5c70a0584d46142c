"""The fake server's branches: the branch list as a real server answers it, per version, and
different data per branch, so a test sees a switch.

As recorded on EdgeDB 5.8 (``../shared/gel-transcripts/product_queries.json``): ``select
sys::Branch.name`` is an ``InvalidReferenceError``, ``select sys::Database.name`` lists the
branches, ``sys::get_current_branch()`` and ``sys::get_current_database()`` name the current
one; connecting to a branch that does not exist fails with ``UnknownDatabaseError`` ("database
branch 'x' does not exist", recorded in transcripts.json's behaviours). ``version=6`` is Gel 6
as its documentation names things (``sys::Branch``); no Gel 6 server was recorded, so what it
answers for ``sys::Database`` is a guess (here: it does not exist either).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gel.errors
from gel.datatypes import datatypes as dt

from ecc.branches import catalog
from ecc.fake.client import FakeClient, Responder, demo_movies, demo_responder

_movie = dt.create_object_factory(
    id={"property", "implicit"}, title="property", release_year="property", rating="property")
_MOVIE_RE = re.compile(r"^\s*select\s+Movie\b", re.I)


@dataclass(frozen=True)
class FakeBranchServer:
    """What the fake server holds: its branches (the first is the default), the version
    deciding how it lists them, and whether the role may read ``sys``."""

    branches: tuple[str, ...] = ("main",)
    version: int = 5
    sys_readable: bool = True

    @property
    def default(self) -> str:
        return self.branches[0]


def _missing(name: str) -> gel.errors.InvalidReferenceError:
    return gel.errors.InvalidReferenceError(f"object type or alias '{name}' does not exist")


def catalog_answer(server: FakeBranchServer, branch: str, query: str) -> Any:
    """The server's answer to one of ``ecc.branches.catalog``'s queries (an exception to raise
    is returned as the answer), or None for any other query."""
    text = query.strip()
    listing = {catalog.BRANCHES_QUERY: "sys::Branch", catalog.DATABASES_QUERY: "sys::Database"}
    if text in listing:
        type_name = listing[text]
        exists = (type_name == "sys::Database") == (server.version < 6)
        if not exists:
            return _missing(type_name)
        if not server.sys_readable:
            return gel.errors.AccessError(f"permission denied: the role may not read {type_name}")
        return list(server.branches)
    if text in (catalog.CURRENT_BRANCH_QUERY, catalog.CURRENT_DATABASE_QUERY):
        return [branch]
    return None


def branch_movies(server: FakeBranchServer, branch: str) -> list[Any]:
    """The default branch holds the demo movies; any other branch fewer of them, titled with
    the branch's name (``Alien [staging]``), so a switch shows in any result."""
    movies = demo_movies()
    if branch == server.default:
        return movies
    return [_movie(m.id, f"{m.title} [{branch}]", m.release_year, m.rating)
            for m in movies[:3]]


def branch_responder(server: FakeBranchServer, branch: str,
                     base: Responder = demo_responder) -> Responder:
    """``base`` on ``branch``: the branch catalog's answers and the branch's movies first."""

    def respond(query: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        answer = catalog_answer(server, branch, query)
        if answer is not None:
            return answer
        if _MOVIE_RE.match(query):
            return branch_movies(server, branch)
        return base(query, args, kwargs)

    return respond


class FakeBranchClients:
    """Builds fake clients per branch of one fake server, and remembers each: call it with no
    argument for the connection's (default) branch, or with a branch name (the session
    runtime's ``branch_client_factory``). A branch the server lacks fails to connect as a real
    one does (``UnknownDatabaseError``)."""

    def __init__(self, server: FakeBranchServer | None = None,
                 base: Responder = demo_responder, **fake_kwargs: Any) -> None:
        self.server = server or FakeBranchServer()
        self.base = base
        self.fake_kwargs = fake_kwargs
        self.built: list[FakeClient] = []

    def __call__(self, branch: str | None = None) -> FakeClient:
        name = branch or self.server.default
        kwargs = dict(self.fake_kwargs)
        if name not in self.server.branches:
            kwargs["connect_error"] = gel.errors.UnknownDatabaseError(
                f"database branch '{name}' does not exist")
        client = FakeClient(branch_responder(self.server, name, self.base), branch=name,
                            **kwargs)
        self.built.append(client)
        return client

    def default_factory(self) -> Callable[[], FakeClient]:
        return lambda: self()

    def on_branch(self, branch: str) -> list[FakeClient]:
        return [c for c in self.built if c.branch == branch]

    def open_clients(self) -> list[FakeClient]:
        return [c for c in self.built if not c.stats.closed]


# --- wiring into the app (test-only, with the ``fake_client`` setting) ----------------------
# ``ECC_TEST_FAKE_BRANCHES="main,staging"`` serves those branches (the first is the default),
# so a browser test running ``streamlit run`` can switch; ``use_fake_branches`` installs
# clients in process (AppTest).
FAKE_BRANCHES_ENV = "ECC_TEST_FAKE_BRANCHES"
_installed: FakeBranchClients | None = None


def use_fake_branches(clients: FakeBranchClients | None) -> None:
    global _installed
    _installed = clients


def active_fake_branches() -> FakeBranchClients | None:
    """The installed fake branches, else those the environment names, else None (the demo
    fake: one branch)."""
    if _installed is not None:
        return _installed
    names = tuple(n.strip() for n in os.environ.get(FAKE_BRANCHES_ENV, "").split(",")
                  if n.strip())
    if not names:
        return None
    latency = float(os.environ.get("ECC_TEST_FAKE_LATENCY_S", "0") or 0)
    return FakeBranchClients(FakeBranchServer(names), latency_s=latency)
