"""`python -m driftscan`: the same as the `driftscan` command."""

from driftscan.cli import main

main()
