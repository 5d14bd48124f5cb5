"""The sandbox's moto server process: `python -m moto.server` with its per-request overheads cut."""

from __future__ import annotations

import functools
import logging
import sys


def main(argv: list[str]) -> None:
    import moto.backends as moto_backends
    import moto.core.utils as moto_utils
    from moto.server import main as moto_main

    # Every request asks which backends exist, and moto answers by listing its package folder
    # and testing each entry with isdir (a seventh of the server's CPU during a scan): the
    # folder does not change while the server runs, so it is listed once.
    listed = getattr(moto_backends, "list_of_moto_modules", None)
    if callable(listed):
        modules = tuple(listed())
        setattr(moto_backends, "list_of_moto_modules", lambda: modules)  # noqa: B010
    # werkzeug logs each request at INFO to a stderr nobody reads (the sandbox discards it):
    # another tenth of the server's CPU. Warnings and errors still pass.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

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
