"""Start-up (issue 13, item 6): what a fresh `driftscan` process imports for --help and query.

Each case runs the CLI in a new interpreter and reads its sys.modules at exit: a module set,
not a timing, so a busy machine cannot make these pass or fail.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import driftscan.cli  # noqa: F401 - registers every command
from driftscan.clikit import app
from driftscan.report import renderer
from driftscan.store import Store

# Run the console entry point with the given arguments; print what was imported at exit.
_PROBE = """
import atexit, json, sys
atexit.register(lambda: sys.__stderr__.write("MODULES " + json.dumps(sorted(sys.modules)) + "\\n"))
from driftscan.cli import main
sys.argv = ["driftscan", *sys.argv[1:]]
main()
"""

# Provider SDKs, the report stack and the stages' libraries: loaded only by the command that
# uses them.
PROVIDER_SDKS = ("boto3", "botocore", "azure", "asyncssh")
STAGE_LIBS = ("duckdb", "pyarrow", "deepdiff", "jinja2", "weasyprint", "cryptography", "yaml")
STAGES = (
    "driftscan.config",
    "driftscan.pipeline",
    "driftscan.store",
    "driftscan.collect",
    "driftscan.providers",
    "driftscan.desired",
    "driftscan.drift",
    "driftscan.compliance",
    "driftscan.report",
    "driftscan.evidence",
    "driftscan.sandbox",
)


def _imported(*args: str) -> set[str]:
    res = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, timeout=120
    )
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("MODULES ")]
    assert lines, res.stderr
    return set(json.loads(lines[-1].removeprefix("MODULES ")))


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """Which of `names` (packages, with their submodules) are among `modules`."""
    return sorted(n for n in names if any(m == n or m.startswith(n + ".") for m in modules))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty store on disk."""
    path = tmp_path_factory.mktemp("startup") / "s.duckdb"
    with Store(path):
        pass
    return path


def test_help_imports_no_sdk_stage_rich_or_pydantic() -> None:
    """`driftscan --help` loads no provider SDK, no stage of the pipeline, no Rich, no
    pydantic and no package metadata: only Typer and the CLI's own modules."""
    modules = _imported("--help")
    heavy = (
        *PROVIDER_SDKS,
        *STAGE_LIBS,
        "rich",
        "pydantic",
        "pydantic_core",
        "importlib.metadata",
    )
    assert _loaded(modules, heavy) == []
    assert _loaded(modules, STAGES) == []


def test_command_help_imports_no_sdk_or_stage() -> None:
    """`driftscan query --help` and `report --help` load no provider SDK, no stage library and
    no pydantic (Typer 0.29 would: pyproject keeps it below)."""
    for command in ("query", "report"):
        modules = _imported(command, "--help")
        assert _loaded(modules, (*PROVIDER_SDKS, *STAGE_LIBS, "pydantic")) == [], command
        assert _loaded(modules, tuple(s for s in STAGES if s != "driftscan.report")) == []


def test_query_imports_the_store_and_nothing_else_of_the_pipeline(store: Path) -> None:
    """`driftscan query` with --store loads the store and DuckDB, but no provider SDK, no
    other stage, not the config, not pyarrow (only writes need it) and, writing JSON, not Rich."""
    modules = _imported("query", "select 1", "--store", str(store), "--format", "json")
    assert "duckdb" in modules and "driftscan.store" in modules
    others = (*PROVIDER_SDKS, "deepdiff", "jinja2", "weasyprint", "cryptography", "yaml", "rich",
              "pyarrow")  # fmt: skip
    assert _loaded(modules, others) == []
    assert _loaded(modules, tuple(s for s in STAGES if s != "driftscan.store")) == []


def test_report_help_names_every_registered_format() -> None:
    """`report --help` still lists the registered formats, read when the help is shown."""
    res = CliRunner().invoke(app, ["report", "--help"], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert f"Comma-separated: {','.join(renderer.names())}" in res.output
    assert "{formats}" not in res.output


def test_the_command_list_cuts_no_summary() -> None:
    """`driftscan --help` lists every command with its whole first sentence (Click would cut
    each at 45 characters with "...")."""
    res = CliRunner().invoke(app, ["--help"], terminal_width=80)
    assert res.exit_code == 0
    commands = res.output.split("Commands:", 1)[1]
    assert "..." not in commands and "run driftscan against a local sandbox" in commands.lower()
