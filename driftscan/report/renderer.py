"""Report formats as plugins: the Renderer shape and the registry of the `driftscan.renderers`
entry-point group.

A renderer is one object that names its format and turns the report document into the files
it writes. The built-in formats register through the same entry points as a third party's:

    [project.entry-points."driftscan.renderers"]
    txt = "driftscan_txt:TXT"            # TXT = Renderer("txt", render_txt)

`reports.formats` in the config and `driftscan report --format` accept exactly the names
registered here. The names are read from package metadata alone (driftscan.plugins), so the
config and the CLI read them without loading any renderer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

from driftscan import plugins
from driftscan.errors import ReportError

if TYPE_CHECKING:
    from driftscan.report.document import ReportDocument

GROUP = plugins.RENDERERS


class FormatUnavailable(ReportError):
    """A renderer cannot run on this machine (a missing optional library), which is not a
    broken report: the other formats are written, and the manifest's `not_written` names this
    format with the message, which says how to get it."""


@dataclass(frozen=True, slots=True)
class RenderContext:
    """What a renderer may use beside the document."""

    # A private, empty folder on the report's disk for renderers that work through files
    # (the PDF worker); removed once the renderer returns.
    scratch: Path
    # Passing rows the PDF lists before counting the rest (reports.pdf_passing_limit).
    passing_limit: int = 500


# document → {file name: text or bytes}; text is written as UTF-8 with "\n" line ends.
RenderFunction = Callable[["ReportDocument", RenderContext], Mapping[str, str | bytes]]


@dataclass(frozen=True, slots=True)
class Renderer:
    """One report format: its name in reports.formats and --format, and how it renders."""

    name: str
    render: RenderFunction
    description: str = ""


def names() -> tuple[str, ...]:
    """The registered format names in registration order, without loading any renderer."""
    return plugins.names(GROUP)


@functools.cache
def renderers() -> dict[str, Renderer]:
    """Every registered renderer by format name, loaded from its entry point."""
    out: dict[str, Renderer] = {}
    origin: dict[str, str] = {}
    for ep in entry_points(group=GROUP):
        if ep.name in out:
            if ep.value == origin[ep.name]:
                continue
            raise ReportError(
                f"report format '{ep.name}' is registered twice ({origin[ep.name]} and "
                f"{ep.value}); uninstall one of them"
            )
        try:
            obj = ep.load()
        except (ImportError, AttributeError) as exc:
            raise ReportError(
                f"report format '{ep.name}' ({ep.value}) cannot be loaded: {exc}"
            ) from exc
        if not isinstance(obj, Renderer):
            raise ReportError(f"report format '{ep.name}' ({ep.value}) is not a Renderer")
        if obj.name != ep.name:
            raise ReportError(
                f"report format '{ep.name}' ({ep.value}) names itself '{obj.name}'; "
                "the entry point and the Renderer must give the same name"
            )
        out[ep.name], origin[ep.name] = obj, ep.value
    return out


def get(name: str) -> Renderer:
    """The renderer of format `name`; ReportError naming the registered ones otherwise."""
    found = renderers().get(name)
    if found is None:
        raise ReportError(unknown_format(name))
    return found


def unknown_format(name: str) -> str:
    """The message for a format nobody registered."""
    return f"unknown report format '{name}'; choose from {', '.join(names())}"


def reset() -> None:
    """Forget what was found, so the next lookup reads the entry points again (tests, or after
    installing a renderer into a running interpreter)."""
    plugins.reset()
    renderers.cache_clear()
