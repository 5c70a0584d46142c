"""A 100 000-row object result to the table's data (target <= 1 s), and the size estimate
every run pays after shaping (``within_byte_budget``, max_kept_bytes; target <= 0.25 s)."""

from __future__ import annotations

import decimal
import statistics
import time
import uuid

from gel.datatypes import datatypes as dt

from bench.common import report
from ecc.display.results import shape_result, table_data, within_byte_budget
from ecc.driver.client import QueryMethod

ROWS = 100_000


def make_rows() -> list[object]:
    person = dt.create_object_factory(id={"property", "implicit"}, name="property")
    movie = dt.create_object_factory(
        id={"property", "implicit"}, title="property", release_year="property",
        rating="property", budget="property", director="link",
    )
    director = person(uuid.uuid4(), "Denis Villeneuve")
    return [
        movie(uuid.UUID(int=i), f"Movie {i}", 1950 + i % 75, 5 + (i % 50) / 10,
              decimal.Decimal(i) / 4, director)
        for i in range(ROWS)
    ]


def main() -> bool:
    rows = make_rows()
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        shaped = shape_result(rows, QueryMethod.QUERY, max_kept_rows=ROWS)
        table = table_data(shaped, limit=ROWS)
        samples.append(time.perf_counter() - start)
        assert table.shown_rows == ROWS
    print(f"{ROWS:,} object rows to table data: runs (ms) {[round(s * 1000) for s in samples]}")
    table_ok = report("100k-row object result to table data, median",
                      statistics.median(samples), "s", 1.0)
    estimates = []
    for _ in range(5):
        start = time.perf_counter()
        kept = within_byte_budget(shaped, 20_000_000)
        estimates.append(time.perf_counter() - start)
        assert kept is shaped
    print(f"{ROWS:,} object rows sized for max_kept_bytes: runs (ms) "
          f"{[round(s * 1000) for s in estimates]}")
    return report("100k-row object result's size estimate, median",
                  statistics.median(estimates), "s", 0.25) and table_ok


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
