"""CLI command modules; each registers its commands on driftscan.clikit.app."""
