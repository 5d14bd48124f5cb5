"""A provider defined only in the test tree: widgets listed in a local JSON inventory file.

It is registered through the `driftscan.providers` entry-point group, exactly as a
third-party `driftscan-toy` package would be, and declares every Provider field a plugin
may need: a source model, a lazy collector, key identity, a path field and a scope dimension.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from driftscan.collect.base import CollectContext
from driftscan.model import Resource
from driftscan.providers import Identity, Provider, ScopeDimension, SourceModel

PREFIX = "toy://"
WIDGET = "toy/widget"


class ToySource(SourceModel):
    """A shelf of widgets, listed in a JSON file: [{"name": ..., "size": ...}]."""

    name: str
    type: Literal["toy"]
    inventory: str
    site: str = "lab"


class ToyCollector:
    """Reads the inventory file: one resource per widget, one slice for the shelf."""

    def __init__(self, config: ToySource) -> None:
        self.config = config

    def collect(self, ctx: CollectContext) -> None:
        c = self.config
        widgets = json.loads(Path(c.inventory).read_text())
        ctx.add_many(
            [
                Resource(
                    key=f"{PREFIX}{w['name']}", provider="toy", source=c.name, account=c.name,
                    region=c.site, type=WIDGET, name=w["name"], attrs={"size": w["size"]},
                    tags={"colour": w.get("colour", "grey")},
                )
                for w in widgets
            ]
        )  # fmt: skip
        ctx.slice_ok(c.name, resources=len(widgets), account=c.name, region=c.site)


def identify(key: str) -> Identity | None:
    """A widget's key names the widget."""
    if not key.startswith(PREFIX):
        return None
    return Identity(key, "toy", type=WIDGET, name=key[len(PREFIX) :])


def declared_key(typ: str | None, name: str | None) -> str | None:
    """Widget names are global, so a widget declared by name has a known key."""
    return f"{PREFIX}{name}" if typ == WIDGET and name else None


PROVIDER = Provider(
    type="toy",
    source_model=ToySource,
    collector="tests.providers.toy_provider:ToyCollector",
    extra="toy",
    identify=identify,
    declared_key=declared_key,
    path_fields=("inventory",),
    scope_dimensions=(ScopeDimension("shelves", ("account",)),),
)
