"""CLI commands: ops (placeholder until its issue lands)."""
