"""Value objects that cross between the page's widgets and the engine. No Streamlit here."""

from __future__ import annotations

from dataclasses import dataclass, field

from ecc.arguments.drafts import QueryDraft
from ecc.driver.client import Cardinality

CARDINALITY_LABELS: dict[str, Cardinality] = {
    "many": Cardinality.MANY,
    "at most one": Cardinality.AT_MOST_ONE,
    "exactly one": Cardinality.EXACTLY_ONE,
}


@dataclass(frozen=True)
class QueryTabContent:
    """One tab of the query form, as the widgets hold it."""

    text: str = ""
    args_text: str = ""
    kwargs_text: str = ""
    cardinality: str = "many"  # a key of CARDINALITY_LABELS
    as_json: bool = False
    mode: str = "typed"  # "typed": one input per parameter; "text": the argument language
    raw_params: dict[str, str | bool | None] = field(default_factory=dict)  # typed inputs
    # Driver values converted from the typed inputs; when set they are the arguments.
    typed_args: tuple[object, ...] | None = None
    typed_kwargs: dict[str, object] | None = None


@dataclass(frozen=True)
class FormContent:
    """What one submission of the form holds: one or more queries."""

    tabs: tuple[QueryTabContent, ...] = field(default_factory=tuple)
    analyze: bool = False  # the "Analyze" button: run ``analyze <query>`` for each query

    def drafts(self) -> list[QueryDraft]:
        """One draft per non-empty tab (a batch of one when only the first tab is used)."""
        drafts = []
        for index, tab in enumerate(self.tabs, start=1):
            if not tab.text.strip() and index > 1:
                continue  # an empty extra tab is simply unused
            drafts.append(
                QueryDraft(
                    name=f"Query {index}",
                    text=tab.text,
                    args_text=tab.args_text,
                    kwargs_text=tab.kwargs_text,
                    cardinality=CARDINALITY_LABELS.get(tab.cardinality, Cardinality.MANY),
                    as_json=tab.as_json,
                    typed_args=tab.typed_args,
                    typed_kwargs=tab.typed_kwargs,
                )
            )
        return drafts


@dataclass(frozen=True)
class UserPrefs:
    """Per-session settings a user may change (an allow-list; each bounded by the admin's)."""

    row_limit: int
    query_timeout_s: float
    view: str = "table"  # table | json | text
