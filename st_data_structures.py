"""Value objects that cross between the page's widgets and the engine. No Streamlit here."""

from __future__ import annotations

from dataclasses import dataclass, field

from ecc.arguments.drafts import QueryDraft
from ecc.driver.client import Cardinality, QueryMethod
from ecc.driver.describe_cache import Description

# The form's cardinality choices: a cardinality's value is its label (one map, in ecc:
# ``QueryMethod.pick`` and ``QueryMethod.cardinality``).
CARDINALITY_LABELS: dict[str, Cardinality] = {c.value: c for c in Cardinality}


@dataclass(frozen=True)
class QueryTabContent:
    """One tab of the query form, as the widgets hold it: nothing parsed or checked here
    (``ecc.arguments.drafts.build_requests`` does that, once)."""

    text: str = ""
    args_text: str = ""
    kwargs_text: str = ""
    cardinality: str = "many"  # a key of CARDINALITY_LABELS
    as_json: bool = False
    mode: str = "typed"  # "typed": one input per parameter; "text": the argument language
    # Typed mode: the values of the tab's parameter inputs the session holds, by name.
    raw_params: dict[str, str | bool | None] = field(default_factory=dict)
    # Typed mode: the server's description of ``text`` when the page has one.
    description: Description | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class FormContent:
    """What one submission of the form holds: one or more queries."""

    tabs: tuple[QueryTabContent, ...] = field(default_factory=tuple)
    analyze: bool = False  # the "Analyze" button: run ``analyze <query>`` for each query
    # Values remembered by parameter name (any tab): what an input not drawn yet holds.
    remembered: dict[str, str | bool | None] = field(default_factory=dict)

    def drafts(self) -> list[QueryDraft]:
        """One draft per tab, as the widgets hold it; an empty extra tab is left out by
        ``build_requests`` (``optional``)."""
        return [
            QueryDraft(
                name=f"Query {index}",
                text=tab.text,
                args_text=tab.args_text,
                kwargs_text=tab.kwargs_text,
                method=QueryMethod.pick(
                    CARDINALITY_LABELS.get(tab.cardinality, Cardinality.MANY), tab.as_json),
                typed=tab.mode == "typed",
                raw_params=tab.raw_params,
                remembered=self.remembered,
                description=tab.description,
                optional=index > 1,
            )
            for index, tab in enumerate(self.tabs, start=1)
        ]


@dataclass(frozen=True)
class UserPrefs:
    """Per-session settings a user may change (an allow-list; each bounded by the admin's)."""

    row_limit: int
    query_timeout_s: float
    view: str = "table"  # table | json | text
