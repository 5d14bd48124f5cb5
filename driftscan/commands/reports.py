"""CLI commands: reports (placeholder until its issue lands)."""
