"""Run every benchmark and print its figures: `python -m bench.run_all`."""

from __future__ import annotations

from bench import (
    bench_batch,
    bench_editor,
    bench_explorer,
    bench_page,
    bench_plans,
    bench_schema,
    bench_sessions,
    bench_table,
    bench_ws,
)


def main() -> int:
    results = {}
    for module in (bench_batch, bench_table, bench_page, bench_editor, bench_sessions,
                   bench_schema, bench_plans):
        print(f"== {module.__name__}")
        results[module.__name__] = module.main()
    # `streamlit run` over its websocket with its own defaults (about 1.5 min), not run_all's
    # command line.
    print(f"== {bench_explorer.__name__}")
    results[bench_explorer.__name__] = bench_explorer.main([])
    print(f"== {bench_ws.__name__}")
    results[bench_ws.__name__] = bench_ws.main([])
    missed = [name for name, ok in results.items() if not ok]
    print("all targets met" if not missed else f"targets missed: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
