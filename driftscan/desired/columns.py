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

from driftscan.desired.declaration import Check, Declaration, get_path, json_text, set_path
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


DOC_ROWS = 4_096  # declared documents held before Arrow converts them (while in cache)
ARROW_MIN = 64  # fewer documents of a type are walked in Python: cheaper than Arrow's setup

_EQ_VALUE = pa.dictionary(pa.int32(), pa.string())


def _strings(values: list[Any], kind: pa.DataType | None = None) -> pa.Array:
    """`values` as an Arrow array; text Arrow cannot encode as UTF-8 (a lone surrogate, which
    JSON's `"\\ud800"` parses to) is kept with that character escaped as `\\ud800`, which
    is also its JSON escape, so a declared value still reads back as itself."""
    kind = pa.string() if kind is None else kind
    try:
        return pa.array(values, kind)
    except UnicodeEncodeError:
        safe = [v.encode("utf-8", "backslashreplace").decode() if isinstance(v, str) else v
                for v in values]  # fmt: skip
        return pa.array(safe, kind)


def _ids(start: int, stop: int) -> pa.Array:
    """start, start+1, ..., stop-1 as int64, computed by Arrow (pa.array(range) is per item)."""
    ones = pa.repeat(pa.scalar(1, pa.int64()), stop - start)
    return pc.add(pc.cumulative_sum(ones), pa.scalar(start - 1, pa.int64()))


def _scalar_leaf(t: pa.DataType) -> bool:
    return bool(t == pa.string() or t == pa.bool_() or t == pa.int64() or t == pa.null())


def _exact_struct(t: pa.DataType, top: bool = True) -> bool:
    """Whether documents of Arrow type `t` hold only what their leaves give back exactly:
    string keys, mappings that are not empty, str, bool, int and null leaves."""
    if pa.types.is_struct(t):
        return (top or t.num_fields > 0) and all(_exact_struct(f.type, False) for f in t)
    return _scalar_leaf(t)


def _json_values(v: pa.Array) -> pa.Array:
    """Non-null string, bool or int64 values as a dictionary of their JSON texts."""
    if v.type == pa.bool_():
        return pa.DictionaryArray.from_arrays(pc.cast(v, pa.int32()), ["false", "true"])
    enc = pc.dictionary_encode(v if v.type == pa.string() else pc.cast(v, pa.string()))
    texts = enc.dictionary.to_pylist()
    if v.type == pa.string():
        texts = [_encode_str(x) for x in texts]
    return pa.DictionaryArray.from_arrays(enc.indices, pa.array(texts, pa.string()))


class _Inexact(Exception):
    """A document Arrow converted but its leaves cannot give back (an empty mapping)."""


def _declares(doc: dict[str, Any], path: tuple[str, ...]) -> bool:
    """Whether `doc` holds a key at `path`, whose parent mapping it holds (Arrow reads an
    absent key and a null alike)."""
    return path[-1] in get_path(doc, path[:-1])


def _constant(text: str, n: int) -> pa.Array:
    """`text` n times, as a dictionary of one value."""
    return pa.DictionaryArray.from_arrays(pa.repeat(pa.scalar(0, pa.int32()), n), [text])


def _arrow_leaves(docs: list[dict[Any, Any]]) -> tuple[pa.Array, pa.Array, pa.Array] | None:
    """(index into docs, pointer, JSON value) of every leaf, Arrow converting and flattening
    the documents; None unless every document is exact (see _exact_struct), which Arrow's
    conversion checks as it goes: a list, float, date, bytes value, non-string key or a value
    whose type differs between documents makes it fail or infer another type."""
    try:
        arr = pa.array(docs)
    except (pa.ArrowException, OverflowError, TypeError, ValueError):  # UnicodeEncodeError too
        return None
    if not _exact_struct(arr.type):
        return None
    at: list[pa.Array] = []
    ptrs: list[pa.Array] = []
    vals: list[pa.Array] = []
    nulls: list[tuple[int, str]] = []

    def walk(struct: pa.StructArray, path: tuple[str, ...], parent: pa.Array | None) -> None:
        # flatten() gives each field with its parents' nulls: a field of an absent mapping
        # is absent too. Which nulls were declared (`key: null`) only the documents know.
        for f, child in zip(struct.type, struct.flatten(), strict=True):
            p = (*path, f.name)
            if child.null_count:
                unset = pc.is_null(child) if parent is None else pc.and_(parent, pc.is_null(child))
                ptr = pointer(p)
                nulls.extend((j, ptr) for j in pc.indices_nonzero(unset).to_pylist()
                             if _declares(docs[j], p))  # fmt: skip
            if pa.types.is_struct(f.type):
                valid = child.is_valid()
                # A mapping none of whose fields is set is `{}` (or all nulls, found above):
                # an empty mapping is no leaf, so such documents are walked instead.
                bare = valid
                for kid in child.flatten():
                    bare = pc.and_(bare, pc.is_null(kid))
                if any(get_path(docs[j], p) == {} for j in pc.indices_nonzero(bare).to_pylist()):
                    raise _Inexact
                walk(child, p, valid)
            elif f.type != pa.null():
                idx = pc.indices_nonzero(child.is_valid())
                if len(idx):
                    at.append(pc.cast(idx, pa.int64()))
                    ptrs.append(_constant(pointer(p), len(idx)))
                    vals.append(_json_values(child.take(idx)))

    try:
        walk(arr, (), None)
    except _Inexact:
        return None
    if nulls:
        at.append(pa.array([j for j, _ in nulls], pa.int64()))
        ptrs.append(pa.array([p for _, p in nulls]).dictionary_encode())
        vals.append(_constant("null", len(nulls)))
    if not at:
        return pa.array([], pa.int64()), pa.array([], _EQ_VALUE), pa.array([], _EQ_VALUE)
    return pa.concat_arrays(at), pa.concat_arrays(ptrs), pa.concat_arrays(vals)


class _Walk:
    """Leaves of documents walked in Python: the general case (any value, any key)."""

    def __init__(self) -> None:
        # distinct pointers (a trie by key) and values, and per leaf their indices
        self.ptrs: list[str] = [""]
        self.kids: list[dict[Any, int]] = [{}]
        self.vals: list[str] = []
        self.strs: dict[str, int] = {}
        self.others: dict[tuple[type, Any], int] = {}
        self.ptr_ids = array("i")
        self.val_ids = array("i")

    def val_id(self, v: Any) -> int:
        t = type(v)
        if t is str:
            i = self.strs.get(v)
            if i is None:
                i = self.strs[v] = len(self.vals)
                self.vals.append(_encode_str(v))
            return i
        cacheable = t is bool or t is int or v is None
        if cacheable and (i := self.others.get((t, v))) is not None:
            return i
        i = len(self.vals)
        self.vals.append(json_text(v))
        if cacheable:
            self.others[(t, v)] = i
        return i

    def walk(self, doc: dict[Any, Any], parent: int) -> bool:
        """Add the leaves of `doc` under pointer `parent`: mappings recurse, an empty one has
        no leaves, anything else (lists too) is one leaf. False if the leaves cannot give the
        document back exactly."""
        exact = True
        ptrs, kids, children = self.ptrs, self.kids, self.kids[parent]
        for k, v in doc.items():
            if type(k) is not str:
                exact = False
            p = children.get(k)
            if p is None:
                p = children[k] = len(ptrs)
                ptrs.append(f"{ptrs[parent]}/{str(k).replace('~', '~0').replace('/', '~1')}")
                kids.append({})
            if type(v) is dict:
                if not v or not self.walk(v, p):
                    exact = False
            else:
                if type(v) not in _PLAIN:
                    exact = False
                self.ptr_ids.append(p)
                self.val_ids.append(self.val_id(v))
        return exact


def _walk_leaves(
    docs: list[dict[Any, Any]],
) -> tuple[pa.Array, pa.Array, pa.Array, list[int]]:
    """As _arrow_leaves, walked in Python, and the indices of the documents not exact."""
    w = _Walk()
    counts = array("i")
    inexact = []
    for j, doc in enumerate(docs):
        before = len(w.ptr_ids)
        if not w.walk(doc, 0):
            inexact.append(j)
        counts.append(len(w.ptr_ids) - before)
    m = len(w.ptr_ids)
    # each leaf's document, from the per-document counts (no per-leaf Python int)
    offsets = pa.array(itertools.accumulate(counts, initial=0), pa.int32())
    ptr_idx = pa.Array.from_buffers(pa.int32(), m, [None, pa.py_buffer(w.ptr_ids)])
    val_idx = pa.Array.from_buffers(pa.int32(), m, [None, pa.py_buffer(w.val_ids)])
    at = pc.cast(pc.list_parent_indices(pa.ListArray.from_arrays(offsets, ptr_idx)), pa.int64())
    return (
        at,
        pa.DictionaryArray.from_arrays(ptr_idx, _strings(w.ptrs)),
        pa.DictionaryArray.from_arrays(val_idx, _strings(w.vals)),
        inexact,
    )


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
    Declared documents are held DOC_ROWS at a time and flattened into leaves by Arrow, type
    by type (_arrow_leaves); what Arrow cannot convert exactly is walked in Python (_Walk).

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
        # The non-empty declared documents not yet converted, their rows and their types,
        # and the leaves of those converted: (decl_id, pointer, value) arrays.
        self._docs: list[dict[Any, Any]] = []
        self._doc_rows = array("q")
        self._doc_types: list[str | None] = []
        self._parts: list[tuple[pa.Array, pa.Array, pa.Array]] = []
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
        if declared:
            self._docs.append(declared)
            self._doc_rows.append(i)
            self._doc_types.append(type)
            if len(self._docs) >= DOC_ROWS:
                self._convert()
        if checks:
            ch = self._checks
            for k in checks:
                ch[0].append(i)
                ch[1].append(pointer(k.path))
                ch[2].append(k.op)
                ch[3].append(json_text(k.value))
            self._kept[i] = (None, list(checks))
        self._n += 1
        if self._n - self._start >= self.batch_rows:
            self._flush()

    def _flush(self) -> None:
        if self._n == self._start:
            return
        self._decl_batches.append(
            pa.record_batch(
                [
                    _ids(self._start, self._n),
                    *(
                        _strings(c, t)
                        for c, t in zip(self._cols, DECL_SCHEMA.types[1:], strict=True)
                    ),
                ],
                schema=DECL_SCHEMA,
            )
        )
        self._convert()
        if self._parts:
            ids, ptrs, vals = (pa.concat_arrays(list(x)) for x in zip(*self._parts, strict=True))
            eq = _constant("eq", len(ids))
            self._leaf_batches.append(pa.record_batch([ids, ptrs, eq, vals], schema=LEAF_SCHEMA))
        if self._checks[0]:
            ch = self._checks
            self._leaf_batches.append(
                pa.record_batch(
                    [
                        pa.array(ch[0], pa.int64()),
                        *(_strings(x).dictionary_encode() for x in ch[1:]),
                    ],
                    schema=LEAF_SCHEMA,
                )
            )
        self._reset()

    def _convert(self) -> None:
        """The held documents become leaf arrays (a few thousand at a time: still in cache)."""
        if self._docs:
            self._parts.extend(self._leaf_parts())
            self._docs, self._doc_rows, self._doc_types = [], array("q"), []

    def _leaf_parts(self) -> list[tuple[pa.Array, pa.Array, pa.Array]]:
        """The batch's leaves as (decl_id, pointer, value) arrays, one part per type whose
        documents Arrow converts (the common case: a few C++ passes per field), and one
        part walked in Python for the rest."""
        docs, types = self._docs, self._doc_types
        rows = pa.Array.from_buffers(pa.int64(), len(docs), [None, pa.py_buffer(self._doc_rows)])
        if len(set(types)) == 1:
            groups: list[list[int] | None] = [None]  # one type: the whole batch at once
        else:
            by_type: dict[str | None, list[int]] = {}
            for j, t in enumerate(types):
                by_type.setdefault(t, []).append(j)
            groups = list(by_type.values())
        parts: list[tuple[pa.Array, pa.Array, pa.Array]] = []
        walked: list[int] = []
        for g in groups:
            sub = docs if g is None else [docs[j] for j in g]
            got = _arrow_leaves(sub) if len(sub) >= ARROW_MIN else None
            if got is None:
                walked.extend(range(len(docs)) if g is None else g)
                continue
            at, ptrs, vals = got
            where = rows if g is None else rows.take(pa.array(g, pa.int64()))
            parts.append((where.take(at), ptrs, vals))
        if walked:
            at, ptrs, vals, inexact = _walk_leaves([docs[j] for j in walked])
            where = rows.take(pa.array(walked, pa.int64()))
            parts.append((where.take(at), ptrs, vals))
            for j in inexact:
                i = where[j].as_py()
                self._kept[i] = (docs[walked[j]], self._kept.get(i, (None, []))[1])
        return parts

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
