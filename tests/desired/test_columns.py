"""Declared state as columns: the loader's Arrow rows give back exactly what the objects said."""

from __future__ import annotations

import datetime
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from driftscan.config import validate_config
from driftscan.desired import Declaration, DesiredSet, load_desired, terraform
from driftscan.desired.columns import (
    ARROW_MIN,
    DeclaredTables,
    _arrow_leaves,
    columns,
    label,
    pointer,
)
from driftscan.desired.declaration import Check, json_text
from driftscan.desired.yaml import load_file
from driftscan.drift import compare
from driftscan.redaction import Fingerprinter, load_fingerprinter
from driftscan.store import Store
from tests.conftest import make_resources, make_run, write

DATA = Path(__file__).resolve().parents[1] / "data"


def _entries() -> list[dict[str, str]]:
    return [{"path": "desired/"}, {"terraform": "desired_tf/terraform.tfstate"}]


def _objects(fp: Fingerprinter | None) -> tuple[list[Declaration], terraform.TfLoad]:
    """The same inputs through the object path: each file's Declarations, then Terraform's."""
    out: list[Declaration] = []
    for f in ("desired/cloud.yaml", "desired/hosts/web.yaml"):
        out.extend(load_file(DATA / f, f))
    tf = terraform.TfLoad(fingerprint=fp)
    terraform.load("desired_tf/terraform.tfstate", DATA / "desired_tf/terraform.tfstate",
                   key="desired[1].terraform", out=tf, display=lambda p: str(p.relative_to(DATA)))  # fmt: skip
    return out + tf.declarations, tf


def _leaves(doc: dict[Any, Any], prefix: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    out = []
    for k, v in doc.items():
        if isinstance(v, dict):
            out.extend(_leaves(v, (*prefix, k)))
        else:
            out.append(((*prefix, k), v))
    return out


def _rows(decls: list[Declaration]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Reference rows, computed the obvious way from the objects."""
    d_rows, l_rows = [], []
    for i, d in enumerate(decls):
        lab = None if d.key is not None else label(d.provider, d.type, d.account, d.region, d.name)
        d_rows.append((i, d.key, lab, d.provider, d.account, d.region, d.type, d.name, d.source,
                       d.presence_only))  # fmt: skip
        l_rows += [(i, pointer(p), "eq", json_text(v)) for p, v in _leaves(d.declared)]
        l_rows += [(i, pointer(c.path), c.op, json_text(c.value)) for c in d.checks]
    return d_rows, sorted(l_rows)


def _table_rows(t: DeclaredTables) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    d = list(zip(*(t.decls[c].to_pylist() for c in t.decls.column_names), strict=True))
    leaves = zip(*(t.leaves[c].to_pylist() for c in t.leaves.column_names), strict=True)
    return d, sorted(leaves)


def _odd() -> list[Declaration]:
    """Documents the leaves alone cannot give back: empty mappings, lists, dates, int keys."""
    return [
        Declaration("arn:aws:s3:::b-1", "aws", "AWS::S3::Bucket", "x.yaml:1",
                    declared={"a": {"b": {"c": "d"}, "e": 1}, "versioning": "Enabled"}),
        Declaration("arn:aws:s3:::b-2", "aws", "AWS::S3::Bucket", "x.yaml:2",
                    declared={"policy": {}, "rules": [{"port": 443}], "n": None}),
        Declaration("arn:aws:s3:::b-3", "aws", "AWS::S3::Bucket", "x.yaml:3",
                    declared={"since": datetime.date(2024, 1, 1), 7: "seven", "f": 1.5}),
        Declaration(None, "aws", "AWS::S3::Bucket", "x.yaml:4", region="eu-west-1", name="b-4",
                    declared={"x~/y": {"z": True}}),
        Declaration("ssh://h", "ssh", "host", "h.yaml:1", declared={"packages": {"a": "1"}},
                    checks=[Check(("packages", "openssl"), "min_version", "3.0.13"),
                            Check(("certs", "/p.pem", "days_left"), "min", 30)]),
        Declaration("arn:aws:iam::1:role/r", "aws", "AWS::IAM::Role", "t#r", presence_only=True),
    ]  # fmt: skip


class TestColumns:
    def test_loaded_columns_equal_the_object_path(self) -> None:
        """load_desired's columns hold the rows the objects give, and rebuild the same objects."""
        cfg = validate_config({"desired": _entries()}, {}, "driftscan.yaml", DATA)
        fp = load_fingerprinter(cfg.key_path, create=False)
        ds = load_desired(cfg, fp)
        objects, tf = _objects(fp)
        assert any(d.checks for d in objects) and any(d.presence_only for d in objects)
        assert tf.presence_only and tf.skipped  # the fixture has both kinds of count
        assert (ds.presence_only, ds.skipped) == (tf.presence_only, tf.skipped)
        assert _table_rows(ds.tables()) == _rows(objects)
        assert ds.declarations == objects

    @pytest.mark.parametrize("batch_rows", [1, 2, 4, 1000])
    def test_batches_change_nothing(self, batch_rows: int) -> None:
        """However the rows are cut into batches, the rows and the rebuilt objects are the same."""
        decls = _odd()
        t = columns(decls, batch_rows=batch_rows)
        assert len(t.decls.to_batches()) == -(-len(decls) // batch_rows)  # bounded batches
        assert _table_rows(t) == _rows(decls)
        assert list(t.declarations().values()) == decls
        assert t.declarations([4, 1]) == {1: decls[1], 4: decls[4]}

    def test_only_inexact_documents_are_kept_as_objects(self) -> None:
        """Plain documents are rebuilt from leaves; only the inexact and those with checks are kept."""
        assert sorted(columns(_odd()).kept) == [1, 2, 4]

    def test_diff_of_columns_equals_diff_of_objects(self, tmp_path: Path) -> None:
        """The engine reports the same drift from a loaded (columnar) set as from its objects."""
        decls = [
            Declaration(f"arn:aws:s3:::bucket-{i:06d}", "aws", "AWS::S3::Bucket", f"a.yaml:{i}",
                        declared={"versioning": "Enabled", "tags": {"team": "t0"}, "x": {}})
            for i in range(6)
        ]  # fmt: skip
        with Store(tmp_path / "s.duckdb") as st:
            write(st, [make_run(make_resources(5, change={2: {"versioning": "Suspended"}}))])
            by_objects = compare(st, DesiredSet(list(decls))).doc()
            by_columns = compare(st, DesiredSet(columns=columns(decls, batch_rows=2))).doc()
        assert by_objects == by_columns
        assert {c["resource"] for c in by_columns["changes"]} >= {"arn:aws:s3:::bucket-000002"}

    def test_schemas_are_the_stores(self) -> None:
        """The loader's columns have the schemas the store's drift session registers."""
        import driftscan.store.drift as sd
        from driftscan.desired.columns import DECL_SCHEMA, LEAF_SCHEMA

        assert (sd.DECL_SCHEMA, sd.LEAF_SCHEMA) == (DECL_SCHEMA, LEAF_SCHEMA)


_KEYS = ("a", "b/c", "d~e", "", "tags", "n")


def _shape(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    """A document shape: per key a leaf type or a nested shape (the same in every document)."""
    out: dict[str, Any] = {}
    for k in rng.sample(_KEYS, rng.randint(1, len(_KEYS))):
        out[k] = _shape(rng, depth + 1) if depth < 2 and rng.random() < 0.3 else rng.choice(
            (str, bool, int, type(None)))  # fmt: skip
    return out


def _doc(rng: random.Random, shape: dict[str, Any]) -> dict[str, Any]:
    """A document of `shape`: each key present, absent or declared null at random."""
    out: dict[str, Any] = {}
    for k, t in shape.items():
        r = rng.random()
        if r < 0.15:
            continue  # absent
        if r < 0.25:
            out[k] = None  # declared null: Arrow alone would read it as absent
        elif isinstance(t, dict):
            sub = _doc(rng, t)
            if sub:
                out[k] = sub
        else:
            out[k] = {str: lambda: rng.choice(("x", 'q"t', "ü", "")), bool: lambda: rng.random() < 0.5,
                      int: lambda: rng.randint(-(2**62), 2**62), type(None): lambda: None}[t]()  # fmt: skip
    return out


def _estate(seed: int, types: int, per_type: int) -> list[Declaration]:
    """Declarations of several types interleaved, each type's documents of one random shape."""
    rng = random.Random(seed)
    shapes = [_shape(rng) for _ in range(types)]
    out = []
    for i in range(types * per_type):
        t = rng.randrange(types)
        out.append(
            Declaration(f"k-{i}", "aws", f"T{t}", f"f.yaml:{i}", declared=_doc(rng, shapes[t]))
        )
    return out


def _among(sibling: Callable[[int], dict[str, Any]], odd: dict[Any, Any]) -> list[Declaration]:
    """2 × ARROW_MIN declarations of one type, `sibling(i)` each, the one at ARROW_MIN `odd`."""
    decls = [
        Declaration(f"k-{i}", "aws", "T", "f", declared=sibling(i)) for i in range(2 * ARROW_MIN)
    ]
    decls[ARROW_MIN] = Declaration("odd", "aws", "T", "f", declared=odd)
    return decls


class TestArrowLeaves:
    """Arrow flattens documents of one shape; its leaves must be the ones a walk gives."""

    @pytest.mark.parametrize("seed", range(6))
    def test_arrow_leaves_equal_the_walk(self, seed: int) -> None:
        decls = _estate(seed, types=3, per_type=2 * ARROW_MIN)
        docs = [d.declared for d in decls if d.declared and d.type == "T0"]
        assert _arrow_leaves(docs) is not None  # the Arrow path is the one under test
        t = columns(decls, batch_rows=300)
        assert _table_rows(t) == _rows(decls)
        assert t.kept == {}  # every document is exact: rebuilt from its leaves
        assert list(t.declarations().values()) == decls

    def test_declared_null_is_a_leaf_and_absent_is_none(self) -> None:
        """`key: null` is declared (compared against null); an absent key is not declared."""
        decls = [Declaration(f"k-{i}", "aws", "T", "f", declared={"a": {"b": 1}, "c": "x"}
                             if i % 2 else {"a": None, "d": {"e": None}}) for i in range(2 * ARROW_MIN)]  # fmt: skip
        leaves = {(r[0] % 2, r[1], r[3]) for r in _table_rows(columns(decls))[1]}
        assert leaves == {
            (1, "/a/b", "1"),
            (1, "/c", '"x"'),
            (0, "/a", "null"),
            (0, "/d/e", "null"),
        }

    @pytest.mark.parametrize(
        ("odd", "exact"),
        [
            ({"a": 1.5}, False),  # a float
            ({"a": [1, 2]}, False),  # a list
            ({"a": {}}, False),  # an empty mapping
            ({7: "seven"}, False),  # a key that is not a string
            ({"a": datetime.date(2024, 1, 1)}, False),
            ({"a": 2**70}, True),  # beyond int64 (its JSON text gives it back)
            ({"a": "text"}, True),  # another type than its siblings' int
            ({"a": True}, True),  # a bool where the siblings have ints
            ({"a": {"b": 1}}, True),  # a mapping where the siblings have ints
        ],
    )
    def test_what_arrow_cannot_convert_exactly_is_walked(
        self, odd: dict[Any, Any], exact: bool
    ) -> None:
        """One odd document among many plain ones: the rows are the walk's, and only the
        inexact documents are kept whole."""
        decls = _among(lambda i: {"a": i, "b": "x"}, odd)
        assert _arrow_leaves([d.declared for d in decls]) is None
        t = columns(decls)
        assert _table_rows(t) == _rows(decls)
        assert list(t.declarations().values()) == decls
        assert sorted(t.kept) == ([] if exact else [ARROW_MIN])

    @pytest.mark.parametrize("empty", [{"m": {}}, {"m": {"n": {}}}, {"m": {"n": {}, "o": None}}])
    def test_an_empty_mapping_among_full_ones_is_walked(self, empty: dict[str, Any]) -> None:
        """`m: {}` where the siblings have `m: {n: {x: 1}}` converts, but has no leaf to give
        it back: those documents are walked, and the empty one kept whole."""
        decls = _among(lambda i: {"m": {"n": {"x": i}, "o": 1}}, empty)
        assert _arrow_leaves([d.declared for d in decls]) is None
        t = columns(decls)
        assert _table_rows(t) == _rows(decls)
        assert list(t.declarations().values()) == decls
        assert sorted(t.kept) == [ARROW_MIN]

    def test_a_lone_surrogate_is_walked(self) -> None:
        """A string Arrow cannot encode as UTF-8 (JSON's "\\ud800" parses to one) is walked
        in Python, where its JSON text escapes it: no crash, the same rows."""
        decls = _among(lambda i: {"a": "x"}, {"a": "\ud800"})
        assert _arrow_leaves([d.declared for d in decls]) is None
        t = columns(decls)
        d_rows, l_rows = _rows(decls)
        want = [(*r[:3], json.dumps(json.loads(r[3]))) for r in l_rows]  # JSON's own escape
        assert _table_rows(t) == (d_rows, want)
        assert list(t.declarations().values()) == decls
