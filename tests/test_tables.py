"""The struct-of-arrays table: column views, growth, writes and copies."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from sim.tables import Table


def test_columns_are_views_of_the_rows_in_use_and_follow_growth():
    t = Table({"x": float, "k": np.int32}, capacity=2)
    assert len(t.x) == 0
    rows = t.append(2, x=[1.0, 2.0], k=7)
    assert rows.tolist() == [0, 1] and t.x.tolist() == [1.0, 2.0]
    t.append(3, x=5.0)  # grows past the capacity: views must point at the new arrays
    assert t.x.tolist() == [1.0, 2.0, 5.0, 5.0, 5.0] and t.k.tolist() == [7, 7, 0, 0, 0]
    t.x[1] = -1.0  # a read view writes through
    assert t._data["x"][1] == -1.0


def test_assignment_writes_into_the_column_and_broadcasts():
    t = Table({"x": float}, capacity=4)
    t.append(3)
    view = t.x
    t.x = 2.5
    assert view.tolist() == [2.5, 2.5, 2.5]  # same storage, not a rebinding
    t.x = np.arange(3)
    assert t.x.tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError):
        t.x = np.arange(4)
    with pytest.raises(AttributeError, match="not a column"):
        t.y = 1.0
    with pytest.raises(AttributeError):
        _ = t.y


@pytest.mark.parametrize("clone", [copy.deepcopy, lambda t: pickle.loads(pickle.dumps(t))])
def test_a_copied_table_writes_into_its_own_arrays(clone):
    t = Table({"x": float}, capacity=4)
    t.append(2, x=1.0)
    c = clone(t)
    c.x = 9.0
    c.x[0] = 3.0
    assert c._data["x"][:2].tolist() == [3.0, 9.0] and t.x.tolist() == [1.0, 1.0]
    c.append(5)  # and grows on its own
    assert len(c.x) == 7 and len(t.x) == 2
