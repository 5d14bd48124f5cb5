"""A store created by a command that then fails, before any scan is written, is taken away."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any

import pytest

from driftscan.store import Store
from driftscan.store import core as store_core
from tests.conftest import make_resources, make_run, write


class _Failed(Exception):
    pass


def test_a_failure_in_a_new_store_removes_it_its_lock_key_and_folders(tmp_path: Path) -> None:
    """The new store's file, lock, log, default fingerprint key and made folders all go."""
    path = tmp_path / "a" / "b" / "s.duckdb"
    with pytest.raises(_Failed), Store(path):
        assert path.exists() and path.with_name("s.duckdb.lock").exists()
        path.with_name("s.duckdb.key").write_text("made during the failed scan\n")
        raise _Failed
    assert list(tmp_path.iterdir()) == []


def test_a_failure_in_an_existing_store_keeps_it(tmp_path: Path) -> None:
    """A store that was there before the failing command is left as it was."""
    path = tmp_path / "s.duckdb"
    Store(path).close()
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(_Failed), Store(path):
        raise _Failed
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_new_store_with_a_scan_is_kept_whatever_fails_after(tmp_path: Path) -> None:
    """Once a scan is stored (the report failing afterwards, say) the new store stays."""
    path = tmp_path / "s.duckdb"
    with pytest.raises(_Failed), Store(path) as st:
        write(st, [make_run(make_resources(2))])
        raise _Failed
    with Store(path, read_only=True) as st:
        assert len(st.scans()) == 1


def test_a_key_that_was_there_before_is_kept(tmp_path: Path) -> None:
    """A fingerprint key provisioned before the first scan is not the failed run's to remove."""
    key = tmp_path / "s.duckdb.key"
    key.write_text("0" * 64 + "\n")
    with pytest.raises(_Failed), Store(tmp_path / "s.duckdb"):
        raise _Failed
    assert [p.name for p in tmp_path.iterdir()] == ["s.duckdb.key"]


def test_a_lock_taken_on_a_removed_lock_file_is_taken_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lock file removed between opening and locking it (a failed run clearing up) is not
    trusted: the lock is taken on the file now at the path, so two runs cannot both hold it."""
    db = tmp_path / "s.duckdb"
    lock_path = tmp_path / "s.duckdb.lock"
    real_flock = fcntl.flock
    calls: list[int] = []

    def flock(f: Any, op: int) -> None:
        calls.append(op)
        if len(calls) == 1:
            lock_path.unlink()  # the failed run removes it just after we opened it
        real_flock(f, op)

    monkeypatch.setattr(store_core.fcntl, "flock", flock)
    handle = store_core._acquire_lock(db)
    try:
        assert len(calls) == 2
        assert os.fstat(handle.fileno()).st_ino == os.stat(lock_path).st_ino
    finally:
        handle.close()
