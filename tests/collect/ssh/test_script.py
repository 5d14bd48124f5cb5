"""The fixed script itself: it runs under a local POSIX shell and its output parses."""

from __future__ import annotations

import hashlib
import subprocess
import time
from pathlib import Path

from driftscan.providers.ssh.collect.parse import Timing, parse_output
from driftscan.providers.ssh.collect.script import SCRIPT, build_command, parse_command
from driftscan.sandbox.hosts import HostProfile, render


def test_command_round_trips_through_shell_quoting() -> None:
    """The command line decodes back to exactly the script, nonce and paths it was built from."""
    files = ["/etc/a b", "/tmp/x; touch /tmp/pwned", "$(id)", "it's"]
    inv = parse_command(build_command("n0nce", files, ["/c\nd"]))
    assert inv is not None
    assert (inv.nonce, inv.files, inv.certs) == ("n0nce", tuple(files), ("/c\nd",))
    assert parse_command("sh -c 'id'") is None
    assert parse_command(f"sh -c {SCRIPT!r} driftscan") is None


def test_script_output_from_local_sh_parses(tmp_path: Path) -> None:
    """Run by /bin/sh on this machine, the script's output yields the same facts the fixtures do."""
    f = tmp_path / "f"
    f.write_bytes(b"abc")
    t0 = time.time()
    out = subprocess.run(
        build_command("abcd1234", [str(f), str(tmp_path / "gone")], []),
        shell=True,
        capture_output=True,
        check=True,
    ).stdout.decode()
    attrs = parse_output(
        out, "abcd1234", [str(f), str(tmp_path / "gone")], [], Timing(t0, time.time())
    )
    assert attrs["files"][str(f)]["sha256"] == hashlib.sha256(b"abc").hexdigest()
    assert attrs["files"][str(tmp_path / "gone")] == {"error": "missing"}
    assert attrs["kernel"] and attrs["os"]["id"]
    assert abs(attrs["clock"]["offset_s"]) < 1


def test_fixture_output_has_the_real_frame() -> None:
    """A fixture host frames each fact exactly like x() in the script: begin, body, end with status."""
    inv = parse_command(build_command("n", ["/etc/hosts"], []))
    assert inv is not None
    text = render(
        HostProfile("h", failing={"services": "System has not been booted with systemd"}),
        inv,
        0.0,
        lambda h, d: "",
    )
    assert "\n@n begin clock\n0.000000000\n\n@n end clock 0 \n" in text
    assert (
        "\n@n begin services\n\n@n end services 1 System has not been booted with systemd\n" in text
    )
    assert "\n@n begin file 0\nmissing\n\n@n end file 0 0 \n" in text
    assert text.endswith("\n@n done\n")
