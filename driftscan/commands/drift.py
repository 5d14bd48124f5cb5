"""CLI commands: drift (placeholder until its issue lands)."""
