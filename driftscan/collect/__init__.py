"""Collectors: read live state from sources into Resource records (never touch the store)."""
