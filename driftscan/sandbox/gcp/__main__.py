"""Serve a sandbox organisation until stopped: `python -m driftscan.sandbox.gcp [--assets N --projects M]`."""

from __future__ import annotations

import argparse
import signal
import sys

from driftscan.sandbox.gcp import ORGANIZATION, large_estate, serve
from driftscan.sandbox.https import serve_until_interrupted


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ca-dir", default=None, help="where to write the sandbox CA certificate")
    ap.add_argument(
        "--assets", type=int, default=0, help="serve a large estate of this many assets"
    )
    ap.add_argument("--projects", type=int, default=50)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    estate = large_estate(args.assets, args.projects) if args.assets else None
    with serve(estate, port=args.port, ca_dir=args.ca_dir) as emu:
        # One line a script can parse: the origin, the CA file and the organisation.
        print(f"{emu.url} {emu.ca_path} organizations/{ORGANIZATION} {len(emu.assets)}", flush=True)
        serve_until_interrupted()


if __name__ == "__main__":
    main()
