"""GCP collection: N assets over M projects of one organisation, read from the CAI emulator.

The emulator runs in a subprocess (`python -m driftscan.sandbox.gcp`), so the peak RSS printed is
the collector's process alone. Baseline, measured in the same run: every page of every project's
searchAllResources fetched with plain `requests` and parsed as JSON, nothing built (the
transport floor). Quota pacing is real (400 a minute per project, 1,500 per organisation) but
far from binding here: a project of 400 assets is one page.

    python benchmarks/bench_gcp.py [--assets 20000] [--projects 50]

Target (design §4): reported.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

import requests

from driftscan.collect.base import run_source
from driftscan.providers.gcp import GcpSource
from driftscan.providers.gcp.collect.client import PAGE_SIZE, READ_MASK
from driftscan.sandbox.gcp import DEMO_TOKEN


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _camel(s: str) -> str:
    head, *rest = s.split("_")
    return head + "".join(p.title() for p in rest)


def floor(url: str, ca: str, projects: list[str]) -> tuple[float, int]:
    """Seconds and results to fetch and parse every project's pages with requests alone."""
    sess = requests.Session()
    sess.headers["Authorization"] = f"Bearer {DEMO_TOKEN}"
    mask = ",".join(_camel(f) for f in READ_MASK)
    n = 0
    t = time.perf_counter()
    for p in projects:
        token = ""
        while True:
            params = {"pageSize": PAGE_SIZE, "readMask": mask, "pageToken": token}
            doc = sess.get(f"{url}/v1/projects/{p}:searchAllResources", params=params, verify=ca,
                           timeout=60).json()  # fmt: skip
            n += len(doc.get("results", []))
            token = doc.get("nextPageToken", "")
            if not token:
                break
    return time.perf_counter() - t, n


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--assets", type=int, default=20_000)
    ap.add_argument("--projects", type=int, default=50)
    args = ap.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-m", "driftscan.sandbox.gcp", "--assets", str(args.assets),
         "--projects", str(args.projects)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        url, ca, scope, served = server.stdout.readline().split()
        print(f"emulator: {served} assets over {args.projects} projects at {url}")
        os.environ["GCP_ACCESS_TOKEN"] = DEMO_TOKEN
        src = GcpSource(name="bench", type="gcp", scope=scope, credential="token_env",
                        endpoint=url, ca_bundle=ca)  # fmt: skip
        rss_before = _rss_mb()
        t = time.perf_counter()
        run = run_source(src)
        took = time.perf_counter() - t
        rss = _rss_mb()
        failed = [s for s in run.slices if s.status != "ok"]
        projects = sorted({s.account for s in run.slices if s.account})
        base_s, base_n = floor(url, ca, projects)
        n = len(run.resources)
        print(f"collected {n} assets in {took:.2f} s: {n / took:,.0f} assets/s "
              f"({len(run.slices)} slices, {len(failed)} failed)")  # fmt: skip
        print(f"peak RSS {rss:.0f} MB (before the scan {rss_before:.0f} MB)")
        print(f"floor: {base_n} results fetched and parsed with requests in {base_s:.2f} s "
              f"({base_n / base_s:,.0f}/s); the collector takes {took / base_s:.1f}x")  # fmt: skip
        return 0 if not failed and n == int(served) else 1
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
