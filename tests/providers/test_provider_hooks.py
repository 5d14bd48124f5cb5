"""Provider hooks beyond the toy's basics: own desired kinds, attribute scope dimensions, slice
key patterns (added for providers whose unit of collection is a key prefix, e.g. a namespace)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import driftscan.cli  # noqa: F401 - registers every command
from driftscan import providers
from driftscan.clikit import app
from driftscan.config import load_config
from driftscan.desired import Declaration
from driftscan.errors import ConfigError
from driftscan.model import Resource, Slice, SourceRun
from driftscan.providers import DesiredInput, ScopeDimension
from driftscan.store import Store
from tests.providers.toy_provider import PROVIDER, WIDGET

runner = CliRunner()
seen_inputs: list[DesiredInput] = []


def load_widgets(inp: DesiredInput) -> tuple[list[str], list[Declaration]]:
    """A provider's own desired kind: a JSON list of {name, size} beside the config."""
    seen_inputs.append(inp)
    try:
        widgets = json.loads(inp.path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc}", file=inp.configured, key=inp.key) from None
    shown = inp.display(inp.path)
    decls = [
        Declaration(key=f"toy://{w['name']}", provider="toy", type=WIDGET, source=f"{shown}#{i}",
                    name=w["name"], declared={"size": w["size"]})
        for i, w in enumerate(widgets)
    ]  # fmt: skip
    return [shown], decls


HOOKED = replace(
    PROVIDER,
    desired="tests.providers.test_provider_hooks:load_widgets",
    scope_dimensions=(*PROVIDER.scope_dimensions, ScopeDimension("sizes", (), attrs=("size",))),
)


@pytest.fixture
def hooked() -> Iterator[None]:
    """The built-ins plus the toy provider with the extra hooks, for this test only."""
    providers.use([*(p for p in providers.registry() if p.type != "toy"), HOOKED])
    yield
    providers.reset()


def _project(root: Path, entry: dict[str, Any]) -> Path:
    (root / "widgets.json").write_text(
        json.dumps([{"name": "a", "size": 5}, {"name": "b", "size": 2}])
    )
    (root / "declared.json").write_text(json.dumps([{"name": "a", "size": 1}]))
    cfg = root / "driftscan.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "store": "store.duckdb",
                "sources": [
                    {"name": "shelf-1", "type": "toy", "inventory": str(root / "widgets.json")}
                ],
                "desired": [entry],
                "scopes": {"pci": {"sizes": ["2"]}},
            }
        )
    )
    return cfg


def test_a_providers_own_desired_kind_is_loaded(hooked: None, tmp_path: Path) -> None:
    """`desired: [{toy: declared.json}]` reaches the provider's loader; its drift is reported."""
    seen_inputs.clear()
    cfg = str(_project(tmp_path, {"toy": "declared.json", "source": "shelf-1"}))
    assert runner.invoke(app, ["scan", "-c", cfg]).exit_code == 0
    diff = runner.invoke(app, ["diff", "-c", cfg, "--format", "json"])
    assert diff.exit_code == 1, diff.output
    changes = {c["resource"]: c for c in json.loads(diff.stdout)["changes"]}
    assert changes["toy://a"]["changes"] == [{"path": "size", "desired": 1, "actual": 5}]
    assert changes["toy://a"]["desired_source"] == "declared.json#0"
    inp = seen_inputs[-1]
    assert (inp.key, inp.configured, inp.source) == ("desired[0].toy", "declared.json", "shelf-1")
    assert inp.path == tmp_path / "declared.json" and [s.name for s in inp.sources] == ["shelf-1"]


def test_unknown_or_ambiguous_desired_entries_are_config_errors(
    hooked: None, tmp_path: Path
) -> None:
    """A key no provider loads, or two kinds in one entry, is exit 2 naming the entry."""
    with pytest.raises(ConfigError) as err:
        load_config(_project(tmp_path, {"gizmo": "x.json"}))
    assert "unknown key 'gizmo'" in err.value.message and "toy" in err.value.message
    with pytest.raises(ConfigError) as err:
        load_config(_project(tmp_path, {"toy": "declared.json", "path": "x.yaml"}))
    assert "exactly one of" in err.value.message
    with pytest.raises(ConfigError):
        load_config(_project(tmp_path, {"path": "x.yaml", "source": "shelf-1"}))


def test_without_a_loader_the_kind_is_unknown(tmp_path: Path) -> None:
    """A provider that declares no desired loader offers no desired kind."""
    providers.use([*(p for p in providers.registry() if p.type != "toy"), PROVIDER])
    try:
        with pytest.raises(ConfigError, match="unknown key 'toy'"):
            load_config(_project(tmp_path, {"toy": "declared.json"}))
    finally:
        providers.reset()


def test_a_scope_dimension_can_match_an_attribute(hooked: None, tmp_path: Path) -> None:
    """`sizes: ["2"]` selects the widget whose attrs.size is 2 (and not the other)."""
    cfg = str(_project(tmp_path, {"toy": "declared.json"}))
    assert runner.invoke(app, ["scan", "-c", cfg]).exit_code == 0
    check = runner.invoke(app, ["check", "-c", cfg, "--format", "json"])
    found = {(f["rule"], f["resource"]) for f in json.loads(check.stdout)["findings"]}
    assert ("drift_unmanaged_in_scope", "toy://b") in found
    assert ("drift_changed_in_scope", "toy://a") not in found  # a is size 5: outside the scope


def _run(resources: list[Resource], failed_keys: list[str] | None) -> SourceRun:
    run = SourceRun("shelf-1", "toy", resources=resources)
    run.slices.append(
        Slice("shelf-1", "toy", "shelf-1", "ok", account="shelf-1", resources=len(resources))
    )
    if failed_keys is not None:
        run.slices.append(
            Slice("shelf-1", "toy", "shelf-1/secure", "failed", reason="denied", detail="403",
                  account="shelf-1", keys=failed_keys)
        )  # fmt: skip
    run.finish()
    return run


def _widget(name: str) -> Resource:
    return Resource(
        f"toy://{name}", "toy", "shelf-1", "shelf-1", "lab", WIDGET, name, attrs={"size": 1}
    )


def test_a_slice_key_pattern_covers_its_prefix(hooked: None, store: Store) -> None:
    """A failed slice with keys [`toy://secure/*`] keeps those resources, not assessed; others go."""
    now = datetime.now(UTC)
    first = [_widget("secure/x"), _widget("open/y"), _widget("open/z")]
    store.write_scan([_run(first, None)], started_at=now, finished_at=now, tool_version="test")
    store.write_scan([_run([_widget("open/y")], ["toy://secure/*"])], started_at=now, finished_at=now,
                     tool_version="test")  # fmt: skip
    rows = {k: a for k, a in store.con.execute("SELECT key, assessed FROM resources").fetchall()}
    assert rows == {"toy://secure/x": False, "toy://open/y": True}  # open/z is gone, secure/x kept
