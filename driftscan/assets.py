"""Locate the built-in rule pack and report templates, in a source tree or an installed wheel."""

from __future__ import annotations

from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent


def _locate(source_dir: Path, package_dir: str) -> Path:
    # A source checkout (or an editable install) reads the top-level folders directly;
    # a wheel carries them inside the package as driftscan/_rules and driftscan/_templates
    # (folders without __init__.py, so importlib.resources would hand back a namespace path).
    if source_dir.is_dir() and (_ROOT / "pyproject.toml").is_file():
        return source_dir
    return Path(__file__).resolve().parent / package_dir


def rules_dir() -> Path:
    """The built-in rule pack folder."""
    return _locate(_ROOT / "rules", "_rules")


def templates_dir() -> Path:
    """The report templates folder."""
    return _locate(_ROOT / "reports" / "templates", "_templates")
