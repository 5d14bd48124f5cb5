"""The sandbox's moto server process: `python -m moto.server` with one service-model loader kept."""

from __future__ import annotations

import functools
import sys


def main(argv: list[str]) -> None:
    import moto.core.utils as moto_utils
    from moto.server import main as moto_main

    # moto makes a new botocore Loader for every model it loads, and each new Loader lists
    # every service directory again: a sixth of the server's CPU while the sandbox is seeded
    # (1 s of 6). One Loader, kept, answers those listings from its cache. Should moto rename
    # the function, the server runs unchanged, only slower.
    make = getattr(moto_utils, "create_loader", None)
    if callable(make):
        setattr(moto_utils, "create_loader", functools.cache(make))  # noqa: B010
    moto_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
