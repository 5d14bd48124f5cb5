"""Declared state as columns: declarations appended row by row, held as Arrow in bounded batches."""

from __future__ import annotations

import itertools
import json
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from driftscan.desired.declaration import Check, Declaration, json_text, set_path
from driftscan.store.drift import DECL_SCHEMA, LEAF_SCHEMA  # the store reads them as built here

BATCH_ROWS = 65_536  # declarations held as Python values before they become an Arrow batch

_PLAIN = (str, bool, int, type(None))  # leaves whose JSON text gives them back exactly
_encode_str = json.encoder.encode_basestring


def pointer(path: Sequence[Any]) -> str:
    """RFC 6901 JSON pointer (DuckDB's json_extract reads these): `~` → `~0`, `/` → `~1`."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _segments(ptr: str) -> tuple[str, ...]:
    return tuple(p.replace("~1", "/").replace("~0", "~") for p in ptr.split("/")[1:])


def label(provider: Any, type: Any, account: Any, region: Any, name: Any) -> str:
    """How a declaration by identity is named when nothing live matches it."""
    return ":".join(str(p) for p in (provider, type, account or "*", region or "*", name))


@dataclass
class DeclaredTables:
    """Every declaration as rows of `decls` and its compared leaves as rows of `leaves`.

    `kept` holds, by decl_id, the few declared documents and checks the leaves cannot give
    back exactly (checks, empty mappings, lists, non-string keys, dates): everything else is
    rebuilt from the leaves when a declaration is compared attribute by attribute.
    """

    decls: pa.Table
    leaves: pa.Table
    kept: dict[int, tuple[dict[str, Any] | None, list[Check]]] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.decls.num_rows)

    def declarations(self, ids: Iterable[int] | None = None) -> dict[int, Declaration]:
        """The declarations `ids` (default: all) as objects, rebuilt from their rows."""
        decls, leaves = self.decls, self.leaves
        if ids is not None:
            want = pa.array(sorted(set(ids)), pa.int64())
            decls = decls.filter(pc.is_in(decls["decl_id"], value_set=want))
            leaves = leaves.filter(pc.is_in(leaves["decl_id"], value_set=want))
        docs: dict[int, dict[str, Any]] = {}
        for i, ptr, op, value in zip(*(leaves[c].to_pylist() for c in LEAF_SCHEMA.names)):  # noqa: B905
            if op == "eq":
                set_path(docs.setdefault(i, {}), _segments(ptr), json.loads(value))
        out: dict[int, Declaration] = {}
        cols = [decls[c].to_pylist() for c in DECL_SCHEMA.names]
        for i, key, _, provider, account, region, typ, name, source, presence in zip(*cols):  # noqa: B905
            declared, checks = self.kept.get(i, (None, []))
            out[i] = Declaration(
                key=key, provider=provider, type=typ, source=source, account=account,
                region=region, name=name, declared=declared if declared is not None else docs.get(i, {}),
                checks=list(checks), presence_only=presence,
            )  # fmt: skip
        return out


class DeclaredColumns:
    """Builds DeclaredTables: `add` one declaration at a time; every BATCH_ROWS declarations
    become Arrow record batches, so a million declarations never exist as Python objects.

    `place` gives (account, region) by (provider, key) for keys a source's config locates.
    """

    def __init__(
        self,
        *,
        batch_rows: int = BATCH_ROWS,
        place: Mapping[tuple[str, str], tuple[str, str]] | None = None,
    ) -> None:
        self.batch_rows = batch_rows
        self.place = place or {}
        self._decl_batches: list[pa.RecordBatch] = []
        self._leaf_batches: list[pa.RecordBatch] = []
        self._kept: dict[int, tuple[dict[str, Any] | None, list[Check]]] = {}
        self._n = 0
        self._reset()

    def _reset(self) -> None:
        self._start = self._n
        self._cols: list[list[Any]] = [[] for _ in range(9)]
        # Per batch: distinct pointers (a trie by key) and values, and per leaf their indices.
        self._ptrs: list[str] = [""]
        self._kids: list[dict[Any, int]] = [{}]
        self._vals: list[str] = []
        self._strs: dict[str, int] = {}
        self._others: dict[tuple[type, Any], int] = {}
        self._ptr_ids = array("i")
        self._val_ids = array("i")
        self._counts = array("i")
        self._checks: list[list[Any]] = [[], [], [], []]

    def __len__(self) -> int:
        return self._n

    def add_declaration(self, d: Declaration) -> None:
        self.add(
            d.key, d.provider, d.type, d.source, account=d.account, region=d.region,
            name=d.name, declared=d.declared, checks=d.checks, presence_only=d.presence_only,
        )  # fmt: skip

    def add(
        self,
        key: str | None,
        provider: str | None,
        type: str | None,
        source: str,
        *,
        account: str | None = None,
        region: str | None = None,
        name: str | None = None,
        declared: dict[str, Any] | None = None,
        checks: Sequence[Check] = (),
        presence_only: bool = False,
    ) -> None:
        """Append one declaration (see Declaration for the meaning of each field)."""
        if self.place:
            placed = self.place.get((provider or "", key or ""))
            if placed is not None:
                account, region = placed
        i = self._n
        c = self._cols
        c[0].append(key)
        c[1].append(None if key is not None else label(provider, type, account, region, name))
        c[2].append(provider)
        c[3].append(account)
        c[4].append(region)
        c[5].append(type)
        c[6].append(name)
        c[7].append(source)
        c[8].append(presence_only)
        before = len(self._ptr_ids)
        exact = self._walk(declared, 0) if declared else True
        self._counts.append(len(self._ptr_ids) - before)
        if checks:
            ch = self._checks
            for k in checks:
                ch[0].append(i)
                ch[1].append(pointer(k.path))
                ch[2].append(k.op)
                ch[3].append(json_text(k.value))
        if not exact or checks:
            self._kept[i] = (None if exact else declared, list(checks))
        self._n += 1
        if self._n - self._start >= self.batch_rows:
            self._flush()

    def _val_id(self, v: Any) -> int:
        t = type(v)
        if t is str:
            i = self._strs.get(v)
            if i is None:
                i = self._strs[v] = len(self._vals)
                self._vals.append(_encode_str(v))
            return i
        cacheable = t is bool or t is int or v is None
        if cacheable and (i := self._others.get((t, v))) is not None:
            return i
        i = len(self._vals)
        self._vals.append(json_text(v))
        if cacheable:
            self._others[(t, v)] = i
        return i

    def _walk(self, doc: dict[Any, Any], parent: int) -> bool:
        """Add the leaves of `doc` under pointer `parent`: mappings recurse, an empty one has
        no leaves, anything else (lists too) is one leaf. False if the leaves cannot give the
        document back exactly."""
        exact = True
        ptrs, kids, children = self._ptrs, self._kids, self._kids[parent]
        for k, v in doc.items():
            if type(k) is not str:
                exact = False
            p = children.get(k)
            if p is None:
                p = children[k] = len(ptrs)
                ptrs.append(f"{ptrs[parent]}/{str(k).replace('~', '~0').replace('/', '~1')}")
                kids.append({})
            if type(v) is dict:
                if not v or not self._walk(v, p):
                    exact = False
            else:
                if type(v) not in _PLAIN:
                    exact = False
                self._ptr_ids.append(p)
                self._val_ids.append(self._val_id(v))
        return exact

    def _flush(self) -> None:
        if self._n == self._start:
            return
        cols = self._cols
        self._decl_batches.append(
            pa.record_batch(
                [pa.array(range(self._start, self._n), pa.int64()), *cols], schema=DECL_SCHEMA
            )
        )
        m = len(self._ptr_ids)
        # each leaf's declaration, from the per-declaration counts (no per-leaf Python int)
        offsets = pa.array(itertools.accumulate(self._counts, initial=0), pa.int32())
        ptr_idx = pa.Array.from_buffers(pa.int32(), m, [None, pa.py_buffer(self._ptr_ids)])
        val_idx = pa.Array.from_buffers(pa.int32(), m, [None, pa.py_buffer(self._val_ids)])
        parents = pc.list_parent_indices(pa.ListArray.from_arrays(offsets, ptr_idx))
        ids = pc.add(pc.cast(parents, pa.int64()), pa.scalar(self._start, pa.int64()))
        # pointers and values as dictionaries over the distinct ones: nothing repeated 4M times
        self._leaf_batches.append(
            pa.record_batch(
                [
                    ids,
                    pa.DictionaryArray.from_arrays(ptr_idx, pa.array(self._ptrs, pa.string())),
                    pa.DictionaryArray.from_arrays(pa.repeat(pa.scalar(0, pa.int32()), m), ["eq"]),
                    pa.DictionaryArray.from_arrays(val_idx, pa.array(self._vals, pa.string())),
                ],
                schema=LEAF_SCHEMA,
            )
        )
        if self._checks[0]:
            ch = self._checks
            self._leaf_batches.append(
                pa.record_batch(
                    [
                        pa.array(ch[0], pa.int64()),
                        *(pa.array(x).dictionary_encode() for x in ch[1:]),
                    ],
                    schema=LEAF_SCHEMA,
                )
            )
        self._reset()

    def finish(self) -> DeclaredTables:
        """The tables of everything added (the builder starts empty again)."""
        self._flush()
        out = DeclaredTables(
            pa.Table.from_batches(self._decl_batches, DECL_SCHEMA),
            pa.Table.from_batches(self._leaf_batches, LEAF_SCHEMA),
            self._kept,
        )
        self._decl_batches, self._leaf_batches, self._kept, self._n = [], [], {}, 0
        self._reset()
        return out


def columns(decls: Iterable[Declaration], *, batch_rows: int = BATCH_ROWS) -> DeclaredTables:
    """DeclaredTables of Declaration objects (tests and small inputs)."""
    b = DeclaredColumns(batch_rows=batch_rows)
    for d in decls:
        b.add_declaration(d)
    return b.finish()


__all__ = [
    "BATCH_ROWS",
    "DECL_SCHEMA",
    "LEAF_SCHEMA",
    "DeclaredColumns",
    "DeclaredTables",
    "columns",
    "label",
    "pointer",
]
