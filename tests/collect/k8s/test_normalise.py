"""The comparable shape: canonical quantities, lists keyed by merge key, server defaults."""

from __future__ import annotations

import pytest

from driftscan.providers.kubernetes.normalise import defaulted, document, keyed, quantity
from tests.conftest import TEST_FP


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1000m", "1"),
        ("512Mi", "524288Ki"),
        ("1Gi", "1073741824"),
        ("1e3", "1k"),
        ("0.5", "500m"),
        (2, "2"),
    ],
)
def test_equal_quantities_are_equal(a: object, b: object) -> None:
    """Quantities that mean the same amount have the same canonical text."""
    assert quantity(a) == quantity(b)


def test_not_a_quantity_is_unchanged() -> None:
    """Text that is no quantity is left as it is."""
    assert quantity("lots") == "lots" and quantity(True) is True


def test_lists_with_merge_keys_become_mappings() -> None:
    """Containers by name, ports by port/protocol (TCP by default), a keyless list stays a list."""
    spec = {"containers": [{"name": "a", "ports": [{"containerPort": 80}]}], "args": ["x", "y"]}
    out = keyed(spec)
    assert out == {"containers": {"a": {"name": "a", "ports": {"80/TCP": {"containerPort": 80, "protocol": "TCP"}}}},
                   "args": ["x", "y"]}  # fmt: skip
    assert keyed({"env": [{"name": "A"}, {"name": "A"}]}) == {"env": [{"name": "A"}, {"name": "A"}]}


def test_manifest_defaults_and_env_fingerprints() -> None:
    """A manifest gets replicas 1 and imagePullPolicy; env values and stringData are fingerprinted alike."""
    m = {"spec": {"template": {"spec": {"containers": [
        {"name": "a", "image": "r/x:1", "env": [{"name": "DB_PASSWORD", "value": "s3cret"}]}]}}}}  # fmt: skip
    doc = document(defaulted(m, "Deployment"), "Deployment", TEST_FP, live=False)
    c = doc["spec"]["template"]["spec"]["containers"]["a"]
    assert doc["spec"]["replicas"] == 1 and c["imagePullPolicy"] == "IfNotPresent"
    assert c["env"]["DB_PASSWORD"]["value"] == TEST_FP("s3cret")
    live = document({"type": "Opaque", "data": {"k": "dg=="}}, "Secret", TEST_FP)
    declared = document(
        defaulted({"stringData": {"k": "v"}}, "Secret"), "Secret", TEST_FP, live=False
    )
    assert declared["data"] == live["data"] and "keys" not in declared
