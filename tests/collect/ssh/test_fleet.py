"""The SSH collector against asyncssh fixture hosts: facts, fan-out and every failure reason."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from driftscan.collect.base import run_source
from driftscan.errors import ConfigError
from driftscan.providers.ssh import SshHost
from driftscan.sandbox.hosts import (
    SYNTHETIC_CERTS,
    SYNTHETIC_FILES,
    FileSpec,
    Fleet,
    HostProfile,
    synthetic_profiles,
)

from .conftest import free_port, host_slice

MakeFleet = Callable[[Iterable[HostProfile]], Fleet]
FILES = [*SYNTHETIC_FILES, "/etc/never-there"]


class TestFacts:
    """A healthy fleet is read completely and every fact matches its profile."""

    def test_fifty_hosts_scanned_with_correct_facts(self, make_fleet: MakeFleet) -> None:
        """Fifty hosts give fifty ok slices and host resources whose facts equal their profiles."""
        profiles = synthetic_profiles(50)
        fleet = make_fleet(profiles)
        run = run_source(fleet.source(files=FILES, certs=SYNTHETIC_CERTS, concurrency=20))
        assert run.status == "ok", [
            (s.name, s.reason, s.detail) for s in run.slices if s.status != "ok"
        ]
        assert len(run.resources) == 50 and len(run.slices) == 50
        by_key = {r.key: r for r in run.resources}
        for i in (0, 7, 10, 23, 42, 49):
            p = profiles[i]
            r = by_key[f"ssh://{p.name}"]
            assert (r.provider, r.type, r.source, r.account) == (
                "ssh",
                "host",
                "fixture",
                "fixture",
            )
            assert (r.name, r.region, r.encrypted, r.public) == (p.name, p.site, None, None)
            a = r.attrs
            assert a["not_assessed"] == {}
            assert a["packages"] == p.packages
            assert a["machine_id"] == p.machine_id
            assert a["kernel"] == p.kernel
            assert a["os"] == {
                "id": p.os_id,
                "version_id": p.os_version_id,
                "pretty_name": p.os_pretty_name,
            }
            assert a["services"] == p.services
            assert {(x["proto"], x["address"], x["port"], x["process"]) for x in a["ports"]} == {
                (x.proto, x.address, x.port, x.process) for x in p.ports
            }
            for path in SYNTHETIC_FILES:
                spec = p.file(path)
                if spec is None:
                    assert a["files"][path] == {"error": "missing"}
                else:
                    got = a["files"][path]
                    assert got["sha256"] == spec.sha256
                    assert (got["mode"], got["owner"], got["size"]) == (
                        f"{spec.mode:04o}",
                        spec.owner,
                        len(spec.data),
                    )
            assert a["files"]["/etc/never-there"] == {"error": "missing"}
            cert = a["certs"][SYNTHETIC_CERTS[0]]
            assert "days_left" not in cert and "clock" not in a  # per-scan facts: kept apart
            obs = r.observed
            assert obs["certs"][SYNTHETIC_CERTS[0]]["days_left"] == p.certs[SYNTHETIC_CERTS[0]]
            assert cert["subject"] == f"CN={p.name}.fixture.internal"
            assert abs(obs["clock"]["offset_s"] - p.clock_skew_s) < 0.25
            assert a["containers"] == {
                n: {"image": c.image, "digest": c.digest} for n, c in p.containers.items()
            }
            assert a["host_key"] == fleet.hosts[p.name].fingerprint
        assert (
            profiles[10].file("/etc/nginx/nginx.conf") is None
        )  # the spot-check includes a missing file
        assert by_key["ssh://host-0000"].attrs["containers"]  # ... and a host with containers

    def test_one_connection_and_one_command_per_host(self, make_fleet: MakeFleet) -> None:
        """Each host sees exactly one SSH connection and one exec, however many facts are read."""
        fleet = make_fleet(synthetic_profiles(8))
        run = run_source(fleet.source(files=FILES, certs=SYNTHETIC_CERTS))
        assert run.status == "ok"
        assert {(h.connections, h.commands) for h in fleet.hosts.values()} == {(1, 1)}

    def test_concurrency_is_bounded(self, make_fleet: MakeFleet) -> None:
        """No more hosts are being read at once than the source's concurrency allows."""
        profiles = synthetic_profiles(24, rtt_s=0.01)
        for p in profiles:
            p.command_s = 0.1
        fleet = make_fleet(profiles)
        run = run_source(fleet.source(concurrency=4))
        assert run.status == "ok" and len(run.resources) == 24
        assert 2 <= fleet.peak_commands <= 4

    def test_latency_is_measured_and_corrected(self, make_fleet: MakeFleet) -> None:
        """With 200 ms round trips the clock offset still matches the injected skew."""
        profiles = [HostProfile("slow", rtt_s=0.2, clock_skew_s=-42.5)]
        fleet = make_fleet(profiles)
        run = run_source(fleet.source())
        clock = run.resources[0].observed["clock"]
        assert clock["rtt_s"] >= 0.2
        assert abs(clock["offset_s"] - -42.5) < 0.15

    def test_fact_needing_root_is_not_assessed(self, make_fleet: MakeFleet) -> None:
        """A fact the scanner may not read is None with the reason; the rest of the host is read."""
        err = "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock"
        files: dict[str, FileSpec | bytes | str] = {
            "/etc/a": FileSpec("a", 0o600),
            "/etc/shadow": FileSpec("root:*:", 0o640, readable=False),
        }
        p = HostProfile("no-docker-group", failing={"containers": err}, files=files)
        fleet = make_fleet([p])
        run = run_source(fleet.source(files=["/etc/a", "/etc/shadow"]))
        attrs = run.resources[0].attrs
        assert run.status == "ok"
        assert attrs["containers"] is None
        assert attrs["not_assessed"] == {"containers": "permission denied"}
        assert attrs["files"]["/etc/a"]["mode"] == "0600"
        assert attrs["files"]["/etc/shadow"] == {"error": "permission denied"}

    def test_no_container_runtime_means_no_containers(self, make_fleet: MakeFleet) -> None:
        """A host without docker or podman has an empty, assessed container set."""
        fleet = make_fleet([HostProfile("bare", container_runtime=None)])
        attrs = run_source(fleet.source()).resources[0].attrs
        assert attrs["containers"] == {} and attrs["not_assessed"] == {}


class TestFailures:
    """A host that cannot be read is a failed slice with its reason; the others are still read."""

    def test_hanging_hosts_time_out_and_others_are_stored(self, make_fleet: MakeFleet) -> None:
        """A host that never answers its command, and one that never speaks SSH, time out alone."""
        profiles = synthetic_profiles(6)
        profiles[1].hang = "command"
        profiles[4].hang = "banner"
        fleet = make_fleet(profiles)
        run = run_source(fleet.source(timeout_s=1.5))
        assert run.status == "partial"
        for i in (1, 4):
            s = host_slice(run, profiles[i].name)
            assert (s.status, s.reason, s.region, s.types) == (
                "failed",
                "timeout",
                profiles[i].site,
                ["host"],
            )
        assert sorted(r.name for r in run.resources) == [
            p.name for i, p in enumerate(profiles) if i not in (1, 4)
        ]
        assert run.duration_s < 10

    def test_changed_host_key_is_refused_with_fingerprint(self, make_fleet: MakeFleet) -> None:
        """A host whose key changed is not scanned; the slice records the offered fingerprint."""
        fleet = make_fleet(synthetic_profiles(3))
        new_fp = fleet.rekey("host-0001")
        run = run_source(fleet.source())
        s = host_slice(run, "host-0001")
        assert (s.status, s.reason) == ("failed", "hostkey")
        assert s.detail is not None and new_fp in s.detail and "changed" in s.detail
        assert new_fp.startswith("SHA256:")
        assert fleet.hosts["host-0001"].commands == 0
        assert {r.name for r in run.resources} == {"host-0000", "host-0002"}
        assert run.status == "partial"

    def test_unknown_host_key_is_refused(self, make_fleet: MakeFleet) -> None:
        """A host absent from known_hosts is refused as "hostkey", never trusted on first use."""
        fleet = make_fleet(synthetic_profiles(2))
        fleet.write_known_hosts(omit=["host-0000"])
        run = run_source(fleet.source())
        s = host_slice(run, "host-0000")
        assert (s.reason, s.status) == ("hostkey", "failed")
        assert (
            s.detail is not None
            and "unknown" in s.detail
            and fleet.hosts["host-0000"].fingerprint in s.detail
        )

    def test_missing_known_hosts_is_a_config_error(
        self, make_fleet: MakeFleet, tmp_path: Path
    ) -> None:
        """Without a known_hosts file the collector refuses to start and names the key."""
        fleet = make_fleet(synthetic_profiles(1))
        with pytest.raises(ConfigError) as exc:
            run_source(fleet.source(known_hosts=tmp_path / "nope"))
        assert exc.value.key == "known_hosts"
        assert fleet.hosts["host-0000"].connections == 0

    def test_rejected_key_is_denied(self, make_fleet: MakeFleet) -> None:
        """A host that rejects the scanner's key is "denied"."""
        profiles = synthetic_profiles(2)
        profiles[0].deny = True
        run = run_source(make_fleet(profiles).source())
        assert host_slice(run, "host-0000").reason == "denied"
        assert host_slice(run, "host-0001").status == "ok"

    def test_closed_port_is_unreachable(self, make_fleet: MakeFleet) -> None:
        """A host with nothing listening is "unreachable"."""
        fleet = make_fleet(synthetic_profiles(1))
        dead = SshHost(name="dead", address="127.0.0.1", port=free_port(), site="dc9")
        run = run_source(fleet.source(extra_hosts=[dead]))
        s = host_slice(run, "dead")
        assert (s.status, s.reason, s.region) == ("failed", "unreachable", "dc9")
        assert run.status == "partial" and len(run.resources) == 1

    @pytest.mark.parametrize("when", ["banner", "command"])
    def test_disconnect_is_unreachable(self, make_fleet: MakeFleet, when: str) -> None:
        """A host that drops the connection (at once, or halfway through its output) is unreachable."""
        profiles = synthetic_profiles(2)
        profiles[0].disconnect = when  # type: ignore[assignment]
        run = run_source(make_fleet(profiles).source(files=FILES))
        s = host_slice(run, "host-0000")
        assert (s.status, s.reason) == ("failed", "unreachable")
        assert [r.name for r in run.resources] == ["host-0001"]

    def test_unparsable_output_is_parse(self, make_fleet: MakeFleet) -> None:
        """Output that is not the script's frame (exit status 0 or not) is a "parse" failure."""
        profiles = synthetic_profiles(2)
        profiles[1].garble = True
        run = run_source(make_fleet(profiles).source())
        s = host_slice(run, "host-0001")
        assert (s.status, s.reason) == ("failed", "parse")
        assert s.detail is not None and "exit status 0" in s.detail

    def test_every_host_failing_fails_the_run(self, make_fleet: MakeFleet) -> None:
        """When no host can be read the run is "failed", never an empty success."""
        profiles = synthetic_profiles(2)
        for p in profiles:
            p.deny = True
        run = run_source(make_fleet(profiles).source())
        assert run.status == "failed" and run.resources == []
