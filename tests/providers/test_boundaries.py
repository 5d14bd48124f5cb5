"""No module outside a provider's own package (or the sandbox) names a provider (design §6.1)."""

from __future__ import annotations

import re
from pathlib import Path

from driftscan import providers

PACKAGE = Path(__file__).resolve().parents[2] / "driftscan"


def test_only_provider_packages_name_providers() -> None:
    """A quoted provider name appears only inside that provider's package and the sandbox."""
    names = providers.registry().names()
    quoted = re.compile("[\"'](" + "|".join(map(re.escape, names)) + ")[\"']")
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).parts
        if rel[0] == "sandbox":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            for m in quoted.finditer(line):
                if rel[:2] != ("providers", m.group(1)):
                    offenders.append(f"{'/'.join(rel)}:{n}: {line.strip()}")
    assert offenders == []
