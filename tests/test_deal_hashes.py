"""A batch hashes its deals once: the forecast hierarchies' cache key and the deals' fingerprint share the row hashes.

Pins :func:`reportkit.core.hashing.row_hashes` as the one rule both use, that the row hashes
given to :func:`reportkit.domain.restatement.deal_fingerprint` and
:func:`reportkit.domain.forecast_models.hierarchy_key` give what they compute themselves, and
that inside :func:`reportkit.reports.context.shared_contexts` the deals are hashed once.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from reportkit.core import hashing
from reportkit.data.mapping import load_dataset
from reportkit.domain.forecast_models import hierarchy_key
from reportkit.domain.restatement import deal_fingerprint
from reportkit.reports import context

DEMO_SOURCE = Path(__file__).resolve().parents[1] / "params" / "sources" / "demo.yaml"


@pytest.fixture(scope="module")
def ds():
    return load_dataset(DEMO_SOURCE)


def test_the_fingerprint_from_given_row_hashes_is_the_fingerprint_it_computes(ds):
    rows = hashing.row_hashes(ds.deals)[0]
    pd.testing.assert_frame_equal(deal_fingerprint(ds.deals, rows=rows), deal_fingerprint(ds.deals), check_exact=True)


def test_the_hierarchy_key_from_given_row_hashes_is_the_key_it_computes(ds):
    rows = {"deals": hashing.row_hashes(ds.deals)[0]}
    assert hierarchy_key(ds, 1, "x", rows=rows) == hierarchy_key(ds, 1, "x")


def test_the_hierarchy_key_changes_with_any_deal_cell_its_index_or_a_column_type(ds):
    from dataclasses import replace

    key = hierarchy_key(ds, 1)
    changed = ds.deals.copy()
    changed.loc[changed.index[-1], "account_id"] = "another account"
    reindexed = ds.deals.set_axis(ds.deals.index + 1)
    retyped = ds.deals.astype({"amount_cents": "float64"})
    others = [hierarchy_key(replace(ds, deals=d), 1) for d in (changed, reindexed, retyped)]
    assert len({key, *others}) == 4
    assert hierarchy_key(replace(ds, deals=ds.deals.copy()), 1) == key  # the same content: the same key


def test_inside_a_batchs_shared_contexts_the_deals_are_hashed_once(ds, monkeypatch):
    calls = []
    real = context.row_hashes
    monkeypatch.setattr(context, "row_hashes", lambda frame, *a: calls.append(frame) or real(frame, *a))
    with context.shared_contexts():
        first = context.deal_row_hashes(ds.deals)
        assert context.deal_row_hashes(ds.deals) is first
    assert len(calls) == 1
    context.deal_row_hashes(ds.deals)  # outside every block nothing is kept: the deals may have changed
    assert len(calls) == 2
