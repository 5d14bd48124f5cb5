"""The README's tour is true: every `$ ` command in it runs against the demo as typed, with
the exit code the README gives it (`# exit N` at the end of the line; none means 0)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import demo_env

README = Path(__file__).resolve().parents[2] / "README.md"
_EXIT = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")
_ASSIGN = re.compile(r"^([A-Z_][A-Z0-9_]*)=(\S+)$")


def tour_commands(text: str) -> list[tuple[str, int]]:
    """The `$ ` lines of the fenced blocks in the tour section, with their exit codes."""
    section = text.split("## A five-minute tour", 1)[1].split("\n## ", 1)[0]
    out: list[tuple[str, int]] = []
    fenced = False
    for line in section.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif fenced and line.startswith("$ "):
            cmd = line[2:].strip()
            m = _EXIT.search(cmd)
            out.append((cmd[: m.start()] if m else cmd, int(m.group(1)) if m else 0))
    return out


def test_the_tour_is_found() -> None:
    """The extraction itself: a dozen commands or more, the config variable set first."""
    cmds = tour_commands(README.read_text())
    assert len(cmds) >= 12 and _ASSIGN.match(cmds[0][0])
    assert all(c.startswith(("driftscan ", "printf ")) or _ASSIGN.match(c) for c, _ in cmds)


def test_the_demos_own_hints_work_as_typed(demo_dir: Path) -> None:
    hints = [
        line.strip()
        for line in (demo_dir / "demo.out").read_text().splitlines()
        if line.startswith("  ") and " -c " in line
    ]
    assert hints
    for hint in hints:
        proc = subprocess.run(["bash", "-c", hint], capture_output=True, text=True,
                              env=demo_env(), cwd=demo_dir, timeout=120)  # fmt: skip
        assert proc.returncode in (0, 1, 3), (hint, proc.stdout, proc.stderr)


@pytest.mark.slow
def test_every_tour_command_runs_with_its_exit_code(demo_copy: Path) -> None:
    # The tour ends with a scan of the stopped sandbox: on a copy, not the shared demo.
    env = demo_env()
    failures = []
    for cmd, want in tour_commands(README.read_text()):
        m = _ASSIGN.match(cmd)
        if m:
            env[m.group(1)] = m.group(2)
            continue
        proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, env=env,
                              cwd=demo_copy, timeout=180)  # fmt: skip
        if proc.returncode != want:
            failures.append(f"{cmd}\n  exit {proc.returncode}, README says {want}\n"
                            f"  {proc.stdout[-400:]}{proc.stderr[-400:]}")  # fmt: skip
    assert not failures, "\n".join(failures)


def test_the_documented_desired_state_format_loads(tmp_path: Path) -> None:
    """The README's desired-state example is a valid file, read as documented."""
    from driftscan.config import validate_config
    from driftscan.desired import load_desired

    text = README.read_text().split("**Declared state.**", 1)[1]
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "desired.yaml").write_text(block)
    cfg = validate_config({"desired": [{"path": "desired.yaml"}]}, {},
                          str(tmp_path / "driftscan.yaml"), tmp_path)  # fmt: skip
    decls = load_desired(cfg).declarations
    bucket = next(d for d in decls if d.key == "arn:aws:s3:::acme-eu-archive")
    assert bucket.declared["versioning"] == "Enabled" and bucket.declared["encrypted"] is True
    assert bucket.declared["public_access_block"] == {"RestrictPublicBuckets": True}
    assert any(d.name == "acmeeuarchive" and d.provider == "azure" for d in decls)
    assert any(d.key == "ssh://web-01" for d in decls)
