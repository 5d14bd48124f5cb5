"""Report formats are plugins: found through `driftscan.renderers`, the built-ins included."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import driftscan.cli  # noqa: F401 - registers every command
from driftscan.clikit import app
from driftscan.config import load_config
from driftscan.errors import ConfigError, ReportError
from driftscan.report import FORMATS, renderer, verify_report_dir
from driftscan.store import Store
from tests.conftest import make_resources, make_run, write
from tests.report.toy_renderer import TXT

runner = CliRunner()


def _install(site: Path, entry: str = "txt = tests.report.toy_renderer:TXT") -> None:
    """What `pip install driftscan-txt` leaves on sys.path: a dist-info with its entry point."""
    info = site / "toy-0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy\nVersion: 0.0\n")
    (info / "entry_points.txt").write_text(f"[driftscan.renderers]\n{entry}\n")


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The toy `txt` renderer installed into a site folder on sys.path; the registry rediscovers."""
    _install(tmp_path / "site")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    renderer.reset()
    yield tmp_path
    monkeypatch.undo()
    renderer.reset()


def _store(path: Path) -> Path:
    with Store(path) as st:
        write(st, [make_run(make_resources(5))])
    return path


def _config(root: Path, formats: list[str]) -> Path:
    cfg = root / "driftscan.yaml"
    cfg.write_text(yaml.safe_dump({"store": "store.duckdb", "reports": {"formats": formats}}))
    return cfg


def test_the_built_in_formats_are_registered_as_entry_points() -> None:
    """The built-in formats come from the entry-point group, each a Renderer of its name."""
    renderer.reset()
    assert set(FORMATS) == {"html", "pdf", "json", "csv", "oscal", "ocsf", "sarif", "junit"}
    for name in FORMATS:
        assert renderer.get(name).name == name


def test_a_third_party_format_is_written_and_sealed(toy: Path) -> None:
    """`driftscan report --format txt` writes the toy renderer's file; the manifest lists it."""
    assert renderer.get("txt") is TXT
    store = _store(toy / "store.duckdb")
    out = toy / "out"
    res = runner.invoke(
        app, ["report", "--store", str(store), "-c", str(toy / "none.yaml"),
              "--format", "txt", "--out", str(out)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    folder = Path(res.stdout.strip().splitlines()[0])
    assert (folder / "summary.txt").read_text().startswith("scan 1 (complete)\n")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [a["name"] for a in manifest["artifacts"]] == ["summary.txt"]
    assert verify_report_dir(out) == []


def test_the_config_accepts_exactly_the_registered_formats(toy: Path) -> None:
    """`reports.formats: [txt]` loads while the plugin is installed, and is a ConfigError naming
    the key once it is gone."""
    cfg = _config(toy, ["json", "txt"])
    assert load_config(cfg).reports.formats == ["json", "txt"]
    with pytest.MonkeyPatch.context() as m:  # uninstalled: its site folder off sys.path
        m.setattr(sys, "path", [p for p in sys.path if p != str(toy / "site")])
        renderer.reset()
        with pytest.raises(ConfigError) as exc:
            load_config(cfg)
    assert exc.value.key == "reports.formats"
    assert exc.value.message.startswith("unknown report format 'txt'; choose from csv, html")


def test_an_unknown_format_on_the_command_line_is_a_usage_error(tmp_path: Path) -> None:
    """`--format docx` exits 2 naming the registered formats, and writes nothing."""
    store = _store(tmp_path / "store.duckdb")
    res = runner.invoke(app, ["report", "--store", str(store), "--format", "docx",
                              "--out", str(tmp_path / "out")])  # fmt: skip
    assert res.exit_code == 2
    assert "unknown format docx" in res.output and "json" in res.output
    assert not (tmp_path / "out").exists()
    empty = runner.invoke(app, ["report", "--store", str(store), "--format", " , "])
    assert empty.exit_code == 2 and "no format given; choose from csv" in empty.output


def test_a_broken_renderer_plugin_is_a_report_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry point that cannot be loaded, or is not a Renderer, is named, never skipped."""
    for entry, match in (
        ("txt = no_such_module:TXT", r"'txt' \(no_such_module:TXT\) cannot be loaded"),
        ("txt = tests.report.toy_renderer:render_txt", r"'txt' .* is not a Renderer"),
    ):
        site = tmp_path / entry.split(":")[-1]
        _install(site, entry)
        with monkeypatch.context() as m:
            m.syspath_prepend(str(site))
            renderer.reset()
            with pytest.raises(ReportError, match=match):
                renderer.renderers()
        renderer.reset()
