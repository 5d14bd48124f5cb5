"""Start-up benchmark: wall time of a fresh `driftscan` process for --help, query --help and query.

Each figure is the median of --runs fresh processes (after one unmeasured warm-up), the
commands taken in turn so that a busy spell hits them alike; CPU time (user + system, from
wait4) is beside it, the figure that moves least when the machine is busy. The query runs
against a small store (one scan of 20 resources) made in a temporary folder, with --store and
with a config. Floors for comparison: the interpreter alone, importing Typer and DuckDB, and
the least any `query --store` can cost (import both, open the store read-only, run the SQL),
and the least `query -c` can (that, with pydantic and PyYAML imported for the config).
driftscan's bytecode is compiled first (`compileall`), as an installed package has it: with
PYTHONDONTWRITEBYTECODE set (this machine sets it) every run would otherwise compile
driftscan's modules again, some 20-30 ms that no installed copy spends.
Target (issue 13, item 6): `driftscan --help` and `driftscan query ...` ≤ 150 ms.

    python benchmarks/bench_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 150.0


def _driftscan() -> list[str]:
    """The installed console script, as a user runs it (else `python -m driftscan`)."""
    script = Path(sys.executable).parent / "driftscan"
    return [str(script)] if script.exists() else [sys.executable, "-m", "driftscan"]


def _make_store(d: Path) -> tuple[Path, Path]:
    sys.path.insert(0, str(ROOT))
    from driftscan.store import Store
    from tests.conftest import make_resources, make_run, write

    store = d / "bench.duckdb"
    with Store(store) as st:
        write(st, [make_run(make_resources(20))])
    cfg = d / "driftscan.yaml"
    cfg.write_text(f"store: {store}\nsources:\n  - {{name: aws-test, type: aws}}\n")
    return store, cfg


def _once(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU milliseconds of one fresh process; it must succeed."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = 1000 * (time.perf_counter() - t0)
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(argv)}: exit {code}\n{err}")
    return wall, 1000 * (usage.ru_utime + usage.ru_stime)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=15, help="fresh processes per command")
    args = ap.parse_args()

    ds, py = _driftscan(), sys.executable
    # Written even under PYTHONDONTWRITEBYTECODE (compileall writes explicitly).
    compileall.compile_dir(ROOT / "driftscan", quiet=1)
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        store, cfg = _make_store(Path(tmp))
        sql = "select 1"
        least = (f"import typer, duckdb; duckdb.connect({str(store)!r}, read_only=True)"
                 f".execute({sql!r}).fetchall()")  # fmt: skip
        cases: list[tuple[str, list[str], float | None]] = [
            ("driftscan --help", [*ds, "--help"], TARGET_MS),
            ("driftscan query --help", [*ds, "query", "--help"], TARGET_MS),
            (f'driftscan query "{sql}" --store S', [*ds, "query", sql, "--store", str(store)],
             TARGET_MS),
            (f'driftscan query "{sql}" -c CONFIG', [*ds, "query", sql, "-c", str(cfg)],
             TARGET_MS),
            ("floor: python -c pass", [py, "-c", "pass"], None),
            ('floor: python -c "import typer"', [py, "-c", "import typer"], None),
            ('floor: python -c "import duckdb"', [py, "-c", "import duckdb"], None),
            ("floor: typer + duckdb + open + query", [py, "-c", least], None),
            # What -c adds at the least: the config is YAML validated by pydantic models.
            ("floor: the above + pydantic + yaml", [py, "-c", f"import pydantic.main, yaml; {least}"],
             None),
        ]  # fmt: skip
        walls: dict[str, list[float]] = {name: [] for name, _, _ in cases}
        cpus: dict[str, list[float]] = {name: [] for name, _, _ in cases}
        for _, argv, _ in cases:
            _once(argv)  # warm the page cache; not measured
        for _ in range(args.runs):
            for name, argv, _ in cases:
                wall, cpu = _once(argv)
                walls[name].append(wall)
                cpus[name].append(cpu)

    ok = True
    print(f"start-up benchmark: median of {args.runs} fresh processes, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.2f}; driftscan's bytecode compiled first"
          f"{' (PYTHONDONTWRITEBYTECODE is set here)' if os.environ.get('PYTHONDONTWRITEBYTECODE') else ''}")  # fmt: skip
    for name, _, target in cases:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        verdict = ""
        if target is not None:
            met = wall <= target
            ok &= met
            verdict = f"  target ≤ {target:.0f} ms: {'met' if met else f'MISSED by {wall - target:.0f} ms'}"
        print(f"  {name:40} {wall:6.0f} ms wall  {cpu:6.0f} ms CPU{verdict}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
