"""Start-up (issue 13, item 6): what a fresh `driftscan` process imports for --help and query.

Each case runs the CLI in a new interpreter and reads its sys.modules at exit: a module set,
not a timing, so a busy machine cannot make these pass or fail.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.core import TyperGroup
from typer.testing import CliRunner

import driftscan.cli  # registers every command; main is tested here
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


def _run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """`driftscan ARGS` through the console entry point, in this process: exit code, output."""
    argv = sys.argv
    sys.argv = ["driftscan", *args]
    try:
        driftscan.cli.main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = argv
    out = capsys.readouterr()
    return code, out.out + out.err


def _built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The commands Typer builds Click objects for, in order, from now on."""
    import typer.main

    names: list[str] = []
    real = typer.main.get_command_from_info

    def counting(command_info: Any, **kwargs: Any) -> Any:
        command = real(command_info, **kwargs)
        names.append(command.name)
        return command

    monkeypatch.setattr(typer.main, "get_command_from_info", counting)
    return names


def test_the_entry_point_builds_only_the_command_it_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Typer would build all 23 commands to run one (some 45 ms of every start): `main`
    builds the named command, or the named group's; `--help` and a typo see them all."""
    built = _built(monkeypatch)
    assert _run_main(capsys, "version")[0] == 0
    assert built == ["version"]
    built.clear()
    assert _run_main(capsys, "rules", "--help")[0] == 0
    assert sorted(built) == ["list", "validate"]
    built.clear()
    code, out = _run_main(capsys, "qurey")
    assert code == 2 and "Did you mean 'query'?" in out
    assert "query" in built and len(built) > 20
    # The app is whole again afterwards.
    assert len(app.registered_commands) > 15 and len(app.registered_groups) == 3


def test_the_entry_point_prints_what_the_whole_app_prints(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each command's and group's help and usage errors read the same through `main` (one
    command built) as through the whole app."""
    import typer.main

    whole = typer.main.get_command(app)
    assert isinstance(whole, TyperGroup)
    cases = [[name, "--help"] for name in whole.commands]
    cases += [["frameworks", "show", "--help"], ["query"], ["diff", "--kind", "nope"], []]
    for args in cases:
        mine = _run_main(capsys, *args)
        argv, sys.argv = sys.argv, ["driftscan", *args]
        try:
            whole.main(args)
            theirs: tuple[int, str] = (0, "")
        except SystemExit as exc:
            theirs = (int(exc.code or 0), "")
        finally:
            sys.argv = argv
        out = capsys.readouterr()
        theirs = (theirs[0], out.out + out.err)
        assert mine == theirs, args
