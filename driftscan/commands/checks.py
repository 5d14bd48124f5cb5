"""CLI commands: checks (placeholder until its issue lands)."""
