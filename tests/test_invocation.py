"""The demo's hints show a command that works as typed, with or without the venv on PATH."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from driftscan.commands.ops import _invocation

BIN = Path(sys.executable).parent


def test_venv_not_on_path_gives_the_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.chdir(BIN.parent.parent)
    got = _invocation()
    assert got != "driftscan" and Path(got).resolve() == (BIN / "driftscan").resolve()
    assert not Path(got).is_absolute()  # relative to where the user stands: .venv/bin/driftscan


def test_venv_on_path_gives_the_bare_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(BIN))
    assert _invocation() == "driftscan"
