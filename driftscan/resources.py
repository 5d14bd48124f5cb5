"""Locate the built-in rule pack and report templates, in a source tree or an installed wheel."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent


def _locate(source_dir: Path, package: str) -> Path:
    # A source checkout (or an editable install) reads the top-level folders directly;
    # a wheel carries them as the driftscan._rules / driftscan._templates packages.
    if source_dir.is_dir() and (_ROOT / "pyproject.toml").is_file():
        return source_dir
    return Path(str(resources.files(package)))


def rules_dir() -> Path:
    """The built-in rule pack folder."""
    return _locate(_ROOT / "rules", "driftscan._rules")


def templates_dir() -> Path:
    """The report templates folder."""
    return _locate(_ROOT / "reports" / "templates", "driftscan._templates")
