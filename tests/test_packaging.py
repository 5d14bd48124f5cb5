"""A built wheel installed in a fresh virtual environment finds its rules and templates."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

_PROBE = """
import sys
from pathlib import Path
import driftscan.assets as r
rules, templates = r.rules_dir(), r.templates_dir()
assert "site-packages" in str(rules), rules
print(sorted(p.relative_to(rules).as_posix() for p in rules.rglob("*.yaml")))
print(sorted(p.name for p in templates.iterdir() if p.is_file() and not p.name.startswith("_")))
"""


@pytest.mark.slow
def test_wheel_ships_rules_and_templates(tmp_path: Path) -> None:
    """The wheel carries every rule file and template, and the installed package finds them."""
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
            str(ROOT),
        ],
        check=True,
        cwd=tmp_path,
    )
    wheel = next(dist.glob("driftscan-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, cwd=tmp_path
    )
    out = subprocess.run(
        [str(py), "-c", _PROBE], check=True, capture_output=True, text=True, cwd=tmp_path
    )
    rules_line, templates_line = out.stdout.strip().splitlines()
    expected_rules = sorted(
        p.relative_to(ROOT / "rules").as_posix() for p in (ROOT / "rules").rglob("*.yaml")
    )
    expected_templates = sorted(
        p.name
        for p in (ROOT / "reports" / "templates").iterdir()
        if p.is_file() and not p.name.startswith("_")
    )
    assert expected_rules, "the repository has no rule files to ship"
    assert expected_templates, "the repository has no templates to ship"
    assert rules_line == str(expected_rules)
    assert templates_line == str(expected_templates)
